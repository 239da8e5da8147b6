"""An Autopilot-style model, end to end: `train` fits an AutoMLTransformer, `serve` runs it.

SageMaker Autopilot's candidates are an inference pipeline: a scikit-learn data-processing
container (this image, AUTOML_TRANSFORM_MODE=feature-transform) turns raw CSV rows into
features for the algorithm container (text/csv for XGBoost,
application/x-recordio-protobuf for Linear Learner), and the last container
(AUTOML_TRANSFORM_MODE=inverse-label-transform) turns predicted label indices back into the
labels. Both serve the same model.joblib with the same script, written here in the style
of Autopilot's generated sagemaker_serve.py: input_fn reads with read_csv_data, predict_fn
transforms (or inverse-transforms the label), output_fn encodes for the next container.

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

from conftest import make_ml_tree, run_train, start_server, text

COLUMNS = ["age", "income", "outcome", "plan", "region", "review", "signup"]
TARGET = "outcome"
FEATURES = [c for c in COLUMNS if c != TARGET]
CLASSES = ["churn", "stay", "upgrade"]  # RobustLabelEncoder encodes them in sorted order

TRAIN_SCRIPT = '''
"""Fits an Autopilot-style AutoMLTransformer on the training channel's headerless CSV."""
import json
import os
import shutil

import joblib
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

from sagemaker_sklearn_extension.externals import AutoMLTransformer, Header, read_csv_data
from sagemaker_sklearn_extension.feature_extraction.date_time import DateTimeVectorizer
from sagemaker_sklearn_extension.feature_extraction.text import MultiColumnTfidfVectorizer
from sagemaker_sklearn_extension.impute import RobustImputer
from sagemaker_sklearn_extension.preprocessing import (
    RobustLabelEncoder,
    RobustOrdinalEncoder,
    RobustStandardScaler,
    ThresholdOneHotEncoder,
)

HEADER = Header(column_names=__COLUMNS__, target_column_name=__TARGET__)


def feature_transformer():
    at = HEADER.as_feature_indices
    columns = ColumnTransformer(
        [
            ("numeric", RobustImputer(strategy="median"), at(["age", "income"])),
            ("plan", ThresholdOneHotEncoder(threshold=2), at(["plan"])),
            ("region", RobustOrdinalEncoder(), at(["region"])),
            ("review", MultiColumnTfidfVectorizer(max_features=20), at(["review"])),
            # a missing date vectorizes to NaN: impute it, as Autopilot's pipelines do
            ("signup", Pipeline([("vectorize", DateTimeVectorizer()), ("impute", RobustImputer())]),
             at(["signup"])),
        ],
        sparse_threshold=0.0,
    )
    return Pipeline([("columns", columns), ("scale", RobustStandardScaler())])


if __name__ == "__main__":
    channel = os.environ["SM_CHANNEL_TRAINING"]
    X, y = read_csv_data(source=channel, target_column_index=HEADER.target_column_index)
    model = AutoMLTransformer(
        header=HEADER,
        feature_transformer=feature_transformer(),
        target_transformer=RobustLabelEncoder(),
    ).fit(X, y)
    model_dir = os.environ["SM_MODEL_DIR"]
    joblib.dump(model, os.path.join(model_dir, "model.joblib"))
    # As in Autopilot's model artifacts, the serving script travels with the model.
    os.makedirs(os.path.join(model_dir, "code"), exist_ok=True)
    here = os.path.dirname(os.path.abspath(__file__))
    shutil.copy(os.path.join(here, "sagemaker_serve.py"), os.path.join(model_dir, "code"))
    report = {
        "rows": int(X.shape[0]),
        "n_features_out": int(model.transform(X[:3]).shape[1]),
        "classes": [str(c) for c in model.target_transformer.classes_],
    }
    with open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "report.json"), "w") as handle:
        json.dump(report, handle)
    print("fitted", report)
'''.replace("__COLUMNS__", repr(COLUMNS)).replace("__TARGET__", repr(TARGET))

SERVE_SCRIPT = '''
"""Serving hooks in the style of Autopilot's generated sagemaker_serve.py."""
import http.client as http_client
import logging
import os

import numpy as np
from joblib import load
from scipy import sparse

from sagemaker_containers.beta.framework import encoders, worker
from sagemaker_sklearn_extension.externals import read_csv_data


def _is_inverse_label_transform():
    return os.getenv("AUTOML_TRANSFORM_MODE") == "inverse-label-transform"


def _is_feature_transform():
    return os.getenv("AUTOML_TRANSFORM_MODE") == "feature-transform"


def _answer(body, status, mimetype=None):
    return worker.Response(response=body, status=status, mimetype=mimetype)


def _split_features_target(x):
    if _is_feature_transform():
        return x, None
    if sparse.issparse(x):
        return x[:, 1:], x[:, 0].toarray()
    return x[:, 1:], np.ravel(x[:, 0])


