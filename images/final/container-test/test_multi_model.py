"""`serve` with SAGEMAKER_MULTI_MODEL=true: the /models API, on 127.0.0.1 only."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
from conftest import start_server

WORKERS = 2

INFERENCE_PY = '''
import numpy as np


def predict_fn(data, model):
    # probability of the predicted class, so the custom hook is visible
    return np.max(model.predict_proba(data), axis=1).round(6)
'''


@pytest.fixture(scope="module")
def models_root(trees, model_dir):
    """/opt/ml/models with m1 (default hooks) and m2 (code/inference.py with predict_fn)."""
    root = trees.new("models")
    models = os.path.join(root, "models")
    for name in ("m1", "m2"):
        os.makedirs(os.path.join(models, name))
        shutil.copy(os.path.join(model_dir, "model.joblib"), os.path.join(models, name))
    os.makedirs(os.path.join(models, "m2", "code"))
    with open(os.path.join(models, "m2", "code", "inference.py"), "w") as handle:
        handle.write(INFERENCE_PY)
    os.makedirs(os.path.join(models, "empty"))
    return models


@pytest.fixture(scope="module")
def server(docker, image, models_root):
    srv = start_server(
        docker,
        image,
        "mme",
        env={"SAGEMAKER_MULTI_MODEL": "true", "SAGEMAKER_NUM_MODEL_WORKERS": str(WORKERS)},
        volumes=[f"{models_root}:/opt/ml/models:ro"],
    )
    yield srv
    docker.remove(srv.name)


def _csv(X: np.ndarray) -> str:
    return "\n".join(",".join(f"{v:.6g}" for v in row) for row in X) + "\n"


def test_multi_model_lifecycle(server, samples):
    X, y = samples
    body = _csv(X)

    server.expect(server.get("/ping"), 200, "ping")
    assert server.expect(server.get("/models"), 200, "list (empty)").json() == {"models": []}

    server.expect(server.request("DELETE", "/models/unknown"), 404, "unload unknown")
    server.expect(server.get("/models/unknown"), 404, "describe unknown")
    server.expect(server.post("/models/unknown/invoke", body, "text/csv"), 404, "invoke unknown")

    load = {"model_name": "m1", "url": "/opt/ml/models/m1"}
    server.expect(server.post("/models", load), 200, "load m1")
    server.expect(server.post("/models", load), 409, "load m1 again")

    listed = server.expect(server.get("/models"), 200, "list").json()
    assert listed == {"models": [{"model_name": "m1", "url": "/opt/ml/models/m1"}]}, listed
    described = server.expect(server.get("/models/m1"), 200, "describe m1").json()
    assert described == {"model_name": "m1", "url": "/opt/ml/models/m1"}, described

    # Several invocations, so that every gunicorn worker sees the registry entry.
    for _ in range(2 * WORKERS):
        answer = server.expect(server.post("/models/m1/invoke", body, "text/csv"), 200,
                               "invoke m1")
        assert answer.json() == y.tolist()
    answer = server.expect(
        server.post("/invocations", body, "text/csv", accept="text/csv",
                    headers={"X-Amzn-SageMaker-Target-Model": "m1"}),
        200, "/invocations with target-model header",
    )
    assert [int(float(v)) for v in answer.body.decode().split()] == y.tolist()

    server.expect(server.request("DELETE", "/models/m1"), 200, "unload m1")
    for _ in range(2 * WORKERS):
        server.expect(server.post("/models/m1/invoke", body, "text/csv"), 404,
                      "invoke after unload")
    server.expect(server.get("/models/m1"), 404, "describe after unload")
    server.expect(server.request("DELETE", "/models/m1"), 404, "unload twice")
    assert server.get("/models").json() == {"models": []}

    # Load again under the same name after unloading.
    server.expect(server.post("/models", load), 200, "reload m1")
    server.expect(server.post("/models/m1/invoke", body, "text/csv"), 200, "invoke reloaded m1")
    server.expect(server.request("DELETE", "/models/m1"), 200, "unload reloaded m1")


def test_model_with_inference_script(server, samples):
    X, _ = samples
    server.expect(server.post("/models", {"model_name": "m2", "url": "/opt/ml/models/m2"}), 200,
                  "load m2")
    try:
        for _ in range(2 * WORKERS):
            answer = server.expect(server.post("/models/m2/invoke", _csv(X), "text/csv"), 200,
                                   "invoke m2")
            probabilities = answer.json()
            assert len(probabilities) == len(X)
            assert all(0.5 < p <= 1.0 for p in probabilities), probabilities
    finally:
        server.request("DELETE", "/models/m2")


def test_bad_load_requests(server):
    server.expect(server.post("/models", {"model_name": "x", "url": "/opt/ml/models/nope"}), 400,
                  "url not a directory")
    server.expect(server.post("/models", {"model_name": "../evil", "url": "/opt/ml/models/m1"}),
                  400, "bad model name")
    server.expect(server.post("/models", {"url": "/opt/ml/models/m1"}), 400, "no model_name")
    # A directory without model.joblib is refused at load time (UserError -> 400).
    server.expect(server.post("/models", {"model_name": "empty", "url": "/opt/ml/models/empty"}),
                  400, "model dir without model.joblib")
    server.expect(server.get("/models/empty"), 404, "a refused model is not registered")


def test_invocations_without_target_header_is_400(server, samples):
    X, _ = samples
    server.expect(server.post("/invocations", _csv(X), "text/csv"), 400, "no target header")


def test_execution_parameters(server):
    params = server.expect(server.get("/execution-parameters"), 200, "exec params").json()
    assert params["MaxConcurrentTransforms"] == WORKERS
    assert params["BatchStrategy"] == "MULTI_RECORD"
