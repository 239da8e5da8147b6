"""Make sagemaker-scikit-learn-extension 2.5.0 work with today's scikit-learn, numpy and pandas.

One script for every line (scikit-learn 1.2.1 / numpy 1.26 / pandas 2.2 up to scikit-learn
1.9.1 / numpy 2.5 / pandas 3.1): where versions differ, the code it adds detects the API
(hasattr / signatures), never version numbers.

sagemaker-scikit-learn-extension 2.5.0 (the last release on PyPI) was written for
scikit-learn 0.23 / numpy < 1.20 / pandas 1.x. Today its modules do not import and its
estimators rely on removed APIs:
  - sklearn.preprocessing.label (_encode, _encode_check_unknown) is gone (0.24);
  - sklearn.feature_extraction.text.VectorizerMixin became _VectorizerMixin (0.24);
  - check_array(force_all_finite=) became ensure_all_finite= (1.6; the old name is gone in 1.8);
  - estimator tags: 1.6 reads __sklearn_tags__ (a Tags object) and ignores _more_tags
    (dicts), and checks that TransformerMixin comes before BaseEstimator in the bases;
  - OneHotEncoder(sparse=...) was removed in 1.4 (now sparse_output=...);
  - OneHotEncoder._validate_keywords() is gone (parameter validation moved to fit);
  - OneHotEncoder.fit now caches drop_idx_ / _n_features_outs and, since 1.1, groups
    infrequent categories when max_categories is set (the extension's own
    max_categories would switch that on), so categories_ edited after fit must be
    followed by a recomputation of those;
  - check_X_y/check_array refuse string arrays with dtype="numeric" since 1.0 (WOEEncoder);
  - numpy: np.float / np.int were removed in 1.24, np.find_common_type in 2.0;
  - pandas: groupby().apply prepends the group key (2.0) and drops the grouping column
    (3.0), stack(dropna=) and interpolate(method="ffill"/"bfill") are gone in 3.0;
externals.read_data imports AWS's mlio, which is not on PyPI: it falls back to
mlio_compat.py (the same API subset on pyarrow.csv), copied in as externals/_mlio_compat.py.
The version-dependent helpers go into the package as _sklearn_compat.py (COMPAT below).

This script edits the installed package in place with exact text replacements. Every
replacement must match exactly once, so a different extension version fails the build
loudly instead of being half-patched. Usage:
    python patch_extension_sklearn.py            # patch the installed package
    python patch_extension_sklearn.py --check    # only report whether it is patched
"""

# ruff: noqa: E501 - the replacement texts are the exact lines of the package's source

import importlib.util
import os
import shutil
import sys

MARK = "# patched for current scikit-learn (images/extension/patch_extension_sklearn.py)"

