import io
import json
import logging
import os
import textwrap

import numpy as np
import pytest

from sagemaker_sklearn_container import app as app_module
from sagemaker_sklearn_container.errors import UserError

from conftest import save_model, write_script


def make_client(monkeypatch, **env):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return app_module.create_app().test_client()


@pytest.fixture
def client(monkeypatch, model_dir):
    return make_client(monkeypatch, SAGEMAKER_NUM_MODEL_WORKERS="2")


def predictions(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return json.loads(response.data)


def test_ping(client):
    assert client.get("/ping").status_code == 200


def test_invocations_json_csv_npy(client):
    assert predictions(
        client.post("/invocations", data="[[1], [3]]", content_type="application/json")
    ) == pytest.approx([2, 6])

    response = client.post(
        "/invocations", data="1\n2\n", content_type="text/csv", headers={"Accept": "text/csv"}
    )
    assert response.status_code == 200
    assert response.content_type.startswith("text/csv")
    assert [float(line) for line in response.get_data(as_text=True).split()] == pytest.approx(
        [2, 4]
    )

    buffer = io.BytesIO()
    np.save(buffer, np.array([[5.0]]))
    response = client.post(
        "/invocations",
        data=buffer.getvalue(),
        content_type="application/x-npy",
        headers={"Accept": "application/x-npy"},
    )
    assert np.load(io.BytesIO(response.data), allow_pickle=False) == pytest.approx([10.0])


def test_bad_requests_get_the_right_status_and_server_keeps_serving(client):
    cases = [
        (dict(data="[[1]]", content_type="application/xml"), 415),
        (dict(data="[[1]]", content_type="application/json", headers={"Accept": "image/png"}), 406),
        (dict(data="[[1", content_type="application/json"), 400),
        (dict(data="1,2\n3\n", content_type="text/csv"), 400),
    ]
    for kwargs, status in cases:
        response = client.post("/invocations", **kwargs)
        assert response.status_code == status
        assert response.get_json()["error"]
        assert predictions(
            client.post("/invocations", data="[[1]]", content_type="application/json")
        )


def test_body_too_large_is_413(monkeypatch, model_dir):
    client = make_client(monkeypatch, MAX_CONTENT_LENGTH="100")
    response = client.post(
        "/invocations", data="[" + "1," * 100 + "1]", content_type="application/json"
    )
    assert response.status_code == 413
    assert (
        client.post("/invocations", data="[[1]]", content_type="application/json").status_code
        == 200
    )


def test_error_in_user_code_is_500_and_logged(monkeypatch, model_dir, caplog):
    write_script(
        os.path.join(model_dir, "code"),
        "inference.py",
        "def predict_fn(data, model):\n"
        "    if data[0][0] < 0:\n"
        "        raise ValueError('negative input')\n"
        "    return model.predict(data)\n",
    )
    client = make_client(monkeypatch)
    with caplog.at_level(logging.ERROR):
        response = client.post("/invocations", data="[[-1]]", content_type="application/json")
    assert response.status_code == 500
    assert "negative input" in response.get_json()["error"]
    assert "negative input" in caplog.text
    assert (
        client.post("/invocations", data="[[1]]", content_type="application/json").status_code
        == 200
    )


def test_ping_fails_while_model_cannot_load(monkeypatch, tmp_path):
    client = make_client(monkeypatch, SM_MODEL_DIR=str(tmp_path))
    response = client.get("/ping")
    assert response.status_code == 500
    assert "UserError" in response.get_json()["error"]


def test_unknown_route_and_method(client):
    assert client.get("/nope").status_code == 404
    assert client.get("/invocations").status_code == 405


def test_execution_parameters_default_and_custom(monkeypatch, client, model_dir):
    assert client.get("/execution-parameters").get_json() == {
        "MaxConcurrentTransforms": 2,
        "BatchStrategy": "MULTI_RECORD",
        "MaxPayloadInMB": 6,
    }
    write_script(
        os.path.join(model_dir, "code"),
        "inference.py",
        "def execution_parameters_fn():\n    return {'MaxPayloadInMB': 1}\n",
    )
    assert make_client(monkeypatch).get("/execution-parameters").get_json() == {"MaxPayloadInMB": 1}


def test_transform_fn_clash_stops_app_creation(monkeypatch, model_dir):
    write_script(
        os.path.join(model_dir, "code"),
        "inference.py",
        "def transform_fn(m, b, c, a):\n    return b\n\ndef input_fn(b, c):\n    return b\n",
    )
    with pytest.raises(UserError):
        make_client(monkeypatch)


# --- multi-model --------------------------------------------------------------


@pytest.fixture
def mme(monkeypatch, tmp_path):
    monkeypatch.setenv("SAGEMAKER_MULTI_MODEL", "true")
    first = app_module.create_app().test_client()
    second = app_module.create_app().test_client()  # a second "worker" on the same registry
    return first, second


def load(client, name, url):
    return client.post("/models", json={"model_name": name, "url": url})


def test_multi_model_lifecycle_across_workers(mme, tmp_path):
    first, second = mme
    model_a = save_model(str(tmp_path / "a"))
    assert first.get("/ping").status_code == 200
    assert load(first, "a", model_a).status_code == 200
    assert load(second, "a", model_a).status_code == 409
    assert second.get("/models").get_json() == {"models": [{"model_name": "a", "url": model_a}]}
    assert first.get("/models/a").get_json()["url"] == model_a

    response = second.post("/models/a/invoke", data="[[2]]", content_type="application/json")
    assert predictions(response) == pytest.approx([4])
    response = first.post(
        "/invocations",
        data="[[3]]",
        content_type="application/json",
        headers={"X-Amzn-SageMaker-Target-Model": "a"},
    )
    assert predictions(response) == pytest.approx([6])

    assert second.delete("/models/a").status_code == 200
    assert (
        first.post("/models/a/invoke", data="[[2]]", content_type="application/json").status_code
        == 404
    )
    assert first.delete("/models/a").status_code == 404
    assert first.get("/models/a").status_code == 404
    assert second.get("/models").get_json() == {"models": []}


def test_reload_under_same_name_is_noticed(mme, tmp_path):
    first, second = mme
    write_script(
        str(tmp_path / "one" / "code"),
        "inference.py",
        "def model_fn(d):\n    return 1\ndef predict_fn(x, m):\n    return [m]\n",
    )
    write_script(
        str(tmp_path / "two" / "code"),
        "inference.py",
        "def model_fn(d):\n    return 2\ndef predict_fn(x, m):\n    return [m]\n",
    )
    assert load(first, "m", str(tmp_path / "one")).status_code == 200
    assert predictions(
        second.post("/models/m/invoke", data="[1]", content_type="application/json")
    ) == [1]
    assert first.delete("/models/m").status_code == 200
    assert load(first, "m", "file://" + str(tmp_path / "two")).status_code == 200
    assert predictions(
        second.post("/models/m/invoke", data="[1]", content_type="application/json")
    ) == [2]


def test_multi_model_bad_loads(mme, tmp_path):
    first, _ = mme
    assert first.post("/models", data="nope", content_type="text/plain").status_code == 400
    assert first.post("/models", json={"model_name": "x"}).status_code == 400
    assert load(first, "../evil", str(tmp_path)).status_code == 400
    assert load(first, "x", str(tmp_path / "missing")).status_code == 400
    assert load(first, "x", "s3://bucket/model").status_code == 400
    assert load(first, "x", str(tmp_path)).status_code == 400  # no model.joblib: UserError
    clash = tmp_path / "clash"
    write_script(
        str(clash / "code"),
        "inference.py",
        textwrap.dedent("""
        def transform_fn(m, b, c, a):
            return b
        def output_fn(p, a):
            return p
    """),
    )
    assert load(first, "clash", str(clash)).status_code == 400
    broken = tmp_path / "broken"
    write_script(
        str(broken / "code"), "inference.py", "def model_fn(d):\n    raise OSError('disk')\n"
    )
    response = load(first, "broken", str(broken))
    assert response.status_code == 500
    assert first.get("/models").get_json() == {"models": []}


def test_multi_model_load_bodies_found_by_fuzzing_are_400(mme):
    first, _ = mme
    for body in ("[" * 50_000 + "]" * 50_000, '{"model_name": ' + "[" * 5_000 + "]" * 5_000 + "}"):
        response = first.post("/models", data=body, content_type="application/json")
        assert response.status_code == 400, response.get_data(as_text=True)
    assert load(first, "m1\n", "/").status_code == 400  # "$" also matched before a newline
    assert first.get("/ping").status_code == 200


def test_encoded_slash_in_a_model_name_is_not_redirected_to_another_model(mme, model_dir):
    first, _ = mme
    assert load(first, "m1", model_dir).status_code == 200
    for method, path in (
        ("GET", "/models/%2Fm1"),
        ("DELETE", "/models/%2Fm1"),
        ("POST", "/models/%2Fm1/invoke"),
        ("DELETE", "/models//m1"),
    ):
        response = first.open(path, method=method, data="[[1]]", content_type="application/json")
        assert response.status_code == 404, (method, path, response.status_code)
        assert "Location" not in response.headers
    assert first.get("/models/m1").status_code == 200  # still loaded


def test_multi_model_invocations_need_target(mme):
    first, _ = mme
    assert (
        first.post("/invocations", data="[1]", content_type="application/json").status_code == 400
    )
    assert first.get("/execution-parameters").get_json()["BatchStrategy"] == "MULTI_RECORD"


def test_input_the_model_refuses_is_400_not_500(monkeypatch, model_dir):
    client = make_client(monkeypatch)
    for body in ("[[1, 2, 3]]", '[["a"]]', "[[NaN]]", "[[1" + "0" * 400 + "]]"):
        response = client.post("/invocations", data=body, content_type="application/json")
        assert response.status_code == 400, (body, response.get_data(as_text=True))
        assert "cannot predict on this input" in response.get_json()["error"]
    assert predictions(client.post("/invocations", data="[[1]]", content_type="application/json"))


def test_error_bodies_carry_upstreams_message_field(client):
    response = client.post("/invocations", data="{nope", content_type="application/json")
    body = response.get_json()
    assert response.status_code == 400
    assert body["code"] == 400 and body["message"] == body["error"] and "JSON" in body["message"]


def test_hooks_may_return_responses_tuples_and_buffers(monkeypatch, model_dir):
    write_script(
        os.path.join(model_dir, "code"),
        "inference.py",
        textwrap.dedent("""
        import io
        from flask import Response

        def input_fn(body, content_type):
            return body  # str for text/csv and JSON, bytes otherwise

        def predict_fn(data, model):
            return data

        def output_fn(prediction, accept):
            if accept == "text/csv":
                return Response("teapot:" + prediction, status=418, mimetype="text/plain")
            if accept == "application/x-npy":
                return io.BytesIO(prediction), "application/octet-stream"
            return [type(prediction).__name__]

        def execution_parameters_fn():
            return '{"MaxPayloadInMB": 2}'
    """),
    )
    client = make_client(monkeypatch)
    answer = client.post(
        "/invocations", data="1", content_type="text/csv", headers={"Accept": "text/csv"}
    )
    assert answer.status_code == 418 and answer.data == b"teapot:1"
    answer = client.post(
        "/invocations",
        data=b"\x00raw",
        content_type="application/octet-stream",
        headers={"Accept": "application/x-npy"},
    )
    assert answer.status_code == 200 and answer.data == b"\x00raw"
    assert answer.content_type == "application/octet-stream"
    answer = client.post("/invocations", data="[1]", content_type="application/json")
    assert answer.status_code == 500 and "must return a Response" in answer.get_json()["message"]
    assert client.get("/execution-parameters").get_json() == {"MaxPayloadInMB": 2}


def test_default_hooks_pass_a_response_from_input_fn_through(monkeypatch, model_dir):
    write_script(
        os.path.join(model_dir, "code"),
        "inference.py",
        "from flask import Response\n\n"
        "def input_fn(body, content_type):\n"
        "    return Response('refused', status=415)\n",
    )
    answer = make_client(monkeypatch).post("/invocations", data="1", content_type="text/csv")
    assert answer.status_code == 415 and answer.data == b"refused"


def test_multi_model_messages_match_upstreams(monkeypatch, model_dir):
    client = make_client(monkeypatch, SAGEMAKER_MULTI_MODEL="true")
    missing = client.post("/models/m1/invoke", data="1", content_type="text/csv")
    assert missing.status_code == 404 and missing.get_json()["message"] == "Model not found: m1"
    assert client.post("/models", json={"model_name": "m1", "url": model_dir}).status_code == 200
    again = client.post("/models", json={"model_name": "m1", "url": model_dir})
    assert again.status_code == 409
    assert again.get_json()["message"] == "Model m1 is already registered."
