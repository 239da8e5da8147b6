"""Make sagemaker-scikit-learn-extension 2.5.0 work with scikit-learn 1.4, numpy 1.26, pandas 2.2.

One script for both lines (scikit-learn 1.2.1 and 1.4.2): where the two differ, the
replacement text checks which API is there.

sagemaker-scikit-learn-extension 2.5.0 (the last release on PyPI) was written for
scikit-learn 0.23 / numpy < 1.20. With scikit-learn 1.4.x its modules do not import:
  - sklearn.preprocessing.label (_encode, _encode_check_unknown) is gone (0.24);
  - sklearn.feature_extraction.text.VectorizerMixin became _VectorizerMixin (0.24);
and ThresholdOneHotEncoder / RobustLabelEncoder rely on removed APIs:
  - OneHotEncoder(sparse=...) was removed in 1.4 (now sparse_output=...);
  - OneHotEncoder._validate_keywords() is gone (parameter validation moved to fit);
  - OneHotEncoder.fit now caches drop_idx_ / _n_features_outs and, since 1.1, groups
    infrequent categories when max_categories is set (the extension's own
    max_categories would switch that on), so categories_ edited after fit must be
    followed by a recomputation of those;
  - check_X_y/check_array refuse string arrays with dtype="numeric" since 1.0 (WOEEncoder);
  - np.float / np.int were removed in numpy 1.24;
externals.read_data imports AWS's mlio, which is not on PyPI: it falls back to
mlio_compat.py (the same API subset on pyarrow.csv), copied in as externals/_mlio_compat.py;
and with pandas 2.x TSFreshFeatureExtractor(augment=True) with the default "hybrid"
interpolation fails (groupby().apply now prepends the group key as an index level).

This script edits the installed package in place with exact text replacements. Every
replacement must match exactly once, so a different extension version fails the build
loudly instead of being half-patched. Usage:
    python patch_extension_sklearn14.py            # patch the installed package
    python patch_extension_sklearn14.py --check    # only report whether it is patched
"""

# ruff: noqa: E501 - the replacement texts are the exact lines of the package's source

import importlib.util
import os
import shutil
import sys

MARK = "# patched for scikit-learn 1.4 (images/extension/patch_extension_sklearn14.py)"

ENCODE_COMPAT = '''from sklearn.utils._encode import _check_unknown as _encode_check_unknown
from sklearn.utils._encode import _encode as _sk_encode, _unique as _sk_unique


def _encode(values, uniques=None, encode=False, check_unknown=True):
    """scikit-learn 0.23 ``sklearn.preprocessing.label._encode`` on top of sklearn.utils._encode."""
    if uniques is None:
        if encode:
            return _sk_unique(values, return_inverse=True)
        return _sk_unique(values)
    if encode:
        return uniques, _sk_encode(values, uniques=uniques, check_unknown=check_unknown)
    return uniques
'''

PATCHES = {
    "preprocessing/encoders.py": [
        (
            "from sklearn.preprocessing.label import _encode, _encode_check_unknown\n",
            MARK + "\n" + ENCODE_COMPAT,
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
            '            X = X.groupby("id").apply(self._hybrid_interpolation)\n',
            "            " + MARK + "\n"
            "            # pandas >= 2.0: group_keys defaults to True and would add 'id' as an index level.\n"
            '            X = X.groupby("id", group_keys=False).apply(self._hybrid_interpolation)\n',
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
            "from sklearn.feature_extraction.text import _VectorizerMixin as VectorizerMixin, TfidfVectorizer\n",
        ),
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
    ],
    "preprocessing/data.py": [
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
}


def package_dir():
    spec = importlib.util.find_spec("sagemaker_sklearn_extension")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("ERROR: sagemaker_sklearn_extension is not installed")
    return next(iter(spec.submodule_search_locations))


COMPAT_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mlio_compat.py")
COMPAT_TARGET = "externals/_mlio_compat.py"


def main(argv):
    root = package_dir()
    check_only = "--check" in argv
    errors = []
    target = os.path.join(root, COMPAT_TARGET)
    if check_only:
        if not os.path.isfile(target):
            errors.append(f"missing: {COMPAT_TARGET}")
    else:
        shutil.copyfile(COMPAT_SOURCE, target)
        print(f"copied: {os.path.basename(COMPAT_SOURCE)} -> {COMPAT_TARGET}")
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
            "ERROR: sagemaker_sklearn_extension could not be patched for scikit-learn 1.4:",
            file=sys.stderr,
        )
        for e in errors:
            print("  " + e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
