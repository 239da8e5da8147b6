"""The Flask application gunicorn serves (single-model and multi-model).

Every failure is turned into an HTTP answer here, so one bad request never
takes a worker down: 400 malformed body, 404 unknown model, 406 unsupported
Accept, 409 duplicate load, 413 body too large, 415 unsupported Content-Type,
500 error in user code (logged with its traceback).
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from sagemaker_sklearn_container import environment
from sagemaker_sklearn_container.encoders import RequestError
from sagemaker_sklearn_container.errors import ContainerError, UserError
from sagemaker_sklearn_container.hooks import ModelHandler
from sagemaker_sklearn_container.multi_model import ModelCache, ModelRegistry

logger = logging.getLogger(__name__)

TARGET_MODEL_HEADER = "X-Amzn-SageMaker-Target-Model"


def _error(status: int, message: str) -> Response:
    # "message" is the field upstream's model servers (and their clients) use.
    response = jsonify({"error": message, "code": status, "message": message})
    response.status_code = status
    return response


def _default_execution_parameters(settings: environment.ServingSettings) -> dict:
    return {
        "MaxConcurrentTransforms": settings.workers,
        "BatchStrategy": "MULTI_RECORD",
        "MaxPayloadInMB": settings.max_content_length // environment.MIB,
    }


def _invoke(handler: ModelHandler) -> BaseResponse:
    result = handler.invoke(
        request.get_data(cache=False),
        request.headers.get("Content-Type"),
        request.headers.get("Accept"),
    )
    if isinstance(result, BaseResponse):  # built by the user's hooks (e.g. worker.Response)
        return result
    body, content_type = result
    return Response(body, status=200, content_type=content_type)


def _execution_parameters_response(params) -> BaseResponse:
    """execution_parameters_fn may return a dict, a JSON str/bytes or a Response."""
    if isinstance(params, BaseResponse):
        return params
    if isinstance(params, (str, bytes)):
        return Response(params, status=200, content_type="application/json")
    return jsonify(params)


def create_app(settings: environment.ServingSettings | None = None) -> Flask:
    settings = settings or environment.ServingSettings.from_env()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_content_length
    # werkzeug would answer /models/%2Fm1 (the model name "/m1") with a 308 to /models/m1,
    # whose follower then unloads or invokes another model: route paths exactly as sent.
    app.url_map.merge_slashes = False
    _register_error_handlers(app)

    if settings.multi_model:
        _add_multi_model_routes(app, settings)
    else:
        _add_single_model_routes(app, settings)
    return app


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(RequestError)
    def request_error(exc: RequestError):
        return _error(exc.status, exc.message)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return _error(exc.code or 500, exc.description or exc.name)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        # User code failed (or we did): log it in full, answer 500, keep serving.
        kind = exc.kind if isinstance(exc, ContainerError) else "AlgorithmError"
        logger.error("%s while handling %s %s", kind, request.method, request.path, exc_info=exc)
        return _error(500, f"{kind}: {type(exc).__name__}: {exc}")


def _add_single_model_routes(app: Flask, settings: environment.ServingSettings) -> None:
    # Import and validate the user's hooks now: a transform_fn clash must stop
    # the server at start, not surface on the first request.
    handler = ModelHandler.from_model_dir(environment.model_dir(), settings.default_accept)

    @app.get("/ping")
    def ping():
        _ = handler.model  # loads on first call; a failure answers 500
        return Response("", status=200)

    @app.post("/invocations")
    def invocations():
        return _invoke(handler)

    @app.get("/execution-parameters")
    def execution_parameters():
        params = handler.execution_parameters()
        return _execution_parameters_response(
            params if params is not None else _default_execution_parameters(settings)
        )


def _add_multi_model_routes(app: Flask, settings: environment.ServingSettings) -> None:
    cache = ModelCache(ModelRegistry(environment.model_registry_dir()), settings.default_accept)

    @app.get("/ping")
    def ping():
        return Response("", status=200)

    @app.get("/execution-parameters")
    def execution_parameters():
        return jsonify(_default_execution_parameters(settings))

    @app.post("/models")
    def load_model():
        try:
            payload = request.get_json(silent=True)
        except RecursionError:  # [[[[... nested deeper than the interpreter's stack
            payload = None
        if not isinstance(payload, dict) or "model_name" not in payload or "url" not in payload:
            raise RequestError('body must be JSON {"model_name": ..., "url": ...}')
        try:
            entry = cache.load(payload["model_name"], payload["url"])
        except UserError as exc:
            return _error(400, exc.failure_text())
        return jsonify({"status": f"model {entry.model_name!r} loaded", **entry.to_json()})

    @app.get("/models")
    def list_models():
        return jsonify({"models": [entry.to_json() for entry in cache.registry.list()]})

    @app.get("/models/<name>")
    def describe_model(name: str):
        return jsonify(cache.registry.get(name).to_json())

    @app.delete("/models/<name>")
    def unload_model(name: str):
        cache.unload(name)
        return jsonify({"status": f"model {name!r} unloaded"})

    @app.post("/models/<name>/invoke")
    def invoke_model(name: str):
        return _invoke(cache.handler(name))

    @app.post("/invocations")
    def invocations():
        # SageMaker multi-model endpoints name the model in a header.
        name = request.headers.get(TARGET_MODEL_HEADER)
        if not name:
            raise RequestError(f"multi-model mode: set the {TARGET_MODEL_HEADER} header")
        return _invoke(cache.handler(name))
