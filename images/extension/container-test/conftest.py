"""Fixtures for the extension image's container tests (preprod-sklearn-extension).

Contract: run on the host, from the repository's root, as
    IMAGE=sha256:... DOCKER_CLIENT=docker CHAIN_SKLEARN=1.4.2 CHAIN_EXTENSION=2.5.0 \
        PYTHONPATH=tools/container-test \
        .venv/bin/python -m pytest -p no:cacheprovider -q -rfE images/extension/container-test
PYTHONPATH makes the helpers shared by every image's container tests importable
(tools/container-test/image_testing.py: docker, the /opt/ml tree, training and serving
runs); the test files import them from here. This file adds a folder for /opt/ml trees and
pytest mounted into the image for the library's own tests.

Training runs with ``--network none`` and an /opt/ml tree mounted; servers run on the host
network bound to 127.0.0.1 on a free port, and the tests talk only to 127.0.0.1. Every
container gets a unique name and is removed at the end.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile

import pytest

try:
    import image_testing  # noqa: F401
except ModuleNotFoundError as exc:
    if exc.name != "image_testing":
        raise
    hint = "run the tests from the repository's root with PYTHONPATH=tools/container-test"
    raise ModuleNotFoundError(f"{exc} (tools/container-test/image_testing.py): {hint}") from exc
# What the test files import from conftest comes from here, and the fixtures ``image`` and
# ``docker`` (pytest registers them by the names their decorators give).
from image_testing import (  # noqa: F401
    TRAIN_TIMEOUT,
    Docker,
    Response,
    Server,
    configure,
    docker_fixture,
    free_port,
    image_fixture,
    make_ml_tree,
    remove_tree,
    run_train,
    start_server,
    text,
)

SETTINGS = configure("ext", start_timeout=90, http_timeout=60.0)
PREFIX = SETTINGS.prefix
START_TIMEOUT = SETTINGS.start_timeout
HTTP_TIMEOUT = SETTINGS.http_timeout


@pytest.fixture(scope="session")
def ml_root(docker, image, tmp_path_factory):
    """A folder for /opt/ml trees; what containers wrote there (as root) is removed from inside."""
    base = str(tmp_path_factory.mktemp("opt-ml"))
    yield base
    remove_tree(docker, image, base)


# --- pytest inside the image, without changing it -------------------------------------


def pip(*args: str, cwd: str) -> None:
    """The host's pip (of the interpreter running these tests), for hash-checked downloads."""
    result = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"pip {' '.join(args)} (with {sys.executable}) exited {result.returncode}:\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )


SUITE_PLUGIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "suite")


def run_pytest_in_image(
    docker: Docker,
    image: str,
    site: str,
    args: list[str],
    *,
    what: str,
    mounts: tuple[str, ...] = (),
    env: tuple[str, ...] = (),
    workdir: str = "/tmp",
    timeout: float = 300,
) -> str:
    """Run pytest inside the image with no network: the pinned pytest (``site``) and the
    suite plugin (suite/) mounted read-only on its PYTHONPATH. Returns the output; fails
    on a non-zero exit, naming ``what``."""
    name = docker.new_name(re.sub(r"[^a-z0-9]+", "-", what.lower()).strip("-"))
    volumes = [f"{site}:/suite/site:ro", f"{SUITE_PLUGIN}:/suite/plugin:ro", *mounts]
    variables = ["PYTHONPATH=/suite/site:/suite/plugin", "PYTHONDONTWRITEBYTECODE=1", *env]
    try:
        result = docker(
            "run",
            "--rm",
            "--name",
            name,
            "--network",
            "none",
            *(arg for volume in volumes for arg in ("-v", volume)),
            *(arg for variable in variables for arg in ("-e", variable)),
            "-w",
            workdir,
            image,
            "python",
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",
            "ext_suite_plugin",
            "-q",
            "--tb=short",
            *args,
            timeout=timeout,
        )
    finally:
        docker.remove(name)
    output = text(result.stdout) + text(result.stderr)
    assert result.returncode == 0, f"{what} exited {result.returncode}:\n{output[-8000:]}"
    return output


@pytest.fixture(scope="session")
def mounted_pytest(tmp_path_factory) -> str:
    """pytest and its dependencies (suite-requirements.txt, hash-checked), unpacked into a
    folder to mount read-only on the container's PYTHONPATH."""
    work = tmp_path_factory.mktemp("pytest-site")
    here = os.path.dirname(os.path.abspath(__file__))
    pip(
        "download",
        "--quiet",
        "--no-deps",
        "--only-binary",
        ":all:",
        "--require-hashes",
        "-r",
        os.path.join(here, "suite-requirements.txt"),
        "-d",
        str(work / "wheels"),
        cwd=str(work),
    )
    site = work / "site"
    for wheel in sorted((work / "wheels").glob("*.whl")):
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(site)
    return str(site)
