"""The forest fast path answers exactly what model.predict answers, or stands aside."""

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    RandomForestClassifier,
    RandomForestRegressor,
)

from sagemaker_sklearn_container import forest


class MyForest(RandomForestClassifier):
    """A subclass may predict differently: never taken over."""


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("kind", [RandomForestClassifier, ExtraTreesClassifier])
def test_classifiers_identical_to_predict(kind, seed):
    rng = np.random.default_rng(seed)
    rows, width, classes = (
        int(rng.integers(20, 200)),
        int(rng.integers(1, 10)),
        int(rng.integers(2, 6)),
    )
    X = rng.normal(size=(rows, width))
    y = rng.integers(0, classes, size=rows)
    if seed % 3 == 0:
        y = np.array(["cat", "dog", "eel", "fox", "gnu"])[y]  # string labels
    model = kind(
        n_estimators=int(rng.integers(1, 40)),
        max_depth=None if seed % 2 else 3,
        class_weight="balanced" if seed % 2 else None,
        random_state=seed,
    ).fit(X, y)
    for test in (rng.normal(size=(97, width)) * 3, X[:1], X.astype(np.float32), X.astype(int)):
        fast = forest.predict(model, test)
        assert fast is not None
        np.testing.assert_array_equal(fast, model.predict(test))


@pytest.mark.parametrize("kind", [RandomForestRegressor, ExtraTreesRegressor])
def test_regressors_identical_to_predict(kind):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(150, 5))
    model = kind(n_estimators=25, random_state=0).fit(X, X @ rng.normal(size=5))
    test = rng.normal(size=(64, 5))
    np.testing.assert_array_equal(forest.predict(model, test), model.predict(test))


def test_stands_aside_when_scikit_learn_must_decide():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), rng.integers(0, 2, size=40)
    model = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    with_nan = X.copy()
    with_nan[0, 0] = np.nan
    for data in (X[:, :2], with_nan, X[:0], X.astype(str), X.tolist(), X[0]):
        assert forest.predict(model, data) is None
    assert forest.predict(MyForest(n_estimators=3).fit(X, y), X) is None
    assert forest.predict(GradientBoostingClassifier(n_estimators=3).fit(X, y), X) is None
    assert forest.predict(RandomForestClassifier(n_estimators=3).fit(X, np.c_[y, y]), X) is None
    named = RandomForestClassifier(n_estimators=3).fit(pd.DataFrame(X, columns=list("abc")), y)
    assert forest.predict(named, X) is None
    assert forest.predict(RandomForestClassifier(), X) is None  # not fitted
