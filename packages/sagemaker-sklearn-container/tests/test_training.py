"""Training through sagemaker-training, the `train`/`serve` commands and their failures."""

import json
import logging
import os

import pytest

from sagemaker_sklearn_container import cli, serving, training
from sagemaker_sklearn_container.errors import AlgorithmError, UserError

from conftest import write_script

FIT = """
import argparse, os, joblib, numpy as np
from sklearn.linear_model import LinearRegression
parser = argparse.ArgumentParser()
parser.add_argument("--slope", type=float, default=1.0)
args = parser.parse_args()
x = np.loadtxt(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "x.csv")).reshape(-1, 1)
model = LinearRegression().fit(x, args.slope * x.ravel())
joblib.dump(model, os.path.join(os.environ["SM_MODEL_DIR"], "model.joblib"))
"""


def config(base_dir, name, content):
    with open(os.path.join(base_dir, "input", "config", name), "w", encoding="utf-8") as handle:
        json.dump(content, handle)


@pytest.fixture
def job(base_dir, monkeypatch):
    """A training job laid out as SageMaker does: code in /opt/ml/code, one channel."""
    write_script(os.path.join(base_dir, "code"), "fit.py", FIT)
    os.makedirs(os.path.join(base_dir, "input", "data", "train"))
    with open(os.path.join(base_dir, "input", "data", "train", "x.csv"), "w") as handle:
        handle.write("1\n2\n3\n")
    config(base_dir, "hyperparameters.json", {"slope": "3"})
    monkeypatch.setenv("SAGEMAKER_PROGRAM", "fit.py")
    return base_dir


def test_train_command_success(job):
    with pytest.raises(SystemExit) as info:
        cli.train()
    assert info.value.code == 0
    assert os.path.exists(os.path.join(job, "model", "model.joblib"))
    assert os.path.exists(os.path.join(job, "output", "success"))
    # Missing config files were given local defaults (one channel per data folder).
    with open(os.path.join(job, "input", "config", "inputdataconfig.json")) as handle:
        assert list(json.load(handle)) == ["train"]


def test_failing_script_writes_failure_and_exits_nonzero(job):
    write_script(os.path.join(job, "code"), "fit.py", "raise ValueError('bad data')\n")
    with pytest.raises(SystemExit) as info:
        cli.train()
    assert info.value.code == AlgorithmError.exit_code
    with open(os.path.join(job, "output", "failure")) as handle:
        assert handle.read().startswith("AlgorithmError: training script fit.py failed")


def test_main_raises_and_writes_failure(job, monkeypatch):
    monkeypatch.delenv("SAGEMAKER_PROGRAM")
    with pytest.raises(UserError):
        training.main()
    with open(os.path.join(job, "output", "failure")) as handle:
        assert handle.read().startswith("UserError: no training script")


def test_unexpected_error_is_platform_error(job, monkeypatch):
    def explode():
        raise RuntimeError("disk gone")

    monkeypatch.setattr(training, "run_training", explode)
    with pytest.raises(SystemExit) as info:
        cli.train()
    assert info.value.code == 3
    with open(os.path.join(job, "output", "failure")) as handle:
        assert handle.read() == "PlatformError: RuntimeError: disk gone"


def test_toolkit_client_error_is_user_error(job, monkeypatch):
    from sagemaker_training import entry_point
    from sagemaker_training import errors as sm_errors

    def fail(**kwargs):
        raise sm_errors.InstallRequirementsError(["pip"], 1, b"no such package")

    monkeypatch.setattr(entry_point, "run", fail)
    with pytest.raises(UserError, match=r"preparing fit\.py"):
        training.run_training()


def test_entry_point_from_hyperparameters(job, monkeypatch, tmp_path):
    monkeypatch.delenv("SAGEMAKER_PROGRAM")
    submit = tmp_path / "submit"
    write_script(str(submit), "other.py", "")
    config(
        job,
        "hyperparameters.json",
        {
            "sagemaker_program": json.dumps("other.py"),
            "sagemaker_submit_directory": json.dumps(str(submit)),
        },
    )
    assert training.resolve_entry_point() == ("other.py", str(submit))
    config(
        job,
        "hyperparameters.json",
        {"sagemaker_program": "fit.py", "sagemaker_submit_directory": "s3://b/k.tar.gz"},
    )
    assert training.resolve_entry_point() == ("fit.py", "s3://b/k.tar.gz")


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ({"SAGEMAKER_SUBMIT_DIRECTORY": "/definitely/not/here"}, "does not exist"),
        ({"SAGEMAKER_PROGRAM": "missing.py"}, "not found"),
    ],
)
def test_entry_point_problems_are_user_errors(job, monkeypatch, setup, message):
    for name, value in setup.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(UserError, match=message):
        training.resolve_entry_point()


def test_bad_hyperparameters_file(job):
    with open(os.path.join(job, "input", "config", "hyperparameters.json"), "w") as handle:
        handle.write("{not json")
    with pytest.raises(UserError, match="not valid JSON"):
        training.resolve_entry_point()


def test_train_dispatches_to_configured_module(job, monkeypatch):
    monkeypatch.setenv("SAGEMAKER_TRAINING_MODULE", "json:nonexistent_function")
    with pytest.raises(SystemExit) as info:
        cli.train()
    assert info.value.code == UserError.exit_code


def test_serve_dispatch(monkeypatch):
    calls = []
    monkeypatch.setattr(serving, "main", lambda: calls.append("served") or 0)
    with pytest.raises(SystemExit) as info:
        cli.serve()
    assert (info.value.code, calls) == (0, ["served"])
    monkeypatch.setenv("SAGEMAKER_SERVING_MODULE", "no_such_module_here:main")
    with pytest.raises(SystemExit) as info:
        cli.serve()
    assert info.value.code == UserError.exit_code


def test_serving_main_refuses_transform_fn_clash(base_dir):
    write_script(
        os.path.join(base_dir, "model", "code"),
        "inference.py",
        "def transform_fn(m, b, c, a):\n    return b\n\ndef predict_fn(d, m):\n    return d\n",
    )
    assert serving.main() == UserError.exit_code
    with open(os.path.join(base_dir, "output", "failure")) as handle:
        assert "transform_fn cannot be combined with predict_fn" in handle.read()


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("10", logging.DEBUG),
        ("warning", logging.WARNING),
        ("chatty", logging.INFO),
        (None, logging.INFO),
    ],
)
def test_log_level_knob(monkeypatch, setting, expected):
    """SAGEMAKER_CONTAINER_LOG_LEVEL takes a number or a level name; anything else means INFO."""
    if setting is None:
        monkeypatch.delenv("SAGEMAKER_CONTAINER_LOG_LEVEL", raising=False)
    else:
        monkeypatch.setenv("SAGEMAKER_CONTAINER_LOG_LEVEL", setting)
    # The root logger as a fresh process has it (pytest adds its handlers for the test's call),
    # so that basicConfig takes effect.
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    root.handlers.clear()
    try:
        cli.configure_logging()
        assert root.level == expected
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:] = handlers
        root.setLevel(level)
