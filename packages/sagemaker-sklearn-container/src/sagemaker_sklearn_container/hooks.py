"""Finding the user's inference module and turning its hooks into a handler.

The user module may define model_fn, input_fn, predict_fn, output_fn,
transform_fn and execution_parameters_fn. Anything missing falls back to a
default here. transform_fn replaces the whole input -> predict -> output chain,
so defining it together with any of those three is ambiguous and refused at
start (UserError).
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import joblib
from werkzeug.wrappers import Response

from sagemaker_sklearn_container import code_delivery, encoders, environment, forest
from sagemaker_sklearn_container.errors import AlgorithmError, UserError

logger = logging.getLogger(__name__)

MODEL_FILENAME = "model.joblib"
DEFAULT_PROGRAM = "inference.py"
CHAIN_HOOKS = ("input_fn", "predict_fn", "output_fn")
# Bodies of these types reach user hooks as str, as upstream's servers do
# (scripts call e.g. pd.read_csv(StringIO(body))); other types stay bytes.
TEXT_TYPES = (encoders.JSON, encoders.CSV)


# --- defaults ---------------------------------------------------------------


def default_model_fn(model_dir: str) -> Any:
    path = os.path.join(model_dir, MODEL_FILENAME)
    if not os.path.exists(path):
        raise UserError(
            f"no {MODEL_FILENAME} in {model_dir}; save the model with joblib "
            "or define model_fn in your inference script"
        )
    return joblib.load(path)


def default_input_fn(body: bytes, content_type: str) -> Any:
    return encoders.decode(body, content_type)


def default_predict_fn(data: Any, model: Any) -> Any:
    if isinstance(data, Response):  # a user input_fn answered the request itself
        return data
    try:
        fast = forest.predict(model, data)
        return fast if fast is not None else model.predict(data)
    except (ValueError, TypeError, OverflowError) as exc:
        # scikit-learn's input validation (wrong width, NaN, strings, an integer too big
        # for a float...): the request's fault, not the model's, so 400 with
        # scikit-learn's own explanation.
        raise encoders.RequestError(f"the model cannot predict on this input: {exc}") from exc


def default_output_fn(prediction: Any, accept: str) -> Any:
    if isinstance(prediction, Response):
        return prediction
    return encoders.encode(prediction, accept), accept


# --- locating and importing the user module ---------------------------------


def code_search_dirs(model_dir: str) -> list[str]:
    """Where the user's inference code may live, most specific first."""
    dirs = [os.path.join(model_dir, "code")]
    # s3:// URIs and tarballs are unpacked once by the serving entry point; this is
    # the local directory that gave.
    submit = code_delivery.local_submit_directory()
    if submit and submit not in dirs:
        dirs.append(submit)
    if environment.code_dir() not in dirs:
        dirs.append(environment.code_dir())
    return dirs


def find_user_script(model_dir: str) -> str | None:
    """Path of the user's script, or None when the defaults are to be used."""
    program = environment.user_program()
    name = program or DEFAULT_PROGRAM
    if not name.endswith(".py"):
        name += ".py"
    for directory in code_search_dirs(model_dir):
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate):
            return candidate
    if program:
        submit = environment.submit_directory()
        origin = f" (SAGEMAKER_SUBMIT_DIRECTORY={submit})" if submit else ""
        raise UserError(
            f"SAGEMAKER_PROGRAM={program} not found in any of: "
            + ", ".join(code_search_dirs(model_dir))
            + origin
        )
    return None


_import_lock = threading.Lock()


def import_user_script(path: str) -> ModuleType:
    """Import a script by path under a name unique to that path.

    The unique name lets several models (multi-model mode) use the same file
    name, e.g. inference.py, without clobbering each other in sys.modules.
    """
    directory = os.path.dirname(os.path.abspath(path))
    digest = hashlib.sha1(os.path.abspath(path).encode()).hexdigest()[:12]
    module_name = f"sm_user_{os.path.splitext(os.path.basename(path))[0]}_{digest}"
    with _import_lock:
        # Helpers next to the script must be importable, as in training.
        if directory not in sys.path:
            sys.path.insert(0, directory)
        # The code may have been written (or unpacked) after Python listed the directory.
        importlib.invalidate_caches()
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:  # pragma: no cover - only for odd paths
            raise UserError(f"cannot import {path}")
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            raise AlgorithmError(f"importing {path} failed: {type(exc).__name__}: {exc}") from exc
        sys.modules[module_name] = module
    return module


# --- hooks ------------------------------------------------------------------


