"""The sagemaker_containers compatibility package, used the way upstream scripts use it."""

from __future__ import annotations

import http.client as http_client
import io
import json
import os
import textwrap

import numpy as np
import pytest
from scipy import sparse

from sagemaker_containers.beta.framework import (
    content_types,
    encoders,
    env,
    errors,
    modules,
    training_env,
    transformer,
    worker,
)
from sagemaker_sklearn_container import app as app_module
from sagemaker_sklearn_container import recordio

from conftest import save_model, write_script


def test_content_types():
    assert (content_types.CSV, content_types.JSON, content_types.NPY) == (
        "text/csv",
        "application/json",
        "application/x-npy",
    )
    assert content_types.JSON in content_types.UTF8_TYPES


def test_array_round_trips():
    array = np.array([[1.5, 2.0], [3.0, 4.0]])
    assert encoders.array_to_csv(array) == "1.5,2.0\n3.0,4.0\n"
    assert encoders.csv_to_numpy("1.5,2.0\n3.0,4.0\n").tolist() == array.tolist()
    assert encoders.csv_to_numpy(b"1,2,3").tolist() == [1.0, 2.0, 3.0]  # one row: squeezed
    assert encoders.csv_to_numpy("a,b", dtype=str).tolist() == ["a", "b"]
    assert encoders.array_to_csv([1, 2]) == "1\n2\n"
    assert encoders.array_to_csv(5) == "5\n"
    assert json.loads(encoders.array_to_json(array)) == array.tolist()
    assert json.loads(encoders.array_to_json({"p": np.float32(0.5)})) == {"p": 0.5}
    assert encoders.json_to_numpy("[[1, 2]]", dtype=float).tolist() == [[1.0, 2.0]]
    assert encoders.npy_to_numpy(encoders.array_to_npy(array)).tolist() == array.tolist()
    assert encoders.array_to_csv(sparse.csr_matrix(array)) == "1.5,2.0\n3.0,4.0\n"
    assert json.loads(encoders.array_to_json(sparse.csr_matrix(array))) == array.tolist()


def test_decode_and_encode_by_content_type():
    assert encoders.decode("[1, 2]", content_types.JSON).tolist() == [1, 2]
    assert encoders.decode(b"1,2\n3,4", "text/csv; charset=utf-8").tolist() == [[1, 2], [3, 4]]
    assert encoders.decode(b'[1, 2]\n{"features": [3, 4]}\n', "application/jsonlines").tolist() == [
        [1, 2],
        [3, 4],
    ]
    assert encoders.encode([[1, 2]], content_types.JSON) == "[[1, 2]]"
    assert encoders.encode(np.array([1, 2]), content_types.CSV) == "1\n2\n"
    assert encoders.encode([[1, 2]], "application/jsonlines") == "[1, 2]\n"
    npy = encoders.encode(np.array([1.0]), content_types.NPY)
    assert np.load(io.BytesIO(npy)).tolist() == [1.0]
    protobuf = encoders.encode(np.array([[1.0, 2.0]]), "application/x-recordio-protobuf")
    assert recordio.read(protobuf).tolist() == [[1.0, 2.0]]


def test_format_errors_are_4xx():
    with pytest.raises(errors.UnsupportedFormatError) as raised:
        encoders.decode(b"x", "text/plain")
    assert raised.value.status == 415 and "text/plain" in raised.value.message
    with pytest.raises(errors.UnsupportedFormatError) as raised:
        encoders.encode([1], "image/png")
    assert raised.value.status == 406
    for call in (
        lambda: encoders.csv_to_numpy("1,2\n3"),  # ragged
        lambda: encoders.csv_to_numpy("a,b", dtype=float),
        lambda: encoders.csv_to_numpy(b"\xff"),
        lambda: encoders.json_to_numpy("{nope"),
        lambda: encoders.npy_to_numpy(b"not npy"),
        lambda: encoders.decode(b"", "application/jsonlines"),
        lambda: encoders.array_to_recordio_protobuf(np.array([["a"]], dtype=object)),
    ):
        with pytest.raises(errors.ClientError) as raised:
            call()
        assert raised.value.status == 400


def test_npy_never_unpickles():
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(errors.ClientError, match="pickled"):
        encoders.npy_to_numpy(buffer.getvalue())


def test_recordio_protobuf_with_labels_and_sparse():
    dense = np.array([[1.0, 0.0, 2.0], [0.0, 3.0, 0.0]], dtype="float32")
    buffer = encoders.array_to_recordio_protobuf(dense, np.array([1.0, 0.0], dtype="float32"))
    records = list(recordio.iter_records(buffer.getvalue()))
    assert [list(r.features["values"].float32_tensor.values) for r in records] == dense.tolist()
    assert [r.label["values"].float32_tensor.values[0] for r in records] == [1.0, 0.0]
    sparse_buffer = encoders.array_to_recordio_protobuf(sparse.csr_matrix(dense))
    assert recordio.read(sparse_buffer.getvalue()).tolist() == dense.tolist()
    record = next(recordio.iter_records(sparse_buffer.getvalue()))
    assert list(record.features["values"].float32_tensor.keys) == [0, 2]
    one_row = encoders.array_to_recordio_protobuf(np.array([1, 2], dtype="int32"))
    assert recordio.read(one_row.getvalue()).tolist() == [[1, 2]]


