"""Multi-model mode: a model registry on disk shared by all gunicorn workers.

Why on disk: gunicorn runs several independent worker processes, and a load
request reaches only one of them. Keeping the list of loaded models in a
directory (one small JSON file per model) gives every worker the same view
without a coordinator process:

* load   = write a temp file, then ``os.link`` it to ``<name>.json``. Linking
           fails if the name exists, so two workers racing on the same name
           produce exactly one 200 and one 409.
* unload = ``os.unlink``; a missing file means 404.
* invoke = read ``<name>.json``; each worker loads the model into memory on
           first use and keeps it while the entry's ``load_id`` is unchanged,
           so an unload followed by a new load of the same name is noticed.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
import uuid
from dataclasses import dataclass

from sagemaker_sklearn_container.encoders import RequestError
from sagemaker_sklearn_container.hooks import ModelHandler

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class RegistryError(RequestError):
    """A request about models the registry cannot serve; answered with its status."""


class InvalidModel(RegistryError):
    status = 400


class ModelNotFound(RegistryError):
    status = 404


class ModelExists(RegistryError):
    status = 409


@dataclass(frozen=True)
class ModelEntry:
    model_name: str
    url: str
    load_id: str

    def to_json(self) -> dict:
        return {"model_name": self.model_name, "url": self.url}


def validate_name(name: str) -> str:
    # Names become file names, so no path separators or leading dots.
    # fullmatch: with match, "$" would also accept a trailing newline ("m1\n").
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise InvalidModel(
            f"invalid model_name {name!r}: use letters, digits, '.', '_' or '-' (max 128)"
        )
    return name


def resolve_url(url: str) -> str:
    """Models are loaded from a local directory (``file://`` prefix allowed)."""
    if not isinstance(url, str) or not url:
        raise InvalidModel("url must be a non-empty string")
    path = url[len("file://") :] if url.startswith("file://") else url
    if "://" in path:
        raise InvalidModel(f"url {url!r}: only local directories are supported")
    if not os.path.isdir(path):
        raise InvalidModel(f"url {url!r} is not an existing directory")
    return os.path.abspath(path)


class ModelRegistry:
    """The on-disk list of loaded models."""

    def __init__(self, root: str):
        self.root = root
        os.makedirs(root, exist_ok=True)

    def _path(self, name: str) -> str:
        return os.path.join(self.root, validate_name(name) + ".json")

    def add(self, name: str, url: str) -> ModelEntry:
        entry = ModelEntry(validate_name(name), url, uuid.uuid4().hex)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({"model_name": name, "url": url, "load_id": entry.load_id}, handle)
            try:
                os.link(tmp, self._path(name))  # atomic, and refuses to overwrite
            except FileExistsError as exc:
                raise ModelExists(f"Model {name} is already registered.") from exc
        finally:
            os.unlink(tmp)
        return entry

    def remove(self, name: str) -> None:
        try:
            os.unlink(self._path(name))
        except FileNotFoundError as exc:
            raise ModelNotFound(f"Model not found: {name}") from exc

    def get(self, name: str) -> ModelEntry:
        try:
            with open(self._path(name), encoding="utf-8") as handle:
                data = json.load(handle)
        except FileNotFoundError as exc:
            raise ModelNotFound(f"Model not found: {name}") from exc
        return ModelEntry(data["model_name"], data["url"], data["load_id"])

    def list(self) -> list[ModelEntry]:
        entries = []
        for filename in sorted(os.listdir(self.root)):
            if filename.endswith(".json") and not filename.startswith("."):
                try:
                    entries.append(self.get(filename[: -len(".json")]))
                except (ModelNotFound, InvalidModel):  # removed meanwhile, or a stray file
                    continue
        return entries


class ModelCache:
    """Per-worker cache of loaded handlers, kept in step with the registry."""

    def __init__(self, registry: ModelRegistry, default_accept: str):
        self.registry = registry
        self.default_accept = default_accept
        self._handlers: dict[str, tuple[str, ModelHandler]] = {}
        self._lock = threading.Lock()

    def load(self, name: str, url: str) -> ModelEntry:
        """Load the model here first (so a broken model is refused), then register it."""
        validate_name(name)
        path = resolve_url(url)
        try:
            self.registry.get(name)
        except ModelNotFound:
            pass
        else:
            raise ModelExists(f"Model {name} is already registered.")
        handler = ModelHandler.from_model_dir(path, self.default_accept)
        _ = handler.model  # raises if model_fn fails
        entry = self.registry.add(name, path)
        with self._lock:
            self._handlers[name] = (entry.load_id, handler)
        return entry

    def unload(self, name: str) -> None:
        self.registry.remove(name)
        with self._lock:
            self._handlers.pop(name, None)

    def handler(self, name: str) -> ModelHandler:
        try:
            entry = self.registry.get(name)
        except ModelNotFound:
            with self._lock:
                self._handlers.pop(name, None)  # unloaded by another worker
            raise
        with self._lock:
            cached = self._handlers.get(name)
            if cached and cached[0] == entry.load_id:
                return cached[1]
        handler = ModelHandler.from_model_dir(entry.url, self.default_accept)
        with self._lock:
            self._handlers[name] = (entry.load_id, handler)
        return handler
