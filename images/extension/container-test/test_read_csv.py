"""read_csv_data's contract in the image (suite/read_csv_contract.py, run there by pytest).

The library's own read_data tests that need its test/data/csv files cannot run from the
sdist; these check the same behaviour on generated data, through the mlio stand-in the
image's read_data selects. pytest is mounted, as for the library's suite.
"""

from __future__ import annotations

import re

from conftest import run_pytest_in_image


def test_read_csv_contract(docker, image, mounted_pytest):
    output = run_pytest_in_image(
        docker,
        image,
        mounted_pytest,
        ["-rfE", "/suite/plugin/read_csv_contract.py"],
        what="read_csv_contract.py",
    )
    assert re.search(r"\d+ passed", output), output[-3000:]