# Written into the package as _sklearn_compat.py.
COMPAT = '''"""scikit-learn / numpy compatibility for sagemaker-scikit-learn-extension 2.5.0.

Written by images/extension/patch_extension_sklearn.py. Detects the installed API, so the
same code runs on scikit-learn 1.2 to 1.9 and numpy 1.26 to 2.x.
"""

import inspect

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import validation as _validation
from sklearn.utils._encode import _check_unknown as _encode_check_unknown  # noqa: F401
from sklearn.utils._encode import _encode as _sk_encode
from sklearn.utils._encode import _unique as _sk_unique


def _encode(values, uniques=None, encode=False, check_unknown=True):
    """scikit-learn 0.23 ``sklearn.preprocessing.label._encode`` on top of sklearn.utils._encode."""
    if uniques is None:
        if encode:
            return _sk_unique(values, return_inverse=True)
        return _sk_unique(values)
    if encode:
        return uniques, _sk_encode(values, uniques=uniques, check_unknown=check_unknown)
    return uniques


# check_array's force_all_finite is ensure_all_finite since scikit-learn 1.6 (1.8 dropped the old name).
_FINITE = "ensure_all_finite" if "ensure_all_finite" in inspect.signature(_validation.check_array).parameters else "force_all_finite"


def check_array(array, *args, force_all_finite=True, **kwargs):
    """sklearn.utils.validation.check_array taking the extension's force_all_finite."""
    kwargs[_FINITE] = force_all_finite
    out = _validation.check_array(array, *args, **kwargs)
    # pandas >= 3 (copy-on-write) converts a str-dtype frame to a read-only array that
    # check_array(copy=True) does not copy again; the imputers write into their copy.
    if kwargs.get("copy") and isinstance(out, np.ndarray) and not out.flags.writeable:
        out = out.copy()
    return out


def find_common_type(dtypes):
    """np.find_common_type(dtypes, []) as numpy 1.x had it (removed in 2.0): the promoted type of
    numbers, else object once there is more than one dtype (strings too: the encoders store None)."""
    dtypes = [np.dtype(d) for d in dtypes]
    if len(dtypes) == 1 or all(d.kind in "biufc" for d in dtypes):
        return np.result_type(*dtypes)
    return np.dtype(object)


def sklearn_tags(cls):
    """Class decorator: scikit-learn >= 1.6 reads tags from __sklearn_tags__ only (1.7 dropped
    the _more_tags fallback), so derive it from the class's own 0.23-style _more_tags().
    A no-op where scikit-learn still reads _more_tags."""
    if not hasattr(BaseEstimator, "__sklearn_tags__") or "_more_tags" not in vars(cls):
        return cls
    more_tags = vars(cls)["_more_tags"]

    def __sklearn_tags__(self):
        tags = super(cls, self).__sklearn_tags__()
        for key, value in more_tags(self).items():
            if key == "allow_nan":
                tags.input_tags.allow_nan = value
            elif key == "X_types":  # the old default was ["2darray"]; without it the checks are skipped
                tags.input_tags.two_d_array = "2darray" in value
                tags.input_tags.string = tags.input_tags.string or "string" in value
                tags.input_tags.categorical = tags.input_tags.categorical or "categorical" in value
                tags.input_tags.sparse = tags.input_tags.sparse or "sparse" in value
                tags.target_tags.one_d_labels = tags.target_tags.one_d_labels or "1dlabels" in value
            elif key == "requires_y":
                tags.target_tags.required = value
            elif key == "binary_only":
                if tags.classifier_tags is not None:
                    tags.classifier_tags.multi_class = not value
            elif key == "preserves_dtype":
                tags.transformer_tags.preserves_dtype = list(value)
            elif key == "_skip_test":
                tags._skip_test = value
            else:
                raise ValueError(f"{cls.__name__}._more_tags: no __sklearn_tags__ equivalent for {key!r}")
        return tags

    cls.__sklearn_tags__ = __sklearn_tags__
    return cls
'''

COMPAT_IMPORT = "from sagemaker_sklearn_extension._sklearn_compat import "


# A wrong number of columns, in scikit-learn's wording (the check_estimator of 1.9 matches it).
SHAPE_ERROR = (
    "            raise ValueError(\n"
    '                f"X shape does not match training shape: X has {n_features} features, "\n'
    '                f"but {type(self).__name__} is expecting {self.n_input_features_} features as input."\n'
    "            )\n"
)


def tagged(declaration, mark=False):
    """The replacement of a class line ``class Name(bases):``: scikit-learn >= 1.6 wants the
    mixins left of BaseEstimator (check_mixin_order; their __sklearn_tags__ call super()), and
    @sklearn_tags derives __sklearn_tags__ from the class's _more_tags (a no-op without one)."""
    name, bases = declaration.rstrip(")").split("(")
    bases = [b.strip() for b in bases.split(",")]
    if "BaseEstimator" in bases:  # BaseEstimator.__sklearn_tags__ does not call super(): last
        bases = [b for b in bases if b != "BaseEstimator"] + ["BaseEstimator"]
    new = "class {}({}):\n".format(name, ", ".join(bases))
    if mark:  # a file with no other replacement: import the decorator here
        return ("class {}:\n".format(declaration), MARK + "\n" + new)
    return ("class {}:\n".format(declaration), "@sklearn_tags\n" + new)