def model_fn(model_dir):
    return load(filename=os.path.join(model_dir, "model.joblib"))


def input_fn(request_body, request_content_type):
    content_type = (request_content_type or "text/csv").lower().split(";")[0].strip()
    if content_type == "text/csv":
        body = request_body.encode() if isinstance(request_body, str) else request_body
        try:
            data = read_csv_data(source=body)
        except RuntimeError as exc:
            # Ragged rows are the caller's fault (Autopilot's script lets them be a 500).
            return _answer(f"cannot read the CSV request: {exc}", http_client.BAD_REQUEST)
        logging.info("Shape of the requested data: %s", data.shape)
        return data
    return _answer(
        f"'{request_content_type}' is an unsupported content type.",
        http_client.UNSUPPORTED_MEDIA_TYPE,
    )


def predict_fn(input_object, model):
    if isinstance(input_object, worker.Response):
        return input_object
    if _is_inverse_label_transform():
        try:
            # (float, not np.float: numpy >= 1.24 no longer has the alias)
            indices = input_object[:, 0].astype(float).astype(int)
        except ValueError as exc:
            return _answer(f"predicted labels must be numbers: {exc}", http_client.BAD_REQUEST)
        return model.inverse_label_transform(indices)
    try:
        return model.transform(input_object)
    except ValueError as exc:
        return _answer(str(exc) or "Unknown error.", http_client.BAD_REQUEST)


def output_fn(prediction, accept_type):
    if isinstance(prediction, worker.Response):
        return prediction
    if _is_inverse_label_transform():
        if accept_type == "text/csv":
            return _answer(encoders.encode(prediction, accept_type), http_client.OK, accept_type)
        return _answer(
            f"Accept type '{accept_type}' is not supported during inverse label transformation.",
            http_client.NOT_ACCEPTABLE,
        )
    X, y = prediction if isinstance(prediction, tuple) else _split_features_target(prediction)
    if accept_type == "application/x-recordio-protobuf":
        body = encoders.array_to_recordio_protobuf(
            X.astype("float32"), y.astype("float32") if y is not None else y
        )
        return _answer(body, http_client.OK, accept_type)
    if accept_type == "text/csv":
        if y is not None:
            X = np.column_stack((np.ravel(y), X.todense() if sparse.issparse(X) else X))
        elif sparse.issparse(X):
            X = X.toarray()
        return _answer(encoders.encode(X, accept_type), http_client.OK, accept_type)
    return _answer(f"Accept type '{accept_type}' is not supported.", http_client.NOT_ACCEPTABLE)


def execution_parameters_fn():
    # Autopilot keeps feature-transform payloads small for batch transform.
    size = 1 if _is_feature_transform() else 6
    return _answer(f'{{"MaxPayloadInMB":{size}}}', http_client.OK, "application/json")
'''


def make_rows(n: int, seed: int, with_target: bool = True) -> list[list[str]]:
    """Mixed rows: numbers, categories, free text and dates, some fields missing."""
    rng = np.random.default_rng(seed)
    words = {
        "churn": ["slow", "expensive", "cancel", "broken", "support", "waiting"],
        "stay": ["fine", "works", "okay", "steady", "usual", "reliable"],
        "upgrade": ["love", "more", "team", "features", "growing", "fast"],
    }
    plans = {"churn": "basic", "stay": "pro", "upgrade": "team"}
    rows = []
    for i in range(n):
        label = CLASSES[i % 3]
        age = "" if i % 11 == 0 else str(int(rng.integers(18, 80)))
        income = "" if i % 7 == 0 else f"{rng.normal(50000 + 20000 * (i % 3), 3000):.2f}"
        plan = "" if i % 13 == 0 else plans[label]
        region = ["north", "south", "east", "west"][int(rng.integers(0, 4))]
        review = " ".join(rng.choice(words[label], size=4)) + (", really" if i % 5 == 0 else "")
        signup = "" if i % 17 == 0 else f"20{18 + i % 5}-{1 + i % 12:02d}-{1 + i % 28:02d}"
        row = [age, income, label, plan, region, review, signup]
        if not with_target:
            del row[COLUMNS.index(TARGET)]
        rows.append(row)
    return rows


def to_csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def parse_csv_floats(body: bytes) -> np.ndarray:
    return np.array([[float(v) for v in row] for row in csv.reader(io.StringIO(body.decode()))])


@pytest.fixture(scope="module")
def trained(docker, image, ml_root):
    root = make_ml_tree(
        os.path.join(ml_root, f"autopilot-{uuid.uuid4().hex[:6]}"),
        code={"automl_train.py": TRAIN_SCRIPT, "sagemaker_serve.py": SERVE_SCRIPT},
        data={"train.csv": to_csv(make_rows(90, seed=1))},
    )
    result = run_train(docker, image, root, "automl_train.py")
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
            "SAGEMAKER_PROGRAM": "sagemaker_serve.py",
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
