"""pytest plugin for the extension's own test suite, run inside the extension image.

Loaded with ``-p ext_suite_plugin`` by test_library_suite.py (never on the host). It
- lets the 2.5.0 test files import on today's stack without editing them: numpy >= 1.24
  dropped the ``np.str`` alias and scikit-learn 0.24 renamed ``sklearn.utils.testing`` to
  ``sklearn.utils._testing``; where AWS's mlio is not installed, the tests' ``from mlio
  import ...`` get the stand-in the image's read_data uses (externals/_mlio_compat.py);
- when SUITE_EXPECTATIONS is set, applies that file (suite-expectations.json) for the line
  (SUITE_LINE): a listed ``xfail`` test must fail (strict: one that passes fails the run),
  a listed ``skip`` test is not run; a listed id the suite does not have is a usage error.
"""

from __future__ import annotations

import importlib
import json
import os
import sys

import numpy
import pytest

if "str" not in vars(numpy):  # hasattr would warn through numpy's __getattr__
    numpy.str = str

sys.modules.setdefault("sklearn.utils.testing", importlib.import_module("sklearn.utils._testing"))

try:
    import mlio  # noqa: F401
    from mlio.integ import numpy as _mlio_numpy  # noqa: F401
except ImportError:
    from sagemaker_sklearn_extension.externals import _mlio_compat, read_data

    assert read_data.mlio is _mlio_compat, "read_data did not select the mlio stand-in"
    sys.modules["mlio"] = _mlio_compat


def _expectations() -> tuple[dict[str, str], dict[str, str]]:
    path = os.environ["SUITE_EXPECTATIONS"]
    line = os.environ.get("SUITE_LINE", "")
    with open(path, encoding="utf-8") as handle:
        table = json.load(handle)
    skip: dict[str, str] = {}
    xfail: dict[str, str] = {}
    for section in ("all", line):
        entry = table.get(section, {})
        skip.update(entry.get("skip", {}))
        xfail.update(entry.get("xfail", {}))
    both = set(skip) & set(xfail)
    if both:
        raise pytest.UsageError(f"{path}: listed both as skip and xfail: {sorted(both)}")
    return skip, xfail


def pytest_collection_modifyitems(config, items):
    if not os.environ.get("SUITE_EXPECTATIONS"):
        return  # our own in-image tests (read_csv_contract.py): everything must pass
    skip, xfail = _expectations()
    for item in items:
        if item.nodeid in skip:
            item.add_marker(pytest.mark.skip(reason=skip[item.nodeid]))
        elif item.nodeid in xfail:
            item.add_marker(pytest.mark.xfail(reason=xfail[item.nodeid], strict=True))
    unknown = (set(skip) | set(xfail)) - {item.nodeid for item in items}
    if unknown:
        raise pytest.UsageError(
            f"{os.environ['SUITE_EXPECTATIONS']} lists tests the suite does not have "
            f"(line {os.environ.get('SUITE_LINE')}): {sorted(unknown)}"
        )


def pytest_report_header(config):
    reader = sys.modules["sagemaker_sklearn_extension.externals.read_data"].mlio.__name__
    return f"ext_suite_plugin: line {os.environ.get('SUITE_LINE')}, read_data reads with {reader}"
