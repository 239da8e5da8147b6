"""Errors upstream scripts catch or raise; our server answers them with a 4xx."""

from __future__ import annotations

from sagemaker_sklearn_container.encoders import RequestError


class ClientError(RequestError):
    """Bad input from the client (HTTP 400)."""

    status = 400

    def __init__(self, message: object = ""):
        super().__init__(str(message))


class UnsupportedFormatError(ClientError):
    """A request (415) or response (406) media type nobody here can handle."""

    status = 415

    def __init__(self, content_type: str, **_kwargs: object):
        self.content_type = content_type
        super().__init__(
            f"content type {content_type!r} is not supported: implement input_fn to decode "
            "the request or output_fn to encode the response in it"
        )


class UnsupportedAcceptError(UnsupportedFormatError):
    status = 406
