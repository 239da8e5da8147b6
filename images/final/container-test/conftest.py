"""Fixtures and data for the container tests of the final image (preprod-sklearn).

Contract: run on the host, from the repository's root, as
    IMAGE=sha256:... DOCKER_CLIENT=docker PYTHONPATH=tools/container-test \
        .venv/bin/python -m pytest -p no:cacheprovider -q -rfE images/final/container-test
PYTHONPATH makes the helpers shared by every image's container tests importable
(tools/container-test/image_testing.py: docker, the /opt/ml tree, training and serving
runs, HTTP with urllib); the test files import them from here. This file adds the final
image's data (numpy): the training and inference scripts, samples, a trained model.

Networking: serving containers run with ``--network host`` and nginx bound to
127.0.0.1 on a free port picked per container; the tests only ever talk to
127.0.0.1. Training containers run with ``--network none``. Every container is
named with a unique prefix and removed in a finalizer.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import textwrap
import time
import uuid
from dataclasses import dataclass

import numpy as np
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
    LOG_TAIL,
    TRAIN_TIMEOUT,
    Docker,
    Response,
    Server,
    configure,
    docker_fixture,
    free_port,
    http,
    image_fixture,
    make_ml_tree,
    remove_tree,
    run_train,
    start_server,
    text,
    world_writable,
)

SETTINGS = configure("final", start_timeout=60, http_timeout=30.0)
START_TIMEOUT = SETTINGS.start_timeout
HTTP_TIMEOUT = SETTINGS.http_timeout
_world_writable = world_writable  # the name test_code_delivery and test_upstream_scripts use

# Synthetic, well separated data: 3 classes around far apart centres, 4 features.
N_FEATURES = 4
CENTRES = np.array([[0.0, 0.0, 0.0, 0.0], [10.0, 10.0, 10.0, 10.0], [-10.0, 10.0, -10.0, 10.0]])
LABELS = np.array([0, 1, 2])


@pytest.fixture(scope="session")
def image_config(docker, image) -> dict:
    result = docker("image", "inspect", image, check=True, timeout=60)
    return json.loads(result.stdout)[0]


# --- the /opt/ml tree -----------------------------------------------------------------

TRAIN_SCRIPT = textwrap.dedent(
    '''
    """User training script (script mode) that also provides an inference hook."""
    import argparse
    import glob
    import json
    import os

    import joblib
    import pandas as pd
    from sklearn.ensemble import RandomForestClassifier


    def model_fn(model_dir):
        model = joblib.load(os.path.join(model_dir, "model.joblib"))
        model.loaded_by_user_model_fn = True
        return model


    if __name__ == "__main__":
        parser = argparse.ArgumentParser()
        parser.add_argument("--n_estimators", type=int, default=5)
        parser.add_argument("--max_depth", type=int, default=None)
        parser.add_argument("--model-dir", dest="model_dir", default=os.environ.get("SM_MODEL_DIR"))
        parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAINING"))
        args, unknown = parser.parse_known_args()

        files = sorted(glob.glob(os.path.join(args.train, "*.csv")))
        if not files:
            raise SystemExit("no CSV in %s" % args.train)
        frame = pd.concat([pd.read_csv(path, header=None) for path in files])
        y = frame.iloc[:, 0].astype(int)
        X = frame.iloc[:, 1:].to_numpy(dtype=float)

        model = RandomForestClassifier(
            n_estimators=args.n_estimators, max_depth=args.max_depth, random_state=0
        )
        model.fit(X, y)
        joblib.dump(model, os.path.join(args.model_dir, "model.joblib"))

        report = {
            "n_estimators": args.n_estimators,
            "max_depth": args.max_depth,
            "rows": int(len(frame)),
            "train_accuracy": float(model.score(X, y)),
            "unknown_args": unknown,
            "env": {k: v for k, v in os.environ.items() if k.startswith("SM_")},
        }
        out_dir = os.environ.get("SM_OUTPUT_DATA_DIR") or "/opt/ml/output/data"
        os.makedirs(out_dir, exist_ok=True)
        with open(os.path.join(out_dir, "report.json"), "w") as handle:
            json.dump(report, handle)
        print("trained", report["train_accuracy"])
    '''
).lstrip()

FAIL_SCRIPT = textwrap.dedent(
    """
    import sys
    print("about to fail on purpose", file=sys.stderr)
    raise RuntimeError("intentional failure from fail.py")
    """
).lstrip()

HYPERPARAMETERS = {"n_estimators": "7", "max_depth": "4"}


def make_samples(per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = np.concatenate([c + rng.normal(0, 0.5, size=(per_class, N_FEATURES)) for c in CENTRES])
    y = np.repeat(LABELS, per_class)
    return X, y


def build_ml_tree(root: str) -> str:
    """The training tree in ``root`` (returned): train.py and fail.py, a CSV of samples,
    HYPERPARAMETERS."""
    X, y = make_samples(per_class=40, seed=1)
    buffer = io.StringIO()
    np.savetxt(buffer, np.column_stack([y, X]), delimiter=",", fmt="%.6g")
    return make_ml_tree(
        root,
        code={"train.py": TRAIN_SCRIPT, "fail.py": FAIL_SCRIPT},
        data={"train.csv": buffer.getvalue()},
        hyperparameters=HYPERPARAMETERS,
    )


class TreeFactory:
    """Creates /opt/ml trees and removes them (with docker for root-owned files)."""

    def __init__(self, docker: Docker, image: str, base: str):
        self.docker, self.image, self.base = docker, image, base
        self.roots: list[str] = []

    def new(self, name: str) -> str:
        root = os.path.join(self.base, f"{name}-{uuid.uuid4().hex[:6]}")
        os.makedirs(root)
        self.roots.append(root)
        return build_ml_tree(root)

    def cleanup(self) -> None:
        for root in self.roots:
            remove_tree(self.docker, self.image, root)


@pytest.fixture(scope="session")
def trees(docker, image, tmp_path_factory):
    factory = TreeFactory(docker, image, str(tmp_path_factory.mktemp("opt-ml")))
    yield factory
    factory.cleanup()


@dataclass
class TrainRun:
    root: str
    result: subprocess.CompletedProcess
    seconds: float

    @property
    def output(self) -> str:
        return text(self.result.stdout) + text(self.result.stderr)


@pytest.fixture(scope="session")
def trained(docker, image, trees) -> TrainRun:
    """One successful training run, shared by the training and serving tests."""
    root = trees.new("train-ok")
    start = time.monotonic()
    result = run_train(docker, image, root, "train.py")
    return TrainRun(root, result, time.monotonic() - start)


@pytest.fixture(scope="session")
def model_dir(trained) -> str:
    path = os.path.join(trained.root, "model", "model.joblib")
    if trained.result.returncode != 0 or not os.path.exists(path):
        pytest.fail(
            f"training failed (exit {trained.result.returncode}), no model to serve:\n"
            + trained.output[-4000:]
        )
    return os.path.join(trained.root, "model")


@pytest.fixture(scope="session")
def samples() -> tuple[np.ndarray, np.ndarray]:
    """Fresh points (not the training rows) with their expected labels."""
    return make_samples(per_class=3, seed=7)