@dataclass(frozen=True)
class Hooks:
    model_fn: Callable[[str], Any]
    input_fn: Callable[[bytes, str], Any]
    predict_fn: Callable[[Any, Any], Any]
    output_fn: Callable[[Any, str], Any]
    transform_fn: Callable[..., Any] | None = None
    execution_parameters_fn: Callable[[], Any] | None = None
    source: str | None = None

    @property
    def custom_output(self) -> bool:
        return self.output_fn is not default_output_fn or self.transform_fn is not None


def hooks_from_module(module: ModuleType | None) -> Hooks:
    def pick(name: str, default: Any) -> Any:
        found = getattr(module, name, None) if module is not None else None
        return found if callable(found) else default

    transform_fn = pick("transform_fn", None)
    if transform_fn is not None:
        clashing = [name for name in CHAIN_HOOKS if pick(name, None) is not None]
        if clashing:
            raise UserError(
                "transform_fn cannot be combined with "
                + ", ".join(clashing)
                + ": define either transform_fn or input_fn/predict_fn/output_fn"
            )
    return Hooks(
        model_fn=pick("model_fn", default_model_fn),
        input_fn=pick("input_fn", default_input_fn),
        predict_fn=pick("predict_fn", default_predict_fn),
        output_fn=pick("output_fn", default_output_fn),
        transform_fn=transform_fn,
        execution_parameters_fn=pick("execution_parameters_fn", None),
        source=getattr(module, "__file__", None),
    )


def load_hooks(model_dir: str) -> Hooks:
    script = find_user_script(model_dir)
    module = import_user_script(script) if script else None
    return hooks_from_module(module)


# --- the handler: one loaded model plus its hooks ---------------------------


Output = tuple[bytes, str] | Response


def _normalise_output(result: Any, accept: str) -> Output:
    """User hooks may return a (werkzeug/Flask) Response, bytes, str, or (body, content_type).

    A body may also be a file-like object (upstream's array_to_recordio_protobuf
    returns a BytesIO).
    """
    if isinstance(result, Response):
        return result
    content_type = accept
    if isinstance(result, tuple) and len(result) == 2:
        result, content_type = result
    if hasattr(result, "read") and callable(result.read):
        result = result.read()
    if isinstance(result, str):
        result = result.encode("utf-8")
    if not isinstance(result, (bytes, bytearray, memoryview)):
        raise AlgorithmError(
            "output_fn/transform_fn must return a Response, bytes, str or "
            f"(body, content_type); got {type(result).__name__}"
        )
    return bytes(result), str(content_type)


def _body_for_hooks(body: bytes, content_type: str) -> bytes | str:
    if encoders.media_type(content_type) not in TEXT_TYPES:
        return body
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise encoders.DecodeError(f"request body is not valid UTF-8: {exc}") from exc


class ModelHandler:
    """Loads a model lazily (once, thread-safe) and runs requests through the hooks."""

    def __init__(self, model_dir: str, hooks: Hooks, default_accept: str):
        self.model_dir = model_dir
        self.hooks = hooks
        self.default_accept = default_accept
        self._model: Any = None
        self._loaded = False
        self._lock = threading.Lock()

    @classmethod
    def from_model_dir(cls, model_dir: str, default_accept: str) -> ModelHandler:
        return cls(model_dir, load_hooks(model_dir), default_accept)

    @property
    def model(self) -> Any:
        with self._lock:
            if not self._loaded:
                try:
                    self._model = self.hooks.model_fn(self.model_dir)
                except (UserError, AlgorithmError):
                    raise
                except Exception as exc:
                    raise AlgorithmError(f"model_fn failed: {type(exc).__name__}: {exc}") from exc
                self._loaded = True
            return self._model

    def _accept(self, accept_header: str | None) -> str:
        if self.hooks.custom_output:
            # The user's output_fn decides what it supports; give it the raw choice.
            if not accept_header or media_type_is_wildcard(accept_header):
                return self.default_accept
            return accept_header
        return encoders.choose_accept(accept_header, self.default_accept)

    def invoke(self, body: bytes, content_type: str | None, accept_header: str | None) -> Output:
        model = self.model
        accept = self._accept(accept_header)
        content_type = content_type or ""
        if self.hooks.transform_fn is not None:
            return _normalise_output(
                self.hooks.transform_fn(
                    model, _body_for_hooks(body, content_type), content_type, accept
                ),
                accept,
            )
        if self.hooks.input_fn is not default_input_fn:
            body = _body_for_hooks(body, content_type)
        data = self.hooks.input_fn(body, content_type)
        prediction = self.hooks.predict_fn(data, model)
        return _normalise_output(self.hooks.output_fn(prediction, accept), accept)

    def execution_parameters(self) -> Any:
        if self.hooks.execution_parameters_fn is None:
            return None
        return self.hooks.execution_parameters_fn()


def media_type_is_wildcard(header: str) -> bool:
    return encoders.media_type(header.split(",", 1)[0]) in ("*/*", "")
