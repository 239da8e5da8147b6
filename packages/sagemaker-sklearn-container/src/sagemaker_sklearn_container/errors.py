"""Error taxonomy shared by training and serving.

Every failure the container reports belongs to one of three families, so a
person reading /opt/ml/output/failure (or the exit code) knows whose fault it
was:

* ``UserError``      - the job is set up wrongly (missing program, conflicting
                       hooks, bad configuration). Fix the job, not the code.
* ``AlgorithmError`` - the user's own code ran and failed (training script
                       exited non-zero, model_fn raised).
* ``PlatformError``  - the container itself failed (nginx missing, a server
                       died, an unexpected internal exception).
"""

from __future__ import annotations

import logging
import os

from sagemaker_sklearn_container import environment

logger = logging.getLogger(__name__)

# SageMaker shows at most the first 1024 characters of the failure file.
FAILURE_MESSAGE_LIMIT = 1024


class ContainerError(Exception):
    """Base class: carries the process exit code for its family."""

    exit_code = 1
    kind = "ContainerError"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
        # sagemaker-training's trainer uses ``errno`` as the exit code when it
        # calls our training entry point, so keep the two in step.
        self.errno = self.exit_code

    def failure_text(self) -> str:
        return f"{self.kind}: {self.message}"


class AlgorithmError(ContainerError):
    exit_code = 1
    kind = "AlgorithmError"


class UserError(ContainerError):
    exit_code = 2
    kind = "UserError"


class PlatformError(ContainerError):
    exit_code = 3
    kind = "PlatformError"


def as_container_error(exc: BaseException) -> ContainerError:
    """Classify any exception; unknown ones are the platform's fault."""
    if isinstance(exc, ContainerError):
        return exc
    return PlatformError(f"{type(exc).__name__}: {exc}")


def write_failure_file(error: ContainerError) -> str | None:
    """Write the failure file once; the first (root-cause) failure wins."""
    path = os.path.join(environment.output_dir(), "failure")
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if os.path.exists(path):
            return path
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(error.failure_text()[:FAILURE_MESSAGE_LIMIT])
    except OSError:  # pragma: no cover - nothing more we can do; the log still has it
        logger.exception("could not write failure file %s", path)
        return None
    return path


def write_success_file() -> str:
    path = os.path.join(environment.output_dir(), "success")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8"):
        pass
    return path