def test_worker_response_is_a_flask_response():
    response = worker.Response(response="1,2\n", status=http_client.OK, mimetype="text/csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.get_data() == b"1,2\n"
    response = worker.Response("nope", status=http_client.BAD_REQUEST)
    assert response.status_code == 400 and response.mimetype == "application/json"
    response = worker.Response("[]", "application/x-npy")  # upstream's positional accept
    assert response.content_type == "application/x-npy"
    buffer = encoders.array_to_recordio_protobuf(np.array([[1.0]]))
    response = worker.Response(buffer, mimetype="application/x-recordio-protobuf")
    assert recordio.read(response.get_data()).tolist() == [[1.0]]


def test_transformer_defaults(tmp_path):
    assert transformer.default_input_fn("[1]", "application/json").tolist() == [1]
    response = transformer.default_output_fn([1], "text/csv")
    assert response.get_data() == b"1\n" and response.mimetype == "text/csv"
    save_model(str(tmp_path))
    model = transformer.default_model_fn(str(tmp_path))
    assert transformer.default_predict_fn([[1.0]], model) == pytest.approx([2.0])
    assert modules.import_module("json.py") is json


def test_serving_env(monkeypatch, base_dir):
    monkeypatch.setenv("SAGEMAKER_PROGRAM", "inference.py")
    monkeypatch.setenv("SAGEMAKER_SUBMIT_DIRECTORY", "s3://b/sourcedir.tar.gz")
    monkeypatch.setenv("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", "text/csv")
    monkeypatch.setenv("SAGEMAKER_MODEL_SERVER_TIMEOUT", "nope")
    serving = env.ServingEnv()
    assert serving.module_name == "inference"
    assert serving.module_dir == "s3://b/sourcedir.tar.gz"
    assert serving.default_accept == "text/csv"
    assert serving.model_dir == os.path.join(base_dir, "model")
    assert serving.model_server_timeout == 60 and serving.http_port == "8080"
    assert serving["num_gpus"] == 0 and "use_nginx" in serving.properties()
    assert env.model_dir == os.path.join(base_dir, "model")
    assert env.output_data_dir == os.path.join(base_dir, "output", "data")
    with pytest.raises(AttributeError):
        _ = env.no_such_thing


def test_training_env(base_dir):
    config = os.path.join(base_dir, "input", "config")
    for name, content in (
        ("hyperparameters.json", {"alpha": "0.5", "sagemaker_program": '"fit.py"'}),
        ("resourceconfig.json", {"current_host": "algo-1", "hosts": ["algo-1"]}),
        ("inputdataconfig.json", {"train": {"TrainingInputMode": "File"}}),
    ):
        with open(os.path.join(config, name), "w") as handle:
            json.dump(content, handle)
    assert env.read_hyperparameters()["alpha"] == 0.5
    assert env.read_resource_config()["current_host"] == "algo-1"
    assert list(env.read_input_data_config()) == ["train"]
    assert env.channel_path("train") == os.path.join(base_dir, "input", "data", "train")
    training = training_env()
    assert training.current_host == "algo-1"
    assert training.channel_input_dirs["train"].endswith(os.path.join("data", "train"))
    assert isinstance(training, env.TrainingEnv)


# A script written for the upstream image, in the style of AWS's examples and
# Autopilot's generated sagemaker_serve.py: str bodies, worker.Response results.
UPSTREAM_SCRIPT = textwrap.dedent(
    """
    import http.client as http_client
    from io import StringIO

    import numpy as np
    import pandas as pd
    from sagemaker_containers.beta.framework import content_types, encoders, env, worker


    def input_fn(input_data, content_type):
        if content_type == content_types.CSV:
            return pd.read_csv(StringIO(input_data), header=None)
        if content_type == content_types.JSON:
            return encoders.decode(input_data, content_type)
        return worker.Response(
            response=f"{content_type} is not supported", status=http_client.UNSUPPORTED_MEDIA_TYPE
        )


    def predict_fn(input_object, model):
        if isinstance(input_object, worker.Response):
            return input_object
        return model.predict(np.asarray(input_object, dtype=float))


    def output_fn(prediction, accept):
        if isinstance(prediction, worker.Response):
            return prediction
        if accept == "application/x-recordio-protobuf":
            return worker.Response(
                encoders.array_to_recordio_protobuf(prediction.reshape(-1, 1).astype("float32")),
                mimetype=accept,
            )
        if accept in (content_types.CSV, content_types.JSON):
            return worker.Response(encoders.encode(prediction, accept), mimetype=accept)
        return worker.Response(f"{accept} not supported", status=http_client.NOT_ACCEPTABLE)


    def execution_parameters_fn():
        return worker.Response(response='{"MaxPayloadInMB":1}', mimetype="application/json")
    """
)


def test_an_upstream_script_serves(monkeypatch, model_dir):
    write_script(os.path.join(model_dir, "code"), "inference.py", UPSTREAM_SCRIPT)
    client = app_module.create_app().test_client()
    answer = client.post(
        "/invocations", data="1\n2\n", content_type="text/csv", headers={"Accept": "text/csv"}
    )
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert [float(v) for v in answer.get_data(as_text=True).split()] == pytest.approx([2, 4])
    answer = client.post("/invocations", data="[[3]]", content_type="application/json")
    assert answer.status_code == 200 and json.loads(answer.data) == pytest.approx([6.0])
    answer = client.post(
        "/invocations",
        data="5\n",
        content_type="text/csv",
        headers={"Accept": "application/x-recordio-protobuf"},
    )
    assert answer.status_code == 200
    assert recordio.read(answer.data).ravel().tolist() == pytest.approx([10.0])
    answer = client.post("/invocations", data="x", content_type="text/plain")
    assert answer.status_code == 415 and b"text/plain is not supported" in answer.data
    answer = client.post(
        "/invocations", data="1\n", content_type="text/csv", headers={"Accept": "image/png"}
    )
    assert answer.status_code == 406
    answer = client.post("/invocations", data=b"\xff", content_type="text/csv")
    assert answer.status_code == 400 and "UTF-8" in answer.get_json()["message"]
    assert client.get("/execution-parameters").get_json() == {"MaxPayloadInMB": 1}
