"""Serving hooks in the style of Autopilot's generated sagemaker_serve.py."""

import http.client as http_client
import logging
import os

import numpy as np
from joblib import load
from sagemaker_sklearn_extension.externals import read_csv_data
from scipy import sparse

from sagemaker_containers.beta.framework import encoders, worker


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
