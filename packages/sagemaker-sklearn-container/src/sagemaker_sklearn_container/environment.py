"""Where things live and which knobs are set, read from the environment.

Everything is a function (not a module constant) so that a changed
environment - in tests, or in a gunicorn worker - is always honoured.
All /opt/ml paths can be moved: SAGEMAKER_BASE_DIR moves the whole tree
(the same variable sagemaker-training uses), and SM_* variables move single
directories.
"""

from __future__ import annotations

import os
import pwd
from dataclasses import dataclass

DEFAULT_BASE_DIR = "/opt/ml"
DEFAULT_PORT = 8080
MIB = 1024 * 1024
DEFAULT_MAX_CONTENT_LENGTH = 6 * MIB
MAX_CONTENT_LENGTH_CAP = 20 * MIB
DEFAULT_JOB_QUEUE_SIZE = 100
DEFAULT_TIMEOUT = 60
DEFAULT_ACCEPT = "application/json"
# The unprivileged account the final image creates for the request-handling processes.
DEFAULT_SERVING_USER = "model-server"


def base_dir() -> str:
    return os.environ.get("SAGEMAKER_BASE_DIR", DEFAULT_BASE_DIR)


def _under_base(env_name: str, *parts: str) -> str:
    return os.environ.get(env_name) or os.path.join(base_dir(), *parts)


def model_dir() -> str:
    return _under_base("SM_MODEL_DIR", "model")


def input_dir() -> str:
    return _under_base("SM_INPUT_DIR", "input")


def input_config_dir() -> str:
    return os.environ.get("SM_INPUT_CONFIG_DIR") or os.path.join(input_dir(), "config")


def output_dir() -> str:
    return _under_base("SM_OUTPUT_DIR", "output")


def code_dir() -> str:
    return _under_base("SM_CODE_DIR", "code")


def runtime_dir() -> str:
    """Scratch space for the rendered nginx config, the gunicorn socket, the registry."""
    return os.environ.get("SAGEMAKER_RUNTIME_DIR", "/tmp/sagemaker_sklearn_container")


def model_registry_dir() -> str:
    return os.environ.get("SAGEMAKER_MODEL_REGISTRY_DIR") or os.path.join(runtime_dir(), "models")


def user_program() -> str | None:
    return os.environ.get("SAGEMAKER_PROGRAM") or None


def submit_directory() -> str | None:
    return os.environ.get("SAGEMAKER_SUBMIT_DIRECTORY") or None


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        # Imported lazily: errors imports this module.
        from sagemaker_sklearn_container.errors import UserError

        raise UserError(f"{name} must be an integer, got {raw!r}") from exc


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def max_content_length() -> int:
    """Request size limit: MAX_CONTENT_LENGTH, else SAGEMAKER_MAX_REQUEST_SIZE, else 6 MiB.

    Capped at 20 MiB, which is what a SageMaker endpoint accepts anyway.
    """
    limit = DEFAULT_MAX_CONTENT_LENGTH
    for name in ("SAGEMAKER_MAX_REQUEST_SIZE", "MAX_CONTENT_LENGTH"):
        if os.environ.get(name, "").strip():
            limit = _int_env(name, DEFAULT_MAX_CONTENT_LENGTH)
    if limit <= 0:
        limit = DEFAULT_MAX_CONTENT_LENGTH
    return min(limit, MAX_CONTENT_LENGTH_CAP)


def model_server_workers() -> int:
    """gunicorn workers: SAGEMAKER_MODEL_SERVER_WORKERS (what the SageMaker Python SDK sets
    from ``model_server_workers``), else SAGEMAKER_NUM_MODEL_WORKERS, else the CPU count."""
    default = os.cpu_count() or 1
    for name in ("SAGEMAKER_MODEL_SERVER_WORKERS", "SAGEMAKER_NUM_MODEL_WORKERS"):
        if os.environ.get(name, "").strip():
            return max(1, _int_env(name, default))
    return default


def serving_user_requested() -> bool:
    return bool(os.environ.get("SKLEARN_SERVING_USER", "").strip())


def serving_user() -> str | None:
    """The account nginx and gunicorn workers run as, or None to stay as we are.

    SageMaker starts the container as root. The processes that parse request
    bodies and run the user's hooks then drop to SKLEARN_SERVING_USER (default
    model-server); "root" keeps them root (for models readable only by root).
    Started as any other user, nothing changes: only root can switch.
    """
    name = os.environ.get("SKLEARN_SERVING_USER", "").strip() or DEFAULT_SERVING_USER
    if os.geteuid() != 0 or name == "root":
        return None
    try:
        pwd.getpwnam(name)
    except KeyError:
        if name != DEFAULT_SERVING_USER:  # asked for by name: a typo must not mean root
            from sagemaker_sklearn_container.errors import UserError  # (errors imports us)

            raise UserError(
                f"SKLEARN_SERVING_USER={name}: no such user in the image; "
                "use an existing account, or root"
            ) from None
        return None  # an image without the account (e.g. the unit tests' host)
    return name


@dataclass(frozen=True)
class ServingSettings:
    """All serving knobs, read once at start."""

    port: int
    host: str
    workers: int
    job_queue_size: int
    timeout: int
    max_content_length: int
    multi_model: bool
    default_accept: str
    user: str | None = None

    @classmethod
    def from_env(cls) -> ServingSettings:
        return cls(
            port=_int_env("SAGEMAKER_BIND_TO_PORT", DEFAULT_PORT),
            # 0.0.0.0 inside the container so SageMaker can reach nginx;
            # tests set 127.0.0.1.
            host=os.environ.get("SAGEMAKER_BIND_TO_HOST", "0.0.0.0"),
            workers=model_server_workers(),
            job_queue_size=max(
                1, _int_env("SAGEMAKER_MODEL_JOB_QUEUE_SIZE", DEFAULT_JOB_QUEUE_SIZE)
            ),
            timeout=max(1, _int_env("SAGEMAKER_MODEL_SERVER_TIMEOUT", DEFAULT_TIMEOUT)),
            max_content_length=max_content_length(),
            multi_model=_truthy("SAGEMAKER_MULTI_MODEL"),
            default_accept=os.environ.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT") or DEFAULT_ACCEPT,
            user=serving_user(),
        )
