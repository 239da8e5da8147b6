"""Forest predictions without scikit-learn's per-tree dispatch.

``RandomForestClassifier.predict`` sends every tree through joblib (even with
``n_jobs=None``), with a configuration context and input checks per tree: for
a 100-tree forest that fixed cost is about three times the trees' own work on
a typical request, and it is what limits a serving worker's throughput.

``predict`` below does the same arithmetic in the same order - each tree's
``predict_proba``/``predict`` on float32 input, summed in ``estimators_``
order, divided by the tree count, then ``classes_[argmax]`` - so its answers
are identical to ``model.predict``. It covers only the plain single-output
forests on a finite numeric 2-D array of the fitted width; for anything else
it returns None and the caller uses ``model.predict``, which also produces
scikit-learn's own error messages.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_FOREST_MODULE = "sklearn.ensemble._forest"
_CLASSIFIERS = ("RandomForestClassifier", "ExtraTreesClassifier")
_REGRESSORS = ("RandomForestRegressor", "ExtraTreesRegressor")


def _plain_input(model: Any, data: Any) -> np.ndarray | None:
    """The float32 array scikit-learn would predict on, or None to leave it to scikit-learn."""
    if not isinstance(data, np.ndarray) or data.ndim != 2 or data.dtype.kind not in "biuf":
        return None
    # Fitted with column names (a DataFrame): scikit-learn checks them; so do we, by not going fast.
    if hasattr(model, "feature_names_in_") or data.shape[1] != getattr(model, "n_features_in_", -1):
        return None
    X = np.ascontiguousarray(data, dtype=np.float32)
    if X.shape[0] == 0 or not np.isfinite(X).all():
        return None  # empty input, NaN or inf: scikit-learn's rules (errors, missing values)
    return X


def predict(model: Any, data: Any) -> np.ndarray | None:
    """``model.predict(data)`` for a plain forest, or None when the fast path does not apply."""
    # Exact classes, by name: a subclass may predict differently, and importing
    # scikit-learn here would cost every serving worker its memory before a model needs it.
    kind = type(model)
    if kind.__module__ != _FOREST_MODULE or kind.__name__ not in _CLASSIFIERS + _REGRESSORS:
        return None
    if getattr(model, "n_outputs_", None) != 1 or not getattr(model, "estimators_", None):
        return None
    X = _plain_input(model, data)
    if X is None:
        return None
    if kind.__name__ in _CLASSIFIERS:
        proba = np.zeros((X.shape[0], model.n_classes_), dtype=np.float64)
        for tree in model.estimators_:
            proba += tree.predict_proba(X, check_input=False)
        proba /= len(model.estimators_)
        return model.classes_.take(np.argmax(proba, axis=1), axis=0)
    total = np.zeros(X.shape[0], dtype=np.float64)
    for tree in model.estimators_:
        total += tree.predict(X, check_input=False)
    total /= len(model.estimators_)
    return total
