"""An Autopilot-style model, end to end: `train` fits an AutoMLTransformer, `serve` runs it.

SageMaker Autopilot's candidates are an inference pipeline: a scikit-learn data-processing
container (this image, AUTOML_TRANSFORM_MODE=feature-transform) turns raw CSV rows into
features for the algorithm container (text/csv for XGBoost,
application/x-recordio-protobuf for Linear Learner), and the last container
(AUTOML_TRANSFORM_MODE=inverse-label-transform) turns predicted label indices back into the
labels. Both serve the same model.joblib with the same script (autopilot/; the data is made
by autopilot_data.py), written in the style of Autopilot's generated sagemaker_serve.py:
input_fn reads with read_csv_data, predict_fn transforms (or inverse-transforms the label),
output_fn encodes for the next container.

As Autopilot's script does, it imports ``sagemaker_containers.beta.framework`` (the
runtime package's compatibility module) and answers every request, bad ones included, with
a ``worker.Response`` carrying its status; the runtime sends it as it is.
"""

from __future__ import annotations

import csv
import io
import json
import os
import uuid

import numpy as np
import pytest
from autopilot_data import (
    CLASSES,
    COLUMNS,
    FEATURES,
    HYPERPARAMETERS,
    SERVE_PROGRAM,
    TARGET,
    TRAIN_PROGRAM,
    code_files,
    make_rows,
    to_csv,
)

from conftest import make_ml_tree, run_train, start_server, text


def parse_csv_floats(body: bytes) -> np.ndarray:
    return np.array([[float(v) for v in row] for row in csv.reader(io.StringIO(body.decode()))])


@pytest.fixture(scope="module")
def trained(docker, image, ml_root):
    root = make_ml_tree(
        os.path.join(ml_root, f"autopilot-{uuid.uuid4().hex[:6]}"),
        code=code_files(),
        data={"train.csv": to_csv(make_rows(90, seed=1))},
        hyperparameters=HYPERPARAMETERS,
    )
    result = run_train(docker, image, root, TRAIN_PROGRAM)
    output = text(result.stdout) + text(result.stderr)
    assert result.returncode == 0, f"train exited {result.returncode}\n{output[-6000:]}"
    with open(os.path.join(root, "output/data/report.json")) as handle:
        report = json.load(handle)
    return root, report


def _serve(docker, image, trained, mode: str):
    root, _ = trained
    server = start_server(
        docker,
        image,
        mode,
        env={
            "AUTOML_TRANSFORM_MODE": mode,
            "SAGEMAKER_PROGRAM": SERVE_PROGRAM,
            "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv",
        },
        volumes=[f"{root}/model:/opt/ml/model:ro"],
    )
    return server


@pytest.fixture(scope="module")
def features(docker, image, trained):
    server = _serve(docker, image, trained, "feature-transform")
    yield server
    docker.remove(server.name)


@pytest.fixture(scope="module")
def labels(docker, image, trained):
    server = _serve(docker, image, trained, "inverse-label-transform")
    yield server
    docker.remove(server.name)


def test_train_writes_the_model_and_its_serving_code(trained):
    root, report = trained
    assert os.path.getsize(os.path.join(root, "model/model.joblib")) > 0
    assert os.path.isfile(os.path.join(root, "model/code/sagemaker_serve.py"))
    assert os.path.exists(os.path.join(root, "output/success"))
    assert report["rows"] == 90
    assert report["classes"] == CLASSES
    assert report["n_features_out"] > len(FEATURES)  # one-hot and tf-idf widen the rows


def test_feature_transform_answers_csv_features(features, trained):
    _, report = trained
    rows = make_rows(6, seed=2, with_target=False)
    rows[0][FEATURES.index("plan")] = "enterprise"  # a category never seen in training
    rows[1][FEATURES.index("review")] = "words nobody wrote before"
    answer = features.expect(
        features.post("/invocations", to_csv(rows), "text/csv", accept="text/csv"), 200, "features"
    )
    assert answer.content_type.startswith("text/csv"), answer.content_type
    X = parse_csv_floats(answer.body)
    assert X.shape == (6, report["n_features_out"])
    assert np.isfinite(X).all(), np.argwhere(~np.isfinite(X))
    # The default Accept (SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT) is text/csv, and the same
    # rows give the same features.
    again = features.expect(features.post("/invocations", to_csv(rows), "text/csv"), 200, "again")
    assert np.array_equal(parse_csv_floats(again.body), X)


