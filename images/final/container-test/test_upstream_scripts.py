"""Scripts written for the upstream AWS scikit-learn image import and serve in this one.

The scripts are written the way AWS's scikit-learn examples and Autopilot's generated
sagemaker_serve.py are: ``from sagemaker_containers.beta.framework import encoders,
worker, ...``, str bodies for text/csv and JSON, ``worker.Response`` results (also from
input_fn and execution_parameters_fn), RecordIO-protobuf towards a built-in algorithm.
The RecordIO answer is read back with the SageMaker Python SDK's own reader.
"""

from __future__ import annotations

import io
import json
import os
import shutil

import numpy as np
import pytest
from conftest import _world_writable, start_server

# Chain hooks, in the style of AWS's inference-pipeline featurizer and Autopilot's code.
CHAIN_SCRIPT = '''
import http.client as http_client
import json
from io import StringIO

import numpy as np
import pandas as pd
from sagemaker_containers.beta.framework import (
    content_types, encoders, env, modules, transformer, worker)


def input_fn(input_data, content_type):
    if content_type == content_types.CSV:
        return pd.read_csv(StringIO(input_data), header=None)  # a str, as upstream gives
    if content_type == content_types.JSON:
        return encoders.decode(input_data, content_type)
    return worker.Response(
        response=f"'{content_type}' is an unsupported content type.",
        status=http_client.UNSUPPORTED_MEDIA_TYPE,
    )


def predict_fn(input_object, model):
    if isinstance(input_object, worker.Response):
        return input_object
    features = np.asarray(input_object, dtype=float)
    if features.min() < -1000:
        raise ValueError("feature out of range")
    return model.predict(features)


def output_fn(prediction, accept):
    if isinstance(prediction, worker.Response):
        return prediction
    if accept == "application/x-recordio-protobuf":
        X = prediction.reshape(-1, 1).astype("float32")
        return worker.Response(
            response=encoders.array_to_recordio_protobuf(X, prediction.astype("float32")),
            status=http_client.OK,
            mimetype=accept,
        )
    if accept == "application/json":
        instances = [{"features": [row]} for row in prediction.tolist()]
        return worker.Response(json.dumps({"instances": instances}), mimetype=accept)
    if accept == "text/csv":
        return worker.Response(encoders.encode(prediction, accept), status=http_client.OK,
                               mimetype=accept)
    return worker.Response(response=f"Accept type '{accept}' is not supported.",
                           status=http_client.NOT_ACCEPTABLE)


def execution_parameters_fn():
    return worker.Response(response='{"MaxPayloadInMB":1}', status=http_client.OK,
                           mimetype="application/json")
'''

# transform_fn returning the older (body, content_type) tuple.
TRANSFORM_SCRIPT = '''
import numpy as np
from sagemaker_containers.beta.framework import encoders


def transform_fn(model, request_body, content_type, accept):
    data = encoders.decode(request_body, content_type)
    return encoders.encode(model.predict(np.atleast_2d(data)) * 10, "text/csv"), "text/csv"
'''


def _csv(X: np.ndarray) -> str:
    return "\n".join(",".join(f"{v:.6g}" for v in row) for row in X) + "\n"


@pytest.fixture(scope="module")
def server(docker, image, trees, model_dir):
    """Multi-model: m1 with the chain-hook script, m2 with the transform_fn script."""
    root = trees.new("upstream-scripts")
    for name, script in (("m1", CHAIN_SCRIPT), ("m2", TRANSFORM_SCRIPT)):
        os.makedirs(os.path.join(root, "models", name, "code"))
        shutil.copy(os.path.join(model_dir, "model.joblib"), os.path.join(root, "models", name))
        with open(os.path.join(root, "models", name, "code", "inference.py"), "w") as handle:
            handle.write(script)
    _world_writable(root)
    srv = start_server(docker, image, "upstream",
                       env={"SAGEMAKER_MULTI_MODEL": "true", "SAGEMAKER_NUM_MODEL_WORKERS": "2"},
                       volumes=[f"{root}/models:/opt/ml/models:ro"])
    for name in ("m1", "m2"):
        srv.expect(srv.post("/models", {"model_name": name, "url": f"/opt/ml/models/{name}"}),
                   200, f"load {name}")
    yield srv
    docker.remove(srv.name)


