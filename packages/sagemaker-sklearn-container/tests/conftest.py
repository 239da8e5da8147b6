"""Shared fixtures.

sagemaker-training fixes its /opt/ml paths when first imported, from
SAGEMAKER_BASE_DIR, so one base dir is chosen for the whole session before
anything imports it, and emptied again before each test.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import joblib
import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

# Some tests start the package's servers (gunicorn) in processes of their own: those import the
# package from src/ too (pytest's pythonpath setting reaches this process only).
SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")]))

SESSION_BASE = tempfile.mkdtemp(prefix="sm-sklearn-base-")
os.environ["SAGEMAKER_BASE_DIR"] = SESSION_BASE
atexit.register(shutil.rmtree, SESSION_BASE, ignore_errors=True)

KNOBS = [
    "SM_MODEL_DIR",
    "SM_INPUT_DIR",
    "SM_INPUT_CONFIG_DIR",
    "SM_OUTPUT_DIR",
    "SM_CODE_DIR",
    "SAGEMAKER_PROGRAM",
    "SAGEMAKER_SUBMIT_DIRECTORY",
    "SAGEMAKER_BIND_TO_PORT",
    "SAGEMAKER_BIND_TO_HOST",
    "SAGEMAKER_NUM_MODEL_WORKERS",
    "SAGEMAKER_MODEL_SERVER_WORKERS",
    "SAGEMAKER_MODEL_JOB_QUEUE_SIZE",
    "SAGEMAKER_MAX_REQUEST_SIZE",
    "MAX_CONTENT_LENGTH",
    "SAGEMAKER_MULTI_MODEL",
    "SAGEMAKER_MODEL_SERVER_TIMEOUT",
    "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT",
    "SAGEMAKER_TRAINING_MODULE",
    "SAGEMAKER_SERVING_MODULE",
    "SAGEMAKER_RUNTIME_DIR",
    "SAGEMAKER_MODEL_REGISTRY_DIR",
    "SKLEARN_SERVING_USER",
    "SAGEMAKER_SKLEARN_LOCAL_SUBMIT_DIRECTORY",
    "SAGEMAKER_SKLEARN_LOCAL_SUBMIT_DIRECTORY_FROM",
    "S3_ENDPOINT_URL",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "SAGEMAKER_REGION",
]

AWS_KNOBS = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
]


@pytest.fixture(autouse=True)
def base_dir(monkeypatch, tmp_path):
    """A clean /opt/ml stand-in for every test, and no stray knobs."""
    for name in KNOBS + AWS_KNOBS:
        monkeypatch.delenv(name, raising=False)
    # boto3 must never look for credentials beyond this test (no instance metadata
    # service, no files of the machine's user); tests that need keys set fake ones.
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("SAGEMAKER_BASE_DIR", SESSION_BASE)
    monkeypatch.setenv("SAGEMAKER_RUNTIME_DIR", str(tmp_path / "runtime"))
    shutil.rmtree(SESSION_BASE, ignore_errors=True)
    for sub in ("model", "code", "input/config", "input/data", "output"):
        os.makedirs(os.path.join(SESSION_BASE, sub))
    yield SESSION_BASE


def save_model(directory: str) -> str:
    """A fitted y = 2x model saved the default way."""
    os.makedirs(directory, exist_ok=True)
    x = np.arange(10, dtype=float).reshape(-1, 1)
    model = LinearRegression().fit(x, 2 * x.ravel())
    joblib.dump(model, os.path.join(directory, "model.joblib"))
    return directory


def write_script(directory: str, name: str, source: str) -> str:
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, name)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(source)
    return path


@pytest.fixture
def model_dir(base_dir):
    return save_model(os.path.join(base_dir, "model"))


def make_tarball(path: str, files: dict[str, str]) -> str:
    """A .tar.gz at ``path`` holding ``files`` (name -> text) at its root, like sourcedir.tar.gz."""
    import io
    import tarfile

    with tarfile.open(path, "w:gz") as archive:
        for name, text in files.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    return path