def test_rows_with_target_get_the_encoded_label_first(features, trained):
    _, report = trained
    rows = make_rows(6, seed=3)
    answer = features.expect(
        features.post("/invocations", to_csv(rows), "text/csv", accept="text/csv"),
        200,
        "with target",
    )
    Xy = parse_csv_floats(answer.body)
    assert Xy.shape == (6, report["n_features_out"] + 1)
    expected = [CLASSES.index(row[COLUMNS.index(TARGET)]) for row in rows]
    assert Xy[:, 0].astype(int).tolist() == expected
    without = [[v for j, v in enumerate(row) if j != COLUMNS.index(TARGET)] for row in rows]
    X = parse_csv_floats(features.post("/invocations", to_csv(without), "text/csv").body)
    assert np.allclose(Xy[:, 1:], X)


def test_feature_transform_answers_recordio_protobuf(features, docker, image, trained):
    _, report = trained
    rows = make_rows(4, seed=4, with_target=False)
    csv_answer = features.post("/invocations", to_csv(rows), "text/csv", accept="text/csv")
    answer = features.expect(
        features.post(
            "/invocations", to_csv(rows), "text/csv", accept="application/x-recordio-protobuf"
        ),
        200,
        "recordio-protobuf",
    )
    assert answer.content_type.startswith("application/x-recordio-protobuf"), answer.content_type
    # Decode with the image's own record reader, as the algorithm container would.
    decode = (
        "import io, sys, json\n"
        "from sagemaker_training import recordio, record_pb2\n"
        "rows = []\n"
        "for raw in recordio._read_recordio(io.BytesIO(sys.stdin.buffer.read())):\n"
        "    record = record_pb2.Record(); record.ParseFromString(raw)\n"
        "    rows.append(list(record.features['values'].float32_tensor.values))\n"
        "print(json.dumps(rows))\n"
    )
    name = docker.new_name("decode")
    result = docker(
        "run",
        "--rm",
        "-i",
        "--name",
        name,
        "--network",
        "none",
        image,
        "python",
        "-c",
        decode,
        input=answer.body,
    )
    assert result.returncode == 0, text(result.stderr)[-3000:]
    decoded = np.array(json.loads(text(result.stdout)))
    assert decoded.shape == (4, report["n_features_out"])
    assert np.allclose(decoded, parse_csv_floats(csv_answer.body), rtol=1e-5, atol=1e-5)


def test_inverse_label_transform_gives_labels_back(labels):
    # XGBoost's CSV answer: one predicted class index per line, as floats.
    answer = labels.expect(
        labels.post("/invocations", "2.0\n0.0\n1.0\n0\n", "text/csv", accept="text/csv"),
        200,
        "inverse label transform",
    )
    assert answer.content_type.startswith("text/csv"), answer.content_type
    assert answer.body.decode().split() == ["upgrade", "churn", "stay", "churn"]


def test_wrong_column_count_is_400_and_the_server_keeps_serving(features):
    n = len(FEATURES)
    short = to_csv([row[:3] for row in make_rows(2, seed=5, with_target=False)])
    answer = features.expect(features.post("/invocations", short, "text/csv"), 400, "3 columns")
    assert f"Expected number of columns is {n}" in answer.body.decode(), answer.body
    ragged = to_csv(make_rows(2, seed=6, with_target=False)) + "1,2,3\n"
    answer = features.expect(features.post("/invocations", ragged, "text/csv"), 400, "ragged")
    assert f"Expected {n} columns, got 3" in answer.body.decode(), answer.body
    good = to_csv(make_rows(2, seed=7, with_target=False))
    features.expect(features.post("/invocations", good, "text/csv"), 200, "after the 400s")


def test_unsupported_types_are_refused(features, labels):
    rows = to_csv(make_rows(2, seed=8, with_target=False))
    features.expect(features.post("/invocations", "[[1, 2]]", "application/json"), 415, "JSON in")
    features.expect(
        features.post("/invocations", rows, "text/csv", accept="application/json"), 406, "JSON out"
    )
    labels.expect(
        labels.post("/invocations", "1\n", "text/csv", accept="application/json"),
        406,
        "JSON labels",
    )
    labels.expect(labels.post("/invocations", "stay\n", "text/csv"), 400, "a label, not an index")


def test_execution_parameters(features, labels):
    got = features.expect(features.request("GET", "/execution-parameters"), 200, "features")
    assert got.json() == {"MaxPayloadInMB": 1}
    got = labels.expect(labels.request("GET", "/execution-parameters"), 200, "labels")
    assert got.json() == {"MaxPayloadInMB": 6}
