"""Smoke check of the sklearn-extension image.

Run inside the image:
    docker run --rm IMAGE python /usr/local/share/sagemaker-sklearn/check_extension.py
or from stdin:
    docker run --rm -i IMAGE python - < images/extension/check_extension.py

Optional first argument: the scikit-learn version the image must have
(default: $SKLEARN_VERSION, set in the extension image). Exits non-zero on any failure.
Prints one line per check and a closing "N passed, N failed" line.
"""

import contextlib
import io
import os
import sys
import traceback
import warnings

warnings.filterwarnings("ignore")
# tsfresh would otherwise start a process pool; keep the check small and deterministic.
os.environ.setdefault("SAGEMAKER_PROGRAM", "sagemaker_serve")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import scipy.sparse as sp  # noqa: E402
import sklearn  # noqa: E402

RESULTS = []


def check(name):
    def wrap(fn):
        try:
            # tsfresh draws tqdm progress bars on stderr: keep the report readable
            with contextlib.redirect_stderr(io.StringIO()):
                detail = fn()
            RESULTS.append((name, True))
            print(f"PASS {name:<32} {detail or ''}")
        except Exception:
            RESULTS.append((name, False))
            print(f"FAIL {name}")
            traceback.print_exc(file=sys.stdout)
        return fn

    return wrap


def shape(a):
    return "shape={}{}".format(tuple(a.shape), " sparse" if sp.issparse(a) else "")


def dense(a):
    return a.toarray() if sp.issparse(a) else np.asarray(a)


rng = np.random.RandomState(0)
N = 40
FRAME = pd.DataFrame(
    {
        "num_a": np.where(rng.rand(N) < 0.1, np.nan, rng.normal(10.0, 2.0, N)),
        "num_b": rng.randint(0, 100, N).astype(float),
        "cat": rng.choice(["red", "green", "blue", "rare"], N, p=[0.4, 0.3, 0.27, 0.03]),
        "when": pd.date_range("2021-01-01", periods=N, freq="37h").strftime("%Y-%m-%d %H:%M:%S"),
        "text": rng.choice(
            ["the quick brown fox", "lazy dogs sleep", "quick quick fox jumps", "hello world"], N
        ),
        "text2": rng.choice(["alpha beta", "beta gamma", "gamma delta alpha"], N),
        "seq": [
            ",".join(f"{v:.3f}" for v in rng.normal(size=rng.randint(5, 12))) for _ in range(N)
        ],
    }
)

expected = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("SKLEARN_VERSION")


@check("sklearn version")
def _():
    print("sklearn", sklearn.__version__)
    if expected and sklearn.__version__ != expected:
        raise AssertionError(f"scikit-learn {sklearn.__version__}, expected {expected}")
    return sklearn.__version__


@check("import sagemaker_sklearn_extension")
def _():
    import importlib

    mods = [
        "sagemaker_sklearn_extension",
        "sagemaker_sklearn_extension.impute",
        "sagemaker_sklearn_extension.preprocessing",
        "sagemaker_sklearn_extension.feature_extraction.date_time",
        "sagemaker_sklearn_extension.feature_extraction.text",
        "sagemaker_sklearn_extension.feature_extraction.sequences",
        "sagemaker_sklearn_extension.decomposition",
    ]
    for m in mods:
        importlib.import_module(m)
    from importlib.metadata import version

    return "version {}".format(version("sagemaker-scikit-learn-extension"))


@check("RobustImputer")
def _():
    from sagemaker_sklearn_extension.impute import RobustImputer

    X = FRAME[["num_a", "num_b"]].to_numpy()
    out = RobustImputer(strategy="median").fit_transform(X)
    assert out.shape == X.shape and np.isfinite(out).all()
    return shape(out)


@check("RobustImputer on a str DataFrame")
def _():
    from sagemaker_sklearn_extension.impute import RobustImputer

    # pandas >= 3 stores text as the str dtype and hands it to numpy read-only
    frame = pd.DataFrame({"n": ["1.5", "oops", "2", "inf"], "s": ["a", "b", "?", "a"]})
    out = RobustImputer(strategy="constant", fill_values=0.0).fit_transform(frame[["n"]])
    assert out.ravel().tolist() == [1.5, 0.0, 2.0, 0.0], out
    imputer = RobustImputer(
        dtype=np.dtype("O"), strategy="constant", fill_values="z", mask_function=lambda x: x != "?"
    )
    out = imputer.fit_transform(frame[["s"]])
    assert out.ravel().tolist() == ["a", "b", "z", "a"], out
    return f"pandas {pd.__version__} {frame['n'].dtype}"


