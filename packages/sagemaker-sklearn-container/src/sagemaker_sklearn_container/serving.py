"""Serving entry point (SAGEMAKER_SERVING_MODULE=sagemaker_sklearn_container.serving:main)."""

from __future__ import annotations

import logging

from sagemaker_sklearn_container import code_delivery, environment, hooks, launcher
from sagemaker_sklearn_container.errors import as_container_error, write_failure_file

logger = logging.getLogger(__name__)


def main() -> int:
    """Validate the setup, then run nginx + gunicorn. Returns the exit code."""
    try:
        settings = environment.ServingSettings.from_env()
        # Fetch and unpack the user's code once, here, before gunicorn forks its
        # workers: they inherit the local directory through the environment.
        code = code_delivery.prepare_submit_directory(settings.user)
        if not settings.multi_model:
            settings = launcher.account_that_can_read(
                settings, [environment.model_dir(), *([code] if code else [])]
            )
            # Fail fast, in one place, on a broken inference script
            # (e.g. transform_fn together with input_fn) instead of in every worker.
            hooks.load_hooks(environment.model_dir())
        return launcher.serve(settings)
    except Exception as exc:
        error = as_container_error(exc)
        logger.error("%s", error.failure_text(), exc_info=error is not exc)
        write_failure_file(error)
        return error.exit_code
