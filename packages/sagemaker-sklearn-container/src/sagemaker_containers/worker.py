"""``worker.Response``: what upstream scripts return from output_fn/transform_fn."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import flask

from sagemaker_containers import content_types


class Response(flask.Response):
    """A Flask response; ``accept`` (upstream's second argument) sets its Content-Type."""

    default_mimetype = content_types.JSON

    def __init__(
        self,
        response: Any = None,
        accept: str | None = None,
        status: int = HTTPStatus.OK,
        headers: Any = None,
        mimetype: str | None = None,
        direct_passthrough: bool = False,
    ):
        if hasattr(response, "read") and callable(response.read):
            response = response.read()  # e.g. array_to_recordio_protobuf's buffer
        super().__init__(
            response,
            status=int(status),
            headers=headers,
            mimetype=mimetype,
            content_type=accept,
            direct_passthrough=direct_passthrough,
        )
