"""read_csv_data's contract in the image (suite/read_csv_contract.py, run there by pytest).

The library's own read_data tests that need its test/data/csv files cannot run from the
sdist; these check the same behaviour on generated data, through the mlio stand-in the
image's read_data selects. pytest is mounted, as for the library's suite.
"""

from __future__ import annotations

import os
import re

from conftest import Docker, text

HERE = os.path.dirname(os.path.abspath(__file__))


def test_read_csv_contract(image, mounted_pytest):
    docker = Docker()
    name = docker.new_name("read-csv")
    try:
        result = docker(
            "run",
            "--rm",
            "--name",
            name,
            "--network",
            "none",
            "-v",
            f"{mounted_pytest}:/suite/site:ro",
            "-v",
            f"{os.path.join(HERE, 'suite')}:/suite/plugin:ro",
            "-e",
            "PYTHONPATH=/suite/site:/suite/plugin",
            "-e",
            "PYTHONDONTWRITEBYTECODE=1",
            "-w",
            "/tmp",
            image,
            "python",
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",
            "ext_suite_plugin",
            "-q",
            "-rfE",
            "--tb=short",
            "/suite/plugin/read_csv_contract.py",
            timeout=300,
        )
    finally:
        docker.remove(name)
    output = text(result.stdout) + text(result.stderr)
    assert result.returncode == 0, (
        f"read_csv_contract.py exited {result.returncode}:\n{output[-8000:]}"
    )
    assert re.search(r"\d+ passed", output), output[-3000:]
