"""Container tests of the extension image (preprod-sklearn-extension).

Contract: run on the host as
    IMAGE=sha256:... DOCKER_CLIENT=docker CHAIN_SKLEARN=... CHAIN_EXTENSION=... \
        python3 -m pytest -p no:cacheprovider -q -rfE images/extension/container-test
Containers run with --network none, are named with a unique prefix and always removed.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import uuid

import pytest

PREFIX = f"ctest-sklearn-ext-{os.getpid()}-{uuid.uuid4().hex[:6]}"
CHECK_SCRIPT = "/usr/local/share/sagemaker-sklearn/check_extension.py"


def _client() -> list[str]:
    return shlex.split(os.environ.get("DOCKER_CLIENT") or "docker")


def _docker(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(
            [*_client(), *args], check=False, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"docker {' '.join(args[:4])} ... timed out after {timeout}s") from exc


@pytest.fixture(scope="session")
def image() -> str:
    value = os.environ.get("IMAGE", "").strip()
    if not value:
        pytest.skip("IMAGE is not set (the image ID to test, e.g. IMAGE=sha256:...)")
    if shutil.which(_client()[0]) is None:
        pytest.skip(f"docker client {_client()[0]!r} (DOCKER_CLIENT) not found on PATH")
    inspect = _docker("image", "inspect", value, timeout=60)
    assert inspect.returncode == 0, inspect.stderr
    return value


@pytest.fixture(scope="session")
def run(image):
    """docker run --rm a command in the image; the container is removed even on timeout."""
    names: list[str] = []

    def _run(*command: str, timeout: float = 120) -> subprocess.CompletedProcess:
        name = f"{PREFIX}-{uuid.uuid4().hex[:6]}"
        names.append(name)
        try:
            return _docker(
                "run", "--rm", "--name", name, "--network", "none", image, *command, timeout=timeout
            )
        finally:
            _docker("rm", "-f", name, timeout=60)

    yield _run
    for name in names:
        _docker("rm", "-f", name, timeout=60)


def _require(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        pytest.skip(f"{name} is not set")
    return value


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_check_extension_passes(run):
    result = run("python", CHECK_SCRIPT, timeout=900)
    output = result.stdout + result.stderr
    summary = re.findall(r"^(\d+) passed, (\d+) failed$", result.stdout, re.MULTILINE)
    assert result.returncode == 0, f"exit {result.returncode}\n{output[-6000:]}"
    assert summary, f"no 'N passed, N failed' line\n{output[-6000:]}"
    passed, failed = map(int, summary[-1])
    assert failed == 0, output[-6000:]
    assert passed > 0, output[-6000:]


def test_sklearn_version(run):
    expected = _require("CHAIN_SKLEARN")
    result = run("python", "-c", "import sklearn; print(sklearn.__version__)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_extension_installed(run):
    expected = _require("CHAIN_EXTENSION")
    result = run("pip", "freeze")
    assert result.returncode == 0, result.stderr
    pins = {}
    for line in result.stdout.splitlines():
        if "==" in line:
            name, _, version = line.partition("==")
            pins[_normalise(name)] = version.strip()
    assert pins.get("sagemaker-scikit-learn-extension") == expected, {
        k: v for k, v in pins.items() if "sagemaker" in k or "scikit" in k
    }
    sklearn = os.environ.get("CHAIN_SKLEARN")
    if sklearn:
        assert pins.get("scikit-learn") == sklearn


def test_installed_exactly_as_locked(run):
    """Every pin of the line (base, final and extension, from images/versions.json) is installed
    at its version, and the three locks it was installed from are kept in the image."""
    pins = {}
    for var in ("CHAIN_PINS_BASE", "CHAIN_PINS_FINAL", "CHAIN_PINS_EXTENSION"):
        for pin in _require(var).split():
            name, _, version = pin.partition("==")
            pins[_normalise(name)] = version
    pins["sagemaker-scikit-learn-extension"] = _require("CHAIN_EXTENSION")
    result = run(
        "sh", "-c", "ls /usr/local/share/sagemaker-sklearn/locks && echo --- && pip freeze --all"
    )
    assert result.returncode == 0, result.stderr
    locks, _, freeze = result.stdout.partition("---")
    assert locks.split() == ["base.lock", "extension.lock", "final.lock"], locks
    installed = {}
    for line in freeze.splitlines():
        name, sep, version = line.partition("==")
        if sep:
            installed[_normalise(name)] = version.strip()
    wrong = {
        name: (version, installed.get(name))
        for name, version in pins.items()
        if installed.get(name) != version
    }
    assert not wrong, f"pinned vs installed: {wrong}"


def test_extension_imports_and_runtime(run):
    """The extension imports, and the final image's runtime is still intact."""
    probe = (
        "import json, shutil\n"
        "import sagemaker_sklearn_extension.impute, sagemaker_sklearn_extension.preprocessing\n"
        "import sagemaker_sklearn_extension.feature_extraction.text\n"
        "import sagemaker_sklearn_extension.decomposition\n"
        # what Autopilot's pickled models and serving scripts import (no mlio needed)
        "from sagemaker_sklearn_extension.externals import AutoMLTransformer, Header\n"
        "from sagemaker_sklearn_extension.externals import read_csv_data\n"
        "import sagemaker_sklearn_container\n"
        "print(json.dumps({'train': shutil.which('train'), 'serve': shutil.which('serve'),"
        " 'nginx': shutil.which('nginx')}))\n"
    )
    result = run("python", "-c", probe)
    assert result.returncode == 0, result.stderr[-4000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert all(found.values()), found
    check = run("pip", "check")
    assert check.returncode == 0, check.stdout + check.stderr


def test_image_metadata(image):
    config = json.loads(_docker("image", "inspect", image, timeout=60).stdout)[0]["Config"]
    env = dict(item.split("=", 1) for item in config.get("Env") or [])
    extension = os.environ.get("CHAIN_EXTENSION")
    if extension:
        assert env.get("SAGEMAKER_SKLEARN_EXTENSION_VERSION") == extension, env
    sklearn = os.environ.get("CHAIN_SKLEARN")
    if sklearn:
        assert env.get("SKLEARN_VERSION") == sklearn, env
    assert not config.get("Entrypoint"), config.get("Entrypoint")
    labels = config.get("Labels") or {}
    assert labels.get("com.amazonaws.sagemaker.capabilities.multi-models") == "true", labels
    assert "8080/tcp" in (config.get("ExposedPorts") or {})