@pytest.fixture(scope="module")
def single(docker, image, trees, model_dir):
    """Single-model, the script in /opt/ml/model/code as the SDK repacks it."""
    root = trees.new("upstream-single")
    os.makedirs(os.path.join(root, "model", "code"), exist_ok=True)
    with open(os.path.join(root, "model", "code", "inference.py"), "w") as handle:
        handle.write(CHAIN_SCRIPT)
    shutil.copy(os.path.join(model_dir, "model.joblib"), os.path.join(root, "model"))
    _world_writable(root)
    srv = start_server(docker, image, "upstream-single",
                       env={"SAGEMAKER_PROGRAM": "inference.py",
                            "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"},
                       volumes=[f"{root}/model:/opt/ml/model:ro"])
    yield srv
    docker.remove(srv.name)


def test_csv_and_json_through_worker_responses(server, samples):
    X, y = samples
    answer = server.expect(server.post("/models/m1/invoke", _csv(X), "text/csv",
                                       accept="text/csv"), 200, "CSV")
    assert answer.content_type.startswith("text/csv"), answer.content_type
    assert [int(float(v)) for v in answer.body.decode().split()] == y.tolist()
    answer = server.expect(server.post("/models/m1/invoke", json.dumps(X.tolist()),
                                       "application/json", accept="application/json"),
                           200, "JSON")
    assert answer.json() == {"instances": [{"features": [int(v)]} for v in y]}


def test_recordio_protobuf_for_a_builtin_algorithm(server, samples):
    from sagemaker.amazon.common import read_records

    X, y = samples
    answer = server.expect(server.post("/models/m1/invoke", _csv(X), "text/csv",
                                       accept="application/x-recordio-protobuf"),
                           200, "RecordIO-protobuf")
    assert answer.content_type == "application/x-recordio-protobuf", answer.content_type
    records = read_records(io.BytesIO(answer.body))
    assert [r.features["values"].float32_tensor.values[0] for r in records] == y.tolist()
    assert [r.label["values"].float32_tensor.values[0] for r in records] == y.tolist()


def test_script_errors_answer_as_the_script_says(server, samples):
    X, _ = samples
    unsupported = server.expect(server.post("/models/m1/invoke", "x", "text/plain"), 415,
                                "input_fn's worker.Response")
    assert b"'text/plain' is an unsupported content type." in unsupported.body
    server.expect(server.post("/models/m1/invoke", _csv(X), "text/csv", accept="image/png"),
                  406, "output_fn's worker.Response")
    failed = server.expect(server.post("/models/m1/invoke", "-5000,0,0,0\n", "text/csv"), 500,
                           "predict_fn raised")
    body = failed.json()
    assert "feature out of range" in body["message"] and body["code"] == 500, body
    server.expect(server.get("/ping"), 200, "still serving")


def test_transform_fn_tuple(server, samples):
    X, y = samples
    answer = server.expect(server.post("/models/m2/invoke", _csv(X), "text/csv"), 200,
                           "transform_fn")
    assert answer.content_type.startswith("text/csv"), answer.content_type
    assert [int(float(v)) for v in answer.body.decode().split()] == (y * 10).tolist()


def test_single_model_with_execution_parameters(single, samples):
    X, y = samples
    answer = single.expect(single.post("/invocations", _csv(X), "text/csv", accept="text/csv"),
                           200, "CSV")
    assert [int(float(v)) for v in answer.body.decode().split()] == y.tolist()
    params = single.expect(single.get("/execution-parameters"), 200, "execution parameters")
    assert params.json() == {"MaxPayloadInMB": 1}
