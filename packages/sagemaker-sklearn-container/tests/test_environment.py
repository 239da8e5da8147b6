import os

import pytest

from sagemaker_sklearn_container import environment
from sagemaker_sklearn_container.errors import UserError


def test_paths_follow_base_dir(base_dir):
    assert environment.base_dir() == base_dir
    assert environment.model_dir() == os.path.join(base_dir, "model")
    assert environment.input_config_dir() == os.path.join(base_dir, "input", "config")
    assert environment.output_dir() == os.path.join(base_dir, "output")
    assert environment.code_dir() == os.path.join(base_dir, "code")


def test_single_paths_can_be_moved(monkeypatch, tmp_path):
    monkeypatch.setenv("SM_MODEL_DIR", str(tmp_path / "m"))
    monkeypatch.setenv("SM_INPUT_DIR", str(tmp_path / "in"))
    monkeypatch.setenv("SM_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("SAGEMAKER_MODEL_REGISTRY_DIR", str(tmp_path / "reg"))
    assert environment.model_dir() == str(tmp_path / "m")
    assert environment.input_config_dir() == str(tmp_path / "in" / "config")
    assert environment.output_dir() == str(tmp_path / "out")
    assert environment.model_registry_dir() == str(tmp_path / "reg")


def test_registry_defaults_under_runtime_dir(tmp_path):
    assert environment.model_registry_dir() == str(tmp_path / "runtime" / "models")


def test_default_base_dir(monkeypatch):
    monkeypatch.delenv("SAGEMAKER_BASE_DIR")
    assert environment.model_dir() == "/opt/ml/model"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, 6 * environment.MIB),
        ({"SAGEMAKER_MAX_REQUEST_SIZE": "1000"}, 1000),
        ({"MAX_CONTENT_LENGTH": "2000"}, 2000),
        ({"SAGEMAKER_MAX_REQUEST_SIZE": "1000", "MAX_CONTENT_LENGTH": "2000"}, 2000),
        ({"MAX_CONTENT_LENGTH": str(100 * environment.MIB)}, 20 * environment.MIB),
        ({"MAX_CONTENT_LENGTH": "0"}, 6 * environment.MIB),
    ],
)
def test_max_content_length(monkeypatch, env, expected):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert environment.max_content_length() == expected


def test_bad_integer_is_user_error(monkeypatch):
    monkeypatch.setenv("SAGEMAKER_BIND_TO_PORT", "eighty")
    with pytest.raises(UserError, match="SAGEMAKER_BIND_TO_PORT"):
        environment.ServingSettings.from_env()


def test_serving_settings(monkeypatch):
    defaults = environment.ServingSettings.from_env()
    assert defaults.port == 8080
    assert defaults.workers == (os.cpu_count() or 1)
    assert defaults.multi_model is False
    assert defaults.default_accept == "application/json"
    monkeypatch.setenv("SAGEMAKER_BIND_TO_PORT", "9090")
    monkeypatch.setenv("SAGEMAKER_NUM_MODEL_WORKERS", "3")
    monkeypatch.setenv("SAGEMAKER_MODEL_JOB_QUEUE_SIZE", "7")
    monkeypatch.setenv("SAGEMAKER_MULTI_MODEL", "TRUE")
    monkeypatch.setenv("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", "text/csv")
    settings = environment.ServingSettings.from_env()
    assert (settings.port, settings.workers, settings.job_queue_size) == (9090, 3, 7)
    assert settings.multi_model is True
    assert settings.default_accept == "text/csv"