@check("NALabelEncoder")
def _():
    from sagemaker_sklearn_extension.preprocessing import NALabelEncoder

    y = np.array(["1.1", "hello", "1", "inf"])
    out = NALabelEncoder().fit(y).transform(y)  # constant NaN fill: the column must be kept
    assert out.shape == (4,) and out[0] == 1.1 and np.isnan(out[1]) and np.isnan(out[3]), out
    return shape(out)


@check("RobustMissingIndicator")
def _():
    from sagemaker_sklearn_extension.impute import RobustMissingIndicator

    X = FRAME[["num_a", "num_b"]].to_numpy()
    out = RobustMissingIndicator().fit_transform(X)
    assert out.shape == X.shape and dense(out)[:, 0].sum() == np.isnan(X[:, 0]).sum()
    return shape(out)


@check("RobustStandardScaler")
def _():
    from sagemaker_sklearn_extension.impute import RobustImputer
    from sagemaker_sklearn_extension.preprocessing import RobustStandardScaler

    X = RobustImputer().fit_transform(FRAME[["num_a", "num_b"]].to_numpy())
    out = RobustStandardScaler().fit_transform(X)
    assert np.allclose(out.std(axis=0), 1.0, atol=1e-6)
    out_sparse = RobustStandardScaler().fit_transform(sp.csr_matrix(X))
    assert sp.issparse(out_sparse)
    return shape(out)


@check("ThresholdOneHotEncoder")
def _():
    from sagemaker_sklearn_extension.preprocessing import ThresholdOneHotEncoder

    X = FRAME[["cat"]].to_numpy()
    enc = ThresholdOneHotEncoder(threshold=3).fit(X)
    out = enc.transform(X)
    assert out.shape[0] == N
    assert "rare" not in set(enc.categories_[0]), enc.categories_
    assert dense(out).sum() <= N
    return f"{shape(out)} categories={list(enc.categories_[0])}"


@check("ThresholdOneHotEncoder numeric")
def _():
    from sagemaker_sklearn_extension.preprocessing import ThresholdOneHotEncoder

    # column 0: frequent numeric codes; column 1: no value reaches the threshold
    X = np.c_[rng.randint(0, 3, N), np.arange(N)]
    enc = ThresholdOneHotEncoder(threshold=5, sparse=False).fit(X)
    out = enc.transform(np.r_[X, [[7, 1000]]])
    assert out.shape == (N + 1, 4) and out[:, 3].sum() == 0 and out[-1].sum() == 0, out
    return shape(out)


@check("WOEEncoder")
def _():
    from sagemaker_sklearn_extension.preprocessing import WOEEncoder

    X = FRAME[["cat"]].to_numpy()
    y = (FRAME["num_b"] > 50).astype(int).to_numpy()
    out = WOEEncoder().fit_transform(X, y)
    assert out.shape == (N, 1) and np.isfinite(out).all()
    return shape(out)


@check("RobustOrdinalEncoder")
def _():
    from sagemaker_sklearn_extension.preprocessing import RobustOrdinalEncoder

    X = FRAME[["cat"]].to_numpy()
    enc = RobustOrdinalEncoder(threshold=3).fit(X)
    out = enc.transform(np.array([["red"], ["never-seen"]], dtype=object))
    assert out[0, 0] < len(enc.categories_[0]) and out[1, 0] == len(enc.categories_[0]), out
    return shape(out)


@check("RobustLabelEncoder")
def _():
    from sagemaker_sklearn_extension.preprocessing import RobustLabelEncoder

    enc = RobustLabelEncoder().fit(FRAME["cat"].to_numpy())
    out = enc.transform(np.array(["red", "blue", "purple"]))
    assert list(out[:2]) == [list(enc.classes_).index("red"), list(enc.classes_).index("blue")]
    assert out[2] == len(enc.classes_)
    back = enc.inverse_transform(np.array([0, len(enc.classes_)]))
    assert back[1] == "<unseen_label>", back
    return f"classes={list(enc.classes_)}"


@check("DateTimeVectorizer")
def _():
    from sagemaker_sklearn_extension.feature_extraction.date_time import DateTimeVectorizer

    X = FRAME[["when"]].to_numpy()
    out = DateTimeVectorizer(mode="cyclic").fit_transform(X)
    assert out.shape[0] == N and out.shape[1] > 0 and np.isfinite(out).all()
    return shape(out)


@check("MultiColumnTfidfVectorizer")
def _():
    from sagemaker_sklearn_extension.feature_extraction.text import MultiColumnTfidfVectorizer

    X = FRAME[["text", "text2"]].to_numpy()
    vec = MultiColumnTfidfVectorizer().fit(X)
    out = vec.transform(X)
    assert out.shape[0] == N and out.shape[1] >= 8
    return shape(out)


