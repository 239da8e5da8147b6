"""Static properties of the final image: metadata from `docker image inspect`,
and what is installed (one short container)."""

from __future__ import annotations

import json
import os
import re

import pytest
from conftest import free_port

EXPECTED_LABELS = {
    "com.amazonaws.sagemaker.capabilities.accept-bind-to-port": "true",
    "com.amazonaws.sagemaker.capabilities.multi-models": "true",
}

EXPECTED_ENV = {
    "SAGEMAKER_TRAINING_MODULE": "sagemaker_sklearn_container.training:main",
    "SAGEMAKER_SERVING_MODULE": "sagemaker_sklearn_container.serving:main",
    "SM_INPUT": "/opt/ml/input",
    "SM_INPUT_TRAINING_CONFIG_FILE": "/opt/ml/input/config/hyperparameters.json",
    "SM_INPUT_DATA_CONFIG_FILE": "/opt/ml/input/config/inputdataconfig.json",
    "SM_CHECKPOINT_CONFIG_FILE": "/opt/ml/input/config/checkpointconfig.json",
    "SM_MODEL_DIR": "/opt/ml/model",
}


def _env(config: dict) -> dict:
    return dict(item.split("=", 1) for item in (config["Config"].get("Env") or []))


def test_sagemaker_labels(image_config):
    labels = image_config["Config"].get("Labels") or {}
    for key, value in EXPECTED_LABELS.items():
        assert labels.get(key) == value, f"label {key}: {labels.get(key)!r} (all: {labels})"


def test_exposes_8080(image_config):
    exposed = image_config["Config"].get("ExposedPorts") or {}
    assert "8080/tcp" in exposed, exposed


def test_no_entrypoint(image_config):
    # SageMaker runs `docker run IMAGE train|serve`: an ENTRYPOINT would swallow that.
    assert not image_config["Config"].get("Entrypoint"), image_config["Config"].get("Entrypoint")


def test_sagemaker_environment(image_config):
    env = _env(image_config)
    for key, value in EXPECTED_ENV.items():
        assert env.get(key) == value, f"{key}={env.get(key)!r}"
    assert env.get("PATH", "").split(":")[0] == "/opt/venv/bin", env.get("PATH")


PROBE = r"""
import json, os, platform, pwd, shutil, sys
from importlib import metadata
import numpy, pandas, sklearn, sagemaker_sklearn_container
print(json.dumps({
    "python": platform.python_version(),
    "executable": sys.executable,
    "prefix": sys.prefix,
    "sklearn": sklearn.__version__,
    "numpy": numpy.__version__,
    "pandas": pandas.__version__,
    "distributions": {d.metadata["Name"]: d.version for d in metadata.distributions()},
    "train": shutil.which("train"),
    "serve": shutil.which("serve"),
    "nginx": shutil.which("nginx"),
    "model_server_user": [e.pw_name for e in pwd.getpwall() if e.pw_name == "model-server"],
    "os_release": open("/etc/os-release").read(),
}))
"""


@pytest.fixture(scope="module")
def probe(docker, image) -> dict:
    result = docker.run_rm(image, "python", "-c", PROBE, name_hint="probe", timeout=120,
                           docker_args=("--network", "none"))
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return json.loads(result.stdout.decode().strip().splitlines()[-1])


# The line's variables (the container-test executor gives them as CHAIN_*); without them
# (a run by hand) the default line's: 1.9-0 on Debian 13 (trixie, Python 3.13).
SUITE = os.environ.get("CHAIN_SUITE", "trixie")
PYTHON3 = os.environ.get("CHAIN_PYTHON3", "3.13")  # the suite's python3: the venv's Python
DEFAULT_BASE_PINS = "numpy==2.5.5"


def _pins(variable: str, default: str = "") -> dict[str, str]:
    """CHAIN_PINS_<STAGE> ("numpy==1.26.4 pandas==2.2.3 ...") as {canonical name: version}."""
    pins = {}
    for spec in os.environ.get(variable, default).split():
        name, _, version = spec.partition("==")
        pins[_canonical(name)] = version
    return pins


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_python_stack(probe):
    assert probe["prefix"] == "/opt/venv", probe["prefix"]
    assert probe["python"].startswith(PYTHON3 + "."), (probe["python"], PYTHON3)
    chain_python = os.environ.get("CHAIN_PYTHON")
    if chain_python:
        assert probe["python"].startswith(chain_python), (probe["python"], chain_python)
    expected_sklearn = os.environ.get("CHAIN_SKLEARN", "1.4.2")
    assert probe["sklearn"] == expected_sklearn
    minor = os.environ.get("CHAIN_SKLEARN_MINOR")
    if minor:
        assert probe["sklearn"].startswith(minor + "."), (probe["sklearn"], minor)
    base = _pins("CHAIN_PINS_BASE", DEFAULT_BASE_PINS)
    assert probe["numpy"] == base["numpy"], (probe["numpy"], base["numpy"])
    if "pandas" in base:
        assert probe["pandas"] == base["pandas"], (probe["pandas"], base["pandas"])
    assert probe["pandas"]