PATCHES = {
    "preprocessing/encoders.py": [
        (
            (
                "from sklearn.preprocessing.label import _encode, _encode_check_unknown\n"
                "from sklearn.utils.validation import check_is_fitted, column_or_1d, _num_samples, check_array, check_X_y\n"
            ),
            MARK + "\n"
            "from sklearn.utils.validation import check_is_fitted, column_or_1d, _num_samples, check_X_y\n"
            + COMPAT_IMPORT
            + "_encode, _encode_check_unknown, check_array, find_common_type, sklearn_tags\n",
        ),
        tagged("ThresholdOneHotEncoder(OneHotEncoder)"),
        tagged("NALabelEncoder(BaseEstimator, TransformerMixin)"),
        tagged("WOEEncoder(BaseEstimator, TransformerMixin)"),
        tagged("SimilarityEncoder(BaseEstimator, TransformerMixin)"),
        (
            # RobustOrdinalEncoder.inverse_transform: np.find_common_type is gone in numpy 2.0.
            "        dt = np.find_common_type([cat.dtype for cat in self.categories_], [])\n",
            "        dt = find_common_type([cat.dtype for cat in self.categories_])\n",
        ),
        (
            (
                '        super().__init__(categories=categories, drop=drop, sparse=sparse, dtype=dtype, handle_unknown="ignore")\n'
                "        self.threshold = threshold\n"
            ),
            (
                '        super().__init__(categories=categories, drop=drop, sparse_output=sparse, dtype=dtype, handle_unknown="ignore")\n'
                "        self.threshold = threshold\n"
            ),
        ),
        (
            '    def fit(self, X, y=None):\n        """Fit ThresholdOneHotEncoder to X.\n',
            (
                "    # scikit-learn >= 1.2 names the parameter sparse_output; keep the public name ``sparse``.\n"
                "    @property\n"
                "    def sparse_output(self):\n"
                "        return self.sparse\n"
                "\n"
                "    @sparse_output.setter\n"
                "    def sparse_output(self, value):\n"
                "        self.sparse = value\n"
                "\n"
                "    def fit(self, X, y=None):\n"
                '        """Fit ThresholdOneHotEncoder to X.\n'
            ),
        ),
        (
            (
                "        super().fit(X, y)\n"
                "        assert self.max_categories >= 1\n"
                "\n"
                "        n_samples, n_features = X.shape\n"
            ),
            (
                "        super().fit(X, y)\n"
                "        assert self.max_categories >= 1\n"
                "        # max_categories here is this class's own top-k limit, not sklearn's infrequent-category grouping.\n"
                "        self._infrequent_enabled = False\n"
                "        X = np.asarray(X)\n"
                "\n"
                "        n_samples, n_features = X.shape\n"
            ),
        ),
        (
            (
                '                "{} out of {} features do not have any categories appearing more than threshold={} {}.".format(\n'
                "                    n_features_completely_under_threshold, n_features, self.threshold, times\n"
                "                )\n"
                "            )\n"
                "\n"
                "        return self\n"
                "\n"
                "    def fit_transform(self, X, y=None):\n"
                "        self._validate_keywords()\n"
                "\n"
                "        return super().fit_transform(X, y)\n"
            ),
            (
                '                "{} out of {} features do not have any categories appearing more than threshold={} {}.".format(\n'
                "                    n_features_completely_under_threshold, n_features, self.threshold, times\n"
                "                )\n"
                "            )\n"
                "\n"
                "        # categories_ changed: recompute what OneHotEncoder.fit derived from it.\n"
                "        # (scikit-learn >= 1.3: _set_drop_idx(); 1.2: drop_idx_ = _compute_drop_idx())\n"
                '        if hasattr(self, "_set_drop_idx"):\n'
                "            self._set_drop_idx()\n"
                "        else:\n"
                "            self.drop_idx_ = self._compute_drop_idx()\n"
                "        self._n_features_outs = self._compute_n_features_outs()\n"
                "        return self\n"
                "\n"
                "    def fit_transform(self, X, y=None):\n"
                "        return self.fit(X, y).transform(X)\n"
            ),
        ),
        (
            # Numeric columns must keep sorted numeric categories: sklearn >= 1.0 encodes them
            # with np.isnan/np.searchsorted (0.23 coped with an object array).
            '            self.categories_[j] = items[counts >= threshold].astype("O")\n',
            (
                '            numeric = items.dtype.kind in "biuf"\n'
                '            self.categories_[j] = items[counts >= threshold].astype(items.dtype if numeric else "O")\n'
            ),
        ),
        (
            '[: self.max_categories], dtype="O"\n                )\n',
            (
                '[: self.max_categories], dtype="O"\n'
                "                )\n"
                "                if numeric:\n"
                "                    self.categories_[j] = np.sort(self.categories_[j].astype(items.dtype))\n"
            ),
        ),
        (
            # A numeric column with no category over the threshold got a string "unknown"
            # category; sklearn >= 1.0 runs np.isnan on the categories of numeric columns.
            # np.inf can never be a valid input (OneHotEncoder rejects inf), so it is an
            # equally unmatchable placeholder for numeric columns.
            '                self.categories_[j] = np.asarray([unknown_category], dtype="U")\n',
            (
                '                if items.dtype.kind in "biuf":\n'
                "                    self.categories_[j] = np.asarray([np.inf])\n"
                "                else:\n"
                '                    self.categories_[j] = np.asarray([unknown_category], dtype="U")\n'
            ),
        ),
        (
            # RobustOrdinalEncoder: same clash with sklearn's own max_categories (infrequent grouping).
            '        self._fit(X, handle_unknown="ignore")\n',
            (
                '        self._fit(X, handle_unknown="ignore")\n'
                "        self._infrequent_enabled = False  # max_categories is this class's own top-k limit\n"
            ),
        ),
        (
            # WOEEncoder on string categories (its documented use): scikit-learn >= 1.0 refuses
            # dtype="numeric" for string arrays (0.23 only warned), so keep the input dtype.
            "        X, y = check_X_y(X, y)\n",
            "        X, y = check_X_y(X, y, dtype=None)\n",
        ),
        (
            "        # check input\n        X = check_array(X)\n",
            "        # check input\n        X = check_array(X, dtype=None)\n",
        ),
        (
            "                y = y.astype(np.float).astype(np.int)\n",
            "                y = y.astype(float).astype(int)\n",
        ),
    ],
    "feature_extraction/sequences.py": [
        (
            "from sklearn.utils.validation import check_array, check_is_fitted\n",
            MARK + "\nfrom sklearn.utils.validation import check_is_fitted\n" + COMPAT_IMPORT + "check_array, sklearn_tags\n",
        ),
        tagged("TSFeatureExtractor(BaseEstimator, TransformerMixin)"),
        tagged("TSFlattener(BaseEstimator, TransformerMixin)"),
        tagged("TSFreshFeatureExtractor(BaseEstimator, TransformerMixin)"),
        (
            # get_params()/clone() read every __init__ parameter back (scikit-learn 1.9's
            # check_estimator clones even estimators tagged _skip_test).
            "        self.feature_sampling_seed = extraction_seed\n",
            "        self.extraction_seed = extraction_seed\n        self.feature_sampling_seed = extraction_seed\n",
        ),
        (
            # pandas 3.0 removed interpolate(method="ffill"/"bfill") (deprecated in 2.1).
            '            X[0] = X[0].interpolate(method="ffill", axis=0).interpolate(method="bfill", axis=0)\n',
            "            X[0] = X[0].ffill().bfill()\n",
        ),
        (
            # pandas >= 2.0 prepends the group key to the index (group_keys), pandas >= 3.0 leaves
            # the grouping column out of the groups: interpolate column 0 only, group by group.
            '            X = X.groupby("id").apply(self._hybrid_interpolation)\n',
            '            X[0] = X.groupby("id", group_keys=False)[[0]].apply(self._hybrid_interpolation)[0]\n',
        ),
        (
            # pandas >= 3.1 deprecates padding rows of different lengths in DataFrame(): pad with NaN
            # here. pandas 3.0 refuses stack(dropna=...); the new implementation (future_stack,
            # pandas >= 2.1) keeps the NaN rows as dropna=False did.
            "        X_df = pd.DataFrame(data=X)\n        X_df = X_df.stack(dropna=False)\n",
            "        if len({len(x) for x in X}) > 1:\n"
            "            width = max(len(x) for x in X)\n"
            "            X = [np.concatenate([np.asarray(x, dtype=float), np.full(width - len(x), np.nan)]) for x in X]\n"
            "        X_df = pd.DataFrame(data=X)\n"
            "        X_df = X_df.stack(future_stack=True)\n",
        ),
        (
            "        x.loc[first_valid:last_valid, 0] = x.loc[first_valid:last_valid, 0].interpolate(method=\"ffill\", axis=0)\n",
            "        x.loc[first_valid:last_valid, 0] = x.loc[first_valid:last_valid, 0].ffill()\n",
        ),
    ],
    "externals/read_data.py": [
        (
            # mlio is AWS's own build, not on PyPI: fall back to the same API on pyarrow.csv
            # (mlio_compat.py, copied next to this file as _mlio_compat.py).
            "import mlio\nfrom mlio.integ.numpy import as_numpy\n",
            MARK + "\n"
            "try:\n"
            "    import mlio\n"
            "    from mlio.integ.numpy import as_numpy\n"
            "except ImportError:\n"
            "    from . import _mlio_compat as mlio\n"
            "    from ._mlio_compat import as_numpy\n",
        ),
    ],
    "feature_extraction/text.py": [
        (
            "from sklearn.feature_extraction.text import VectorizerMixin, TfidfVectorizer\n",
            MARK + "\n"
            "from sklearn.feature_extraction.text import _VectorizerMixin as VectorizerMixin, TfidfVectorizer\n"
            + COMPAT_IMPORT
            + "sklearn_tags\n",
        ),
        tagged("MultiColumnTfidfVectorizer(BaseEstimator, VectorizerMixin, TransformerMixin)"),
        (
            # scipy >= 1.11 stacks CSR blocks into CSR; the release returned COO (its tests say so).
            "        return sp.hstack([self._transform_vectorizer(i, X) for i in range(X.shape[1])])\n",
            '        return sp.hstack([self._transform_vectorizer(i, X) for i in range(X.shape[1])], format="coo")\n',
        ),
    ],
    # Serving speed: dateutil's parser, in pure Python, was the largest cost of a request through
    # an Autopilot pipeline. Plain ISO 8601 dates and times (no zone) are parsed in C to the same
    # datetime; anything else, or a value fromisoformat refuses, still goes to dateutil.
    "feature_extraction/date_time.py": [
        (
            "from sklearn.utils.validation import check_array, check_is_fitted\n",
            "from sklearn.utils.validation import check_is_fitted\n" + COMPAT_IMPORT + "check_array, sklearn_tags\n",
        ),
        tagged("DateTimeVectorizer(BaseEstimator, TransformerMixin)"),
        (
            "from dateutil import parser\n",
            "from dateutil import parser\n"
            "import re as _re  " + MARK + "\n"
            '_ISO_DATETIME = _re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\\.[0-9]{1,6})?)?)?")\n',
        ),
        (
            "        try:\n            return parser.parse(item, default=self.default_datetime)\n",
            "        if self.default_datetime is None and isinstance(item, str) and _ISO_DATETIME.fullmatch(item):\n"
            "            try:\n"
            "                return datetime.fromisoformat(item)\n"
            "            except ValueError:\n"
            "                pass\n"
            "        try:\n            return parser.parse(item, default=self.default_datetime)\n",
        ),
    ],
    # n_features_in_ (scikit-learn >= 0.24's estimator API, which check_estimator requires),
    # set where each fit has validated X.
    "preprocessing/base.py": [
        (
            "from sklearn.utils.validation import check_array, check_is_fitted\n",
            "from sklearn.utils.validation import check_is_fitted\n" + COMPAT_IMPORT + "check_array, sklearn_tags\n",
        ),
        tagged("BaseExtremeValueTransformer(BaseEstimator, TransformerMixin)"),
        tagged("RemoveConstantColumnsTransformer(BaseEstimator, TransformerMixin)"),
        (
            # BaseExtremeValueTransformer (Log/QuantileExtremeValuesTransformer)
            "        X = check_array(X)\n        _, self.n_input_features_ = X.shape\n",
            "        X = check_array(X)\n"
            "        _, self.n_input_features_ = X.shape\n"
            "        self.n_features_in_ = self.n_input_features_  " + MARK + "\n",
        ),
        (
            # RemoveConstantColumnsTransformer
            (
                "        X = check_array(X, force_all_finite=False)\n"
                "        _, self.n_input_features_ = X.shape\n"
            ),
            (
                "        X = check_array(X, force_all_finite=False)\n"
                "        _, self.n_input_features_ = X.shape\n"
                "        self.n_features_in_ = self.n_input_features_\n"
            ),
        ),
        (
            # BaseExtremeValueTransformer.transform. scikit-learn 1.9's check_estimator wants its
            # wording for a wrong number of columns ("X has 1 features, but ... is expecting 4 ...").
            (
                '        check_is_fitted(self, ["quantiles_", "cols_to_transform_"])\n'
                "        X = check_array(X)\n"
                "        _, n_features = X.shape\n"
                "\n"
                "        if n_features != self.n_input_features_:\n"
                '            raise ValueError("X shape does not match training shape.")\n'
            ),
            (
                '        check_is_fitted(self, ["quantiles_", "cols_to_transform_"])\n'
                "        X = check_array(X)\n"
                "        _, n_features = X.shape\n"
                "\n"
                "        if n_features != self.n_input_features_:\n"
                + SHAPE_ERROR
            ),
        ),
        (
            # RemoveConstantColumnsTransformer.transform
            (
                "        X = check_array(X, force_all_finite=False)\n"
                "        _, n_features = X.shape\n"
                "\n"
                "        if n_features != self.n_input_features_:\n"
                '            raise ValueError("X shape does not match training shape.")\n'
            ),
            (
                "        X = check_array(X, force_all_finite=False)\n"
                "        _, n_features = X.shape\n"
                "\n"
                "        if n_features != self.n_input_features_:\n"
                + SHAPE_ERROR
            ),
        ),
    ],
    "preprocessing/data.py": [
        (
            "from sklearn.utils import check_array\n",
            COMPAT_IMPORT + "check_array, sklearn_tags\n",
        ),
        tagged("QuadraticFeatures(BaseEstimator, TransformerMixin)"),
        tagged("RobustStandardScaler(BaseEstimator, TransformerMixin)"),
        (
            # QuadraticFeatures.transform (see preprocessing/base.py)
            '        if n_features != self.n_input_features_:\n            raise ValueError("X shape does not match training shape.")\n',
            "        if n_features != self.n_input_features_:\n" + SHAPE_ERROR,
        ),
        (
            # RobustStandardScaler accepts sparse input (scikit-learn 1.9's check_estimator checks the tag)
            '        return {"allow_nan": True}\n',
            '        return {"allow_nan": True, "X_types": ["2darray", "sparse"]}\n',
        ),
        (
            # QuadraticFeatures
            "        _, n_features = check_array(X).shape\n",
            "        _, n_features = check_array(X).shape\n"
            "        self.n_features_in_ = n_features  " + MARK + "\n",
        ),
        (
            # RobustStandardScaler
            "        with_mean = not issparse(X)\n",
            "        self.n_features_in_ = X.shape[1]\n        with_mean = not issparse(X)\n",
        ),
    ],
    "impute/base.py": [
        (
            "from sklearn.utils.validation import check_array, check_is_fitted\n",
            "from sklearn.utils.validation import check_is_fitted\n" + COMPAT_IMPORT + "check_array, sklearn_tags\n",
        ),
        tagged("RobustImputer(BaseEstimator, TransformerMixin)"),
        tagged("RobustMissingIndicator(BaseEstimator, TransformerMixin)"),
        (
            # scikit-learn 1.9 drops a column whose constant fill value is NaN (NALabelEncoder's) unless
            # keep_empty_features (announced in 1.6); 1.2 / 1.4 kept every column with strategy="constant".
            (
                "            self.simple_imputer_ = SimpleImputer(strategy=self.strategy)\n"
                "        else:\n"
                "            self.simple_imputer_ = SimpleImputer(strategy=self.strategy, fill_value=self.fill_values)\n"
            ),
            (
                "            self.simple_imputer_ = SimpleImputer(strategy=self.strategy, keep_empty_features=True)\n"
                "        else:\n"
                "            self.simple_imputer_ = SimpleImputer(\n"
                '                strategy=self.strategy, fill_value=self.fill_values, keep_empty_features=self.strategy == "constant"\n'
                "            )\n"
            ),
        ),
        (
            # RobustImputer.transform: keep its message, add scikit-learn's wording (check_estimator)
            (
                "                \"'transform' input X has {transform_dim} features per sample, \"\n"
                "                \"expected {fit_dim} from 'fit' input\".format(\n"
            ),
            (
                "                \"'transform' input X has {transform_dim} features per sample, \"\n"
                "                \"expected {fit_dim} from 'fit' input \"\n"
                "                \"(X has {transform_dim} features, but RobustImputer is expecting {fit_dim} features as input)\".format(\n"
            ),
        ),
        (
            # RobustImputer
            (
                "        X = self._validate_input(X)\n"
                "\n"
                "        self.vectorized_mask_function_ = self.mask_function or is_finite_numeric\n"
                "        X = _apply_mask(X, _get_mask(X, self.vectorized_mask_function_))\n"
                "\n"
                "        if self._is_constant_multicolumn_imputation():\n"
            ),
            "        X = self._validate_input(X)\n"
            "        self.n_features_in_ = X.shape[1]  " + MARK + "\n"
            "\n"
            "        self.vectorized_mask_function_ = self.mask_function or is_finite_numeric\n"
            "        X = _apply_mask(X, _get_mask(X, self.vectorized_mask_function_))\n"
            "\n"
            "        if self._is_constant_multicolumn_imputation():\n",
        ),
        (
            # RobustMissingIndicator
            (
                "        X = self._validate_input(X)\n"
                "\n"
                "        self.vectorized_mask_function_ = self.mask_function or is_finite_numeric\n"
                "        X = _apply_mask(X, _get_mask(X, self.vectorized_mask_function_))\n"
                "\n"
                "        self.missing_indicator_ = MissingIndicator("
            ),
            (
                "        X = self._validate_input(X)\n"
                "        self.n_features_in_ = X.shape[1]\n"
                "\n"
                "        self.vectorized_mask_function_ = self.mask_function or is_finite_numeric\n"
                "        X = _apply_mask(X, _get_mask(X, self.vectorized_mask_function_))\n"
                "\n"
                "        self.missing_indicator_ = MissingIndicator("
            ),
        ),
        (
            # RobustMissingIndicator outputs booleans (as sklearn's MissingIndicator declares).
            (
                "        return self.missing_indicator_.transform(X)\n"
                "\n"
                "    def _more_tags(self):\n"
                '        return {"allow_nan": True}\n'
            ),
            (
                "        return self.missing_indicator_.transform(X)\n"
                "\n"
                "    def _more_tags(self):\n"
                '        return {"allow_nan": True, "preserves_dtype": []}\n'
            ),
        ),
    ],
    "decomposition/robust_pca.py": [tagged("RobustPCA(BaseEstimator, TransformerMixin)", mark=True)],
    "externals/automl_transformer.py": [
        tagged("AutoMLTransformer(BaseEstimator, TransformerMixin)", mark=True),
        # sparse arrays (scikit-learn's sparse_interface="sparray") are sparse too, not only spmatrix
        ("from scipy.sparse import isspmatrix\n", "from scipy.sparse import issparse\n"),
        ("        if isspmatrix(arr):\n", "        if issparse(arr):\n"),
    ],
}