@check("TSFlattener")
def _():
    from sagemaker_sklearn_extension.feature_extraction.sequences import TSFlattener

    X = FRAME[["seq"]].to_numpy()
    out = TSFlattener().fit_transform(X)  # a list of 1-d float arrays, one per row
    assert len(out) == N and all(isinstance(a, np.ndarray) and a.dtype.kind == "f" for a in out)
    assert len(out[0]) == len(FRAME["seq"][0].split(","))
    return f"{len(out)} sequences, lengths {min(map(len, out))}..{max(map(len, out))}"


@check("TSFreshFeatureExtractor")
def _():
    from sagemaker_sklearn_extension.feature_extraction.sequences import (
        TSFlattener,
        TSFreshFeatureExtractor,
    )

    flat = TSFlattener().fit_transform(FRAME[["seq"]].to_numpy())
    out = np.asarray(
        TSFreshFeatureExtractor(extraction_type="minimal").fit_transform(flat), dtype=float
    )
    assert out.shape[0] == N and out.shape[1] > 0 and np.isfinite(out).all()
    return shape(out)


@check("TSFeatureExtractor efficient")
def _():
    from sagemaker_sklearn_extension.feature_extraction.sequences import TSFeatureExtractor

    # defaults as Autopilot uses them: efficient tsfresh features, augment with hybrid interpolation
    ext = TSFeatureExtractor(extraction_type="efficient", augment=True)
    out = np.asarray(ext.fit_transform(FRAME[["seq"]].to_numpy()), dtype=float)
    assert out.shape[0] == N and out.shape[1] > 100 and np.isfinite(out).all()
    return shape(out)


@check("TSFeatureExtractor all (stumpy)")
def _():
    import stumpy
    import tsfresh
    from sagemaker_sklearn_extension.feature_extraction.sequences import TSFeatureExtractor

    X = FRAME[["seq"]].to_numpy()[:10]
    out = np.asarray(TSFeatureExtractor(extraction_type="all").fit_transform(X), dtype=float)
    assert out.shape[0] == 10 and np.isfinite(out).all()
    return f"{shape(out)} tsfresh {tsfresh.__version__} stumpy {stumpy.__version__}"


@check("clone and estimator tags")
def _():
    from sagemaker_sklearn_extension import decomposition, feature_extraction, impute, preprocessing
    from sagemaker_sklearn_extension.externals import AutoMLTransformer
    from sklearn.base import BaseEstimator, clone

    classes = {AutoMLTransformer}
    for module in (
        decomposition,
        feature_extraction.date_time,
        feature_extraction.sequences,
        feature_extraction.text,
        impute,
        preprocessing,
    ):
        classes |= {
            c
            for c in vars(module).values()
            if isinstance(c, type)
            and issubclass(c, BaseEstimator)
            and c.__module__.startswith("sagemaker_sklearn_extension")
        }
    tagged = 0
    for cls in sorted(classes, key=lambda c: c.__name__):
        if cls.__name__.startswith("Base"):
            continue
        est = cls(None, None, None) if cls is AutoMLTransformer else cls()
        clone(est)
        if hasattr(est, "__sklearn_tags__"):  # scikit-learn >= 1.6 reads tags only from there
            from sklearn.utils import get_tags

            tags = get_tags(est)
            if "_more_tags" in vars(cls):
                assert "__sklearn_tags__" in vars(cls), f"{cls.__name__}: _more_tags only"
                tagged += 1
            if issubclass(cls, sklearn.base.TransformerMixin):
                assert tags.transformer_tags is not None, f"{cls.__name__}: no transformer tags"
    return f"{len(classes)} estimators, {tagged} with __sklearn_tags__ from _more_tags"


@check("Pipeline / ColumnTransformer")
def _():
    from sagemaker_sklearn_extension.feature_extraction.date_time import DateTimeVectorizer
    from sagemaker_sklearn_extension.feature_extraction.text import MultiColumnTfidfVectorizer
    from sagemaker_sklearn_extension.impute import RobustImputer
    from sagemaker_sklearn_extension.preprocessing import (
        RobustStandardScaler,
        ThresholdOneHotEncoder,
    )
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline, make_pipeline

    features = ColumnTransformer(
        [
            ("num", make_pipeline(RobustImputer(), RobustStandardScaler()), [0, 1]),
            ("cat", ThresholdOneHotEncoder(threshold=3), [2]),
            ("dt", DateTimeVectorizer(), [3]),
            ("txt", MultiColumnTfidfVectorizer(), [4, 5]),
        ]
    )
    X = FRAME[["num_a", "num_b", "cat", "when", "text", "text2"]].to_numpy(dtype=object)
    y = (FRAME["num_b"] > 50).astype(int).to_numpy()
    model = Pipeline([("features", features), ("clf", LogisticRegression(max_iter=500))]).fit(X, y)
    acc = (model.predict(X) == y).mean()
    return f"train accuracy={acc:.2f}"


passed = sum(ok for _, ok in RESULTS)
failed = len(RESULTS) - passed
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
