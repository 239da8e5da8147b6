"""The `train` and `serve` console scripts.

Each dispatches to the module named by SAGEMAKER_TRAINING_MODULE /
SAGEMAKER_SERVING_MODULE ("package.module:function"), defaulting to ours, the
same convention sagemaker-training uses, so an image can swap either part.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from collections.abc import Callable

from sagemaker_sklearn_container.errors import (
    UserError,
    as_container_error,
    write_failure_file,
    write_success_file,
)

DEFAULT_TRAINING_MODULE = "sagemaker_sklearn_container.training:main"
DEFAULT_SERVING_MODULE = "sagemaker_sklearn_container.serving:main"


def configure_logging() -> None:
    level = os.environ.get("SAGEMAKER_CONTAINER_LOG_LEVEL", "INFO").upper()
    if level.isdigit():
        level = int(level)
    logging.basicConfig(
        level=level
        if isinstance(level, int) or level in logging.getLevelNamesMapping()
        else "INFO",
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def load_target(spec: str) -> Callable[[], object]:
    module_name, _, function_name = spec.partition(":")
    try:
        return getattr(importlib.import_module(module_name), function_name or "main")
    except (ImportError, AttributeError) as exc:
        raise UserError(f"cannot load entry point {spec!r}: {exc}") from exc


def train() -> None:
    configure_logging()
    try:
        load_target(os.environ.get("SAGEMAKER_TRAINING_MODULE") or DEFAULT_TRAINING_MODULE)()
    except Exception as exc:
        error = as_container_error(exc)
        logging.getLogger(__name__).error("training failed: %s", error.failure_text())
        write_failure_file(error)  # no-op if main already wrote it
        sys.exit(error.exit_code)
    write_success_file()
    sys.exit(0)


def serve() -> None:
    configure_logging()
    try:
        target = load_target(os.environ.get("SAGEMAKER_SERVING_MODULE") or DEFAULT_SERVING_MODULE)
    except UserError as error:
        write_failure_file(error)
        sys.exit(error.exit_code)
    code = target()
    sys.exit(code if isinstance(code, int) else 0)
