"""`docker run IMAGE train` the way SageMaker does: /opt/ml mounted, script mode."""

from __future__ import annotations

import json
import os

from conftest import HYPERPARAMETERS, run_train


def test_train_succeeds(trained):
    assert trained.result.returncode == 0, (
        f"train exited {trained.result.returncode}\n{trained.output[-6000:]}"
    )
    model = os.path.join(trained.root, "model", "model.joblib")
    assert os.path.isfile(model) and os.path.getsize(model) > 0, os.listdir(
        os.path.join(trained.root, "model")
    )
    assert os.path.exists(os.path.join(trained.root, "output", "success"))
    assert not os.path.exists(os.path.join(trained.root, "output", "failure"))


def test_train_passes_hyperparameters_and_channels(trained):
    path = os.path.join(trained.root, "output", "data", "report.json")
    assert os.path.isfile(path), f"the script did not write report.json\n{trained.output[-4000:]}"
    with open(path) as handle:
        report = json.load(handle)
    assert report["n_estimators"] == int(HYPERPARAMETERS["n_estimators"])
    assert report["max_depth"] == int(HYPERPARAMETERS["max_depth"])
    assert report["rows"] == 120
    assert report["train_accuracy"] == 1.0
    env = report["env"]
    assert env.get("SM_MODEL_DIR") == "/opt/ml/model"
    assert env.get("SM_CHANNEL_TRAINING") == "/opt/ml/input/data/training"
    assert json.loads(env.get("SM_HPS", "{}")).get("n_estimators") in (7, "7")


def test_train_failing_script(docker, image, trees):
    root = trees.new("train-fail")
    result = run_train(docker, image, root, "fail.py")
    output = (result.stdout + result.stderr).decode(errors="replace")
    assert result.returncode != 0, output[-4000:]
    # README: a failing user script is an AlgorithmError, exit code 1.
    assert result.returncode == 1, f"exit {result.returncode}\n{output[-4000:]}"
    failure = os.path.join(root, "output", "failure")
    assert os.path.isfile(failure), f"no output/failure\n{output[-4000:]}"
    with open(failure) as handle:
        text = handle.read()
    assert text.startswith("AlgorithmError"), text
    assert len(text) <= 1024
    assert not os.path.exists(os.path.join(root, "output", "success"))
    assert "intentional failure from fail.py" in output


def test_train_missing_script(docker, image, trees):
    root = trees.new("train-missing")
    result = run_train(docker, image, root, "does_not_exist.py")
    output = (result.stdout + result.stderr).decode(errors="replace")
    # README: a missing script is a UserError, exit code 2.
    assert result.returncode == 2, f"exit {result.returncode}\n{output[-4000:]}"
    with open(os.path.join(root, "output", "failure")) as handle:
        text = handle.read()
    assert text.startswith("UserError") and "does_not_exist.py" in text, text