def package_dir():
    spec = importlib.util.find_spec("sagemaker_sklearn_extension")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("ERROR: sagemaker_sklearn_extension is not installed")
    return next(iter(spec.submodule_search_locations))


MLIO_COMPAT_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mlio_compat.py")
# written / copied into the package (relative to its folder) -> where the text comes from
ADDED_FILES = {"externals/_mlio_compat.py": None, "_sklearn_compat.py": COMPAT}


def main(argv):
    root = package_dir()
    check_only = "--check" in argv
    errors = []
    for rel, replacements in PATCHES.items():  # each file must be recognisable as patched
        assert any(MARK in new for _, new in replacements), f"{rel}: no replacement carries MARK"
    for rel, content in ADDED_FILES.items():
        target = os.path.join(root, rel)
        if check_only:
            if not os.path.isfile(target):
                errors.append(f"missing: {rel}")
        elif content is None:
            shutil.copyfile(MLIO_COMPAT_SOURCE, target)
            print(f"copied: {os.path.basename(MLIO_COMPAT_SOURCE)} -> {rel}")
        else:
            with open(target, "w", encoding="utf-8") as fh:
                fh.write(content)
            print(f"written: {rel}")
    for rel, replacements in PATCHES.items():
        path = os.path.join(root, rel)
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        if MARK in text:
            print(f"already patched: {rel}")
            continue
        if check_only:
            errors.append(f"not patched: {rel}")
            continue
        file_errors = []
        for i, (old, new) in enumerate(replacements):
            count = text.count(old)
            if count != 1:
                file_errors.append(f"{rel}: replacement {i} matched {count} times (expected 1)")
                continue
            text = text.replace(old, new)
        if file_errors:
            errors.extend(file_errors)
            continue  # leave the file untouched
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        print(f"patched: {rel} ({len(replacements)} replacements)")
    if errors:
        print(
            "ERROR: sagemaker_sklearn_extension could not be patched:",
            file=sys.stderr,
        )
        for e in errors:
            print("  " + e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