def test_every_pin_of_the_line_is_installed(probe):
    """What the image holds is what the line's pins say, stage by stage (base's stack
    untouched by final's install, and final's own requirements)."""
    installed = {_canonical(name): version for name, version in probe["distributions"].items()}
    pins = {**_pins("CHAIN_PINS_BASE"), **_pins("CHAIN_PINS_FINAL")}
    if not pins:
        pytest.skip("no CHAIN_PINS_BASE/CHAIN_PINS_FINAL: run through the container-test target")
    wrong = {
        name: (version, installed.get(name))
        for name, version in pins.items()
        if installed.get(name) != version
    }
    assert not wrong, f"pinned vs installed: {wrong}"


# What final installs must import as it does on every line, whatever changed below it
# (Python 3.12+ has no distutils/imp; setuptools 82+ no pkg_resources, which
# sagemaker_inference.model_server imports at module level).
RUNTIME_MODULES = (
    "sagemaker_training.entry_point", "sagemaker_training.recordio",
    "sagemaker_training.record_pb2", "sagemaker_inference.model_server",
    "sagemaker_inference.transformer", "mms.model_server", "model_archiver.model_packaging",
    "flask", "gunicorn.app.wsgiapp", "gevent.monkey", "boto3", "google.protobuf", "psutil",
    "paramiko", "PIL.Image", "retrying", "inotify_simple", "sagemaker_containers.beta.framework",
    "sagemaker_sklearn_container.serving", "sagemaker_sklearn_container.training",
)
IMPORTS = r"""
import importlib, json, sys, warnings
warnings.simplefilter("ignore")
failed = {}
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except Exception as exc:
        failed[name] = f"{type(exc).__name__}: {exc}"
print(json.dumps(failed))
"""


def test_runtime_requirements_import(docker, image):
    result = docker.run_rm(image, "python", "-c", IMPORTS, *RUNTIME_MODULES, name_hint="imports",
                           timeout=120, docker_args=("--network", "none"))
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    failed = json.loads(result.stdout.decode().strip().splitlines()[-1])
    assert not failed, failed


def test_commands_and_user(probe):
    assert probe["train"] and probe["train"].startswith("/opt/venv/bin/"), probe["train"]
    assert probe["serve"] and probe["serve"].startswith("/opt/venv/bin/"), probe["serve"]
    assert probe["nginx"], "nginx not on PATH"
    assert probe["model_server_user"] == ["model-server"]
    assert f"VERSION_CODENAME={SUITE}" in probe["os_release"], probe["os_release"]


# The Java frontend of multi-model-server, started on the image's own Java runtime (a jlink
# image with only the modules it needs): it must come up healthy, with no missing class.
MMS_FRONTEND = r"""
set -eu
cd /tmp
mkdir -p models
printf 'inference_address=http://127.0.0.1:%s\nmanagement_address=http://127.0.0.1:%s\n' "$1" "$2" > mms.properties
multi-model-server --start --model-store models --mms-config mms.properties > mms.out 2>&1
ok=no
for i in $(seq 120); do
  if curl -sf "http://127.0.0.1:$1/ping" > ping.json; then ok=yes; break; fi
  sleep 0.5
done
curl -sf "http://127.0.0.1:$2/models" > models.json || true
multi-model-server --stop > /dev/null 2>&1 || true
echo "java: $(command -v java) JAVA_HOME=${JAVA_HOME:-}"
echo "ping: $ok $(cat ping.json 2>/dev/null)"
echo "models: $(cat models.json 2>/dev/null)"
echo "--- frontend output"
cat mms.out logs/*.log 2>/dev/null || true
"""


def test_multi_model_server_frontend_starts(docker, image):
    # multi-model-server refuses ports above 32767.
    ports = [str(free_port(below=32768)), str(free_port(below=32768))]
    result = docker.run_rm(image, "sh", "-c", MMS_FRONTEND, "mms", *ports, name_hint="mms", timeout=180,
                           docker_args=("--network", "host"))
    out = result.stdout.decode(errors="replace")
    assert result.returncode == 0, out + result.stderr.decode(errors="replace")
    assert "java: /opt/java/bin/java JAVA_HOME=/opt/java" in out, out
    assert 'ping: yes' in out and '"Healthy"' in out, out
    assert '"models": []' in out, out
    frontend = out.split("--- frontend output", 1)[1]
    for problem in ("NoClassDefFoundError", "ClassNotFoundException", "Exception in thread"):
        assert problem not in frontend, frontend
