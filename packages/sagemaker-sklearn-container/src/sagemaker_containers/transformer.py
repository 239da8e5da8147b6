"""Upstream's default inference functions, for scripts that call them."""

from __future__ import annotations

from typing import Any

from sagemaker_containers import encoders, worker


def default_input_fn(input_data: Any, content_type: str) -> Any:
    return encoders.decode(input_data, content_type)


def default_output_fn(prediction: Any, accept: str) -> worker.Response:
    return worker.Response(response=encoders.encode(prediction, accept), mimetype=accept)


def default_model_fn(model_dir: str) -> Any:
    from sagemaker_sklearn_container import hooks

    return hooks.default_model_fn(model_dir)


def default_predict_fn(data: Any, model: Any) -> Any:
    return model.predict(data)
