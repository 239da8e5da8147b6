"""sagemaker-scikit-learn-extension's own test suite, run inside the extension image.

The tests come from the extension's sdist on PyPI, fetched at test time and checked
against the sha256 the line's requirements.lock pins; pytest comes as pinned wheels
(suite-requirements.txt). Both are unpacked on the host and mounted read-only, and the
suite runs with --network none, so the image is tested exactly as built.
suite/ext_suite_plugin.py applies suite-expectations.json: a test listed as xfail must
fail, one listed as skip is not run (its data is not in the sdist), everything else must
pass.
"""

from __future__ import annotations

import hashlib
import os
import re
import tarfile
import time

import pytest

from conftest import pip, run_pytest_in_image

HERE = os.path.dirname(os.path.abspath(__file__))
LINES = os.path.join(HERE, "..", "lines")
SUITE_TIMEOUT = 900


def _locked_sdist(line: str, version: str) -> tuple[str, str]:
    """The extension's pin and sha256 as the line's requirements.lock has them."""
    lock = os.path.join(LINES, line, "requirements.lock")
    with open(lock, encoding="utf-8") as handle:
        found = re.search(
            rf"^sagemaker-scikit-learn-extension=={re.escape(version)} \\\s*"
            r"--hash=sha256:([0-9a-f]{64})",
            handle.read(),
            re.MULTILINE,
        )
    if not found:
        raise AssertionError(
            f"{lock}: no 'sagemaker-scikit-learn-extension=={version} --hash=sha256:...' pin; "
            "run `npm run lock`"
        )
    return f"sagemaker-scikit-learn-extension=={version}", found.group(1)


@pytest.fixture(scope="module")
def suite_files(tmp_path_factory) -> dict[str, str]:
    line = os.environ.get("CHAIN_LINE", "").strip()
    version = os.environ.get("CHAIN_EXTENSION", "").strip()
    if not line or not version:
        pytest.skip("CHAIN_LINE and CHAIN_EXTENSION are not set")
    work = tmp_path_factory.mktemp("library-suite")
    pin, sha256 = _locked_sdist(line, version)
    requirement = work / "sdist-requirement.txt"
    requirement.write_text(f"{pin} --hash=sha256:{sha256}\n")
    downloads = work / "downloads"
    pip(
        "download",
        "--quiet",
        "--no-deps",
        "--no-binary",
        ":all:",
        "--require-hashes",
        "-r",
        str(requirement),
        "-d",
        str(downloads),
        cwd=str(work),
    )
    (archive,) = [p for p in downloads.iterdir() if p.name.endswith(".tar.gz")]
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    assert digest == sha256, f"{archive.name}: sha256 {digest}, the lock pins {sha256}"
    with tarfile.open(archive) as tar:
        tar.extractall(work / "sdist", filter="data")
    (top,) = list((work / "sdist").iterdir())
    tests = top / "test"
    assert tests.is_dir(), f"{archive.name} has no test/ folder"

    return {"line": line, "tests": str(tests)}


def test_library_suite(docker, image, suite_files, mounted_pytest):
    expectations = os.path.join(HERE, "suite-expectations.json")
    start = time.monotonic()
    output = run_pytest_in_image(
        docker,
        image,
        mounted_pytest,
        ["-rfEX", "-W", "ignore", "test"],
        what="the library's suite",
        mounts=(
            f"{suite_files['tests']}:/suite/test:ro",
            f"{expectations}:/suite/suite-expectations.json:ro",
        ),
        env=(
            f"SUITE_LINE={suite_files['line']}",
            "SUITE_EXPECTATIONS=/suite/suite-expectations.json",
        ),
        workdir="/suite",
        timeout=SUITE_TIMEOUT,
    )
    summary = [ln for ln in output.splitlines() if re.search(r"\d+ (passed|failed)", ln)]
    print(
        f"library suite on line {suite_files['line']}: {summary[-1:] or '?'} "
        f"in {time.monotonic() - start:.0f}s"
    )
    assert summary and " passed" in summary[-1], output[-4000:]
