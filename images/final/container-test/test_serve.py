"""`docker run IMAGE serve` in single-model mode, with the model from the train step.

One server per module (started once); the tests only talk to 127.0.0.1:<port>.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from conftest import start_server

WORKERS = 2


@pytest.fixture(scope="module")
def server(docker, image, model_dir, trained):
    srv = start_server(
        docker,
        image,
        "serve",
        env={
            "SAGEMAKER_PROGRAM": "train.py",  # its model_fn is used
            "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/code",
            "SAGEMAKER_NUM_MODEL_WORKERS": str(WORKERS),
        },
        volumes=[f"{model_dir}:/opt/ml/model:ro", f"{trained.root}/code:/opt/ml/code:ro"],
    )
    yield srv
    docker.remove(srv.name)


def _csv(X: np.ndarray) -> str:
    return "\n".join(",".join(f"{v:.6g}" for v in row) for row in X) + "\n"


def _npy(X: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, X, allow_pickle=False)
    return buffer.getvalue()


def _labels_from_csv(body: bytes) -> list[int]:
    return [int(float(line)) for line in body.decode().split()]


def test_ping(server):
    server.expect(server.get("/ping"), 200, "GET /ping")


def test_invocations_csv(server, samples):
    X, y = samples
    answer = server.expect(
        server.post("/invocations", _csv(X), "text/csv", accept="text/csv"), 200, "CSV in/out"
    )
    assert answer.content_type.startswith("text/csv"), answer.content_type
    assert _labels_from_csv(answer.body) == y.tolist()


def test_invocations_csv_default_accept_is_json(server, samples):
    X, y = samples
    answer = server.expect(server.post("/invocations", _csv(X), "text/csv"), 200, "CSV, no Accept")
    assert answer.content_type.startswith("application/json"), answer.content_type
    assert answer.json() == y.tolist()


def test_invocations_json(server, samples):
    X, y = samples
    answer = server.expect(
        server.post("/invocations", json.dumps(X.tolist()), "application/json",
                    accept="application/json"),
        200, "JSON list",
    )
    assert answer.json() == y.tolist()
    answer = server.expect(
        server.post("/invocations", {"instances": X.tolist()}, accept="application/json"),
        200, "JSON instances envelope",
    )
    assert answer.json() == y.tolist()


def test_invocations_npy(server, samples):
    X, y = samples
    answer = server.expect(
        server.post("/invocations", _npy(X), "application/x-npy", accept="application/x-npy"),
        200, "NPY in/out",
    )
    assert answer.content_type.startswith("application/x-npy"), answer.content_type
    result = np.load(io.BytesIO(answer.body), allow_pickle=False)
    assert result.tolist() == y.tolist()


def test_malformed_csv_is_400_then_server_still_serves(server, samples):
    X, y = samples
    answer = server.expect(
        server.post("/invocations", "1,2,3,4\n5,6\n", "text/csv"), 400, "ragged CSV"
    )
    error = answer.json()
    assert error.get("code") == 400 and error.get("error"), error
    server.expect(server.post("/invocations", b"\xff\xfe,\x00", "text/csv"), 400, "non-UTF-8 CSV")
    # The server keeps serving: several good requests (reach every worker).
    for _ in range(2 * WORKERS):
        answer = server.expect(server.post("/invocations", _csv(X), "text/csv"), 200,
                               "good CSV after 400")
        assert answer.json() == y.tolist()


def test_malformed_json_and_npy_are_400(server):
    server.expect(server.post("/invocations", "[[1, 2", "application/json"), 400, "bad JSON")
    server.expect(server.post("/invocations", b"not an npy file", "application/x-npy"), 400,
                  "bad NPY")


def test_pickled_npy_is_refused(server):
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    server.expect(server.post("/invocations", buffer.getvalue(), "application/x-npy"), 400,
                  "object (pickled) NPY")


def test_unsupported_content_type_is_415(server, samples):
    X, _ = samples
    answer = server.expect(
        server.post("/invocations", "<rows/>", "application/xml"), 415, "Content-Type xml"
    )
    assert answer.json().get("code") == 415
    server.expect(server.post("/invocations", _csv(X), "text/csv"), 200, "good CSV after 415")


def test_unsupported_accept_is_406(server, samples):
    X, _ = samples
    answer = server.expect(
        server.post("/invocations", _csv(X), "text/csv", accept="application/xml"), 406,
        "Accept xml",
    )
    assert answer.json().get("code") == 406
    server.expect(server.post("/invocations", _csv(X), "text/csv", accept="text/csv"), 200,
                  "good CSV after 406")


def test_execution_parameters(server):
    answer = server.expect(server.get("/execution-parameters"), 200, "GET /execution-parameters")
    assert answer.content_type.startswith("application/json"), answer.content_type
    params = answer.json()
    assert params == {
        "MaxConcurrentTransforms": WORKERS,
        "BatchStrategy": "MULTI_RECORD",
        "MaxPayloadInMB": 6,
    }, params


def test_unknown_path_is_404(server):
    server.expect(server.get("/no-such-route"), 404, "GET /no-such-route")


def test_multi_model_routes_absent_in_single_model_mode(server):
    assert server.get("/models").status in (404, 405)


PROCESS_OWNERS = """
import os, pwd
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        argv = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\\0")
        uid = next(l for l in open(f"/proc/{pid}/status") if l.startswith("Uid:")).split()[2]
    except (OSError, StopIteration):
        continue
    print(pwd.getpwuid(int(uid)).pw_name, b" ".join(argv[:4]).decode(errors="replace"))
"""


def test_request_handling_runs_as_the_model_server_user(server):
    """nginx and gunicorn masters stay root (to bind and supervise); their workers are not."""
    result = server.docker("exec", server.name, "python3", "-c", PROCESS_OWNERS, check=True)
    owners = [line.split(" ", 1) for line in result.stdout.decode().splitlines()]
    nginx_workers = [user for user, cmd in owners if cmd.startswith("nginx: worker")]
    gunicorn = [user for user, cmd in owners if "gunicorn" in cmd]
    assert nginx_workers and set(nginx_workers) == {"model-server"}, owners
    # one root master, WORKERS workers as model-server
    assert sorted(gunicorn) == ["model-server"] * WORKERS + ["root"], owners
