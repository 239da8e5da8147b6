"""Training: run the user's entry script the way SageMaker script mode expects.

The heavy lifting - hyperparameters from /opt/ml/input/config turned into
command-line arguments, channels and paths exported as SM_* variables,
requirements.txt in the submit dir installed - is sagemaker-training's
(``entry_point.run``). This module decides which script to run, where its
code is, and classifies failures into our error taxonomy.

``main`` is the SAGEMAKER_TRAINING_MODULE target (sagemaker-training's own
``train`` command imports and calls it); ``sagemaker_sklearn_container.cli:train``
calls it too and turns the outcome into the success/failure file and exit code.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os

from sagemaker_sklearn_container import code_delivery, environment
from sagemaker_sklearn_container.errors import (
    AlgorithmError,
    ContainerError,
    UserError,
    as_container_error,
    write_failure_file,
)

logger = logging.getLogger(__name__)


def _hyperparameters() -> dict:
    path = os.path.join(environment.input_config_dir(), "hyperparameters.json")
    if not os.path.exists(path):
        return {}
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except json.JSONDecodeError as exc:
        raise UserError(f"{path} is not valid JSON: {exc}") from exc


def _sagemaker_param(hyperparameters: dict, name: str) -> str | None:
    """SageMaker stores its own hyperparameters JSON-encoded ("\"train.py\"")."""
    value = hyperparameters.get(name)
    if isinstance(value, str):
        with contextlib.suppress(json.JSONDecodeError):
            value = json.loads(value)
    return value if isinstance(value, str) and value else None


def resolve_entry_point() -> tuple[str, str]:
    """(program, code location): the environment wins over the hyperparameters."""
    hyperparameters = _hyperparameters()
    program = environment.user_program() or _sagemaker_param(hyperparameters, "sagemaker_program")
    if not program:
        raise UserError(
            "no training script: set SAGEMAKER_PROGRAM (or the sagemaker_program hyperparameter)"
        )
    location = (
        environment.submit_directory()
        or _sagemaker_param(hyperparameters, "sagemaker_submit_directory")
        or environment.code_dir()
    )
    if "://" not in location:
        location = os.path.abspath(location)
        if not os.path.exists(location):
            raise UserError(f"submit directory {location} does not exist")
        if os.path.isdir(location) and not os.path.exists(os.path.join(location, program)):
            raise UserError(f"training script {program} not found in {location}")
    return program, location


def _non_empty(directory: str) -> bool:
    return os.path.isdir(directory) and bool(os.listdir(directory))


def ensure_local_config() -> None:
    """Outside SageMaker the config files may be missing; write harmless defaults.

    SageMaker always provides them. sagemaker-training refuses to run without
    them, and would spend 15 minutes resolving unknown host names, so a local
    run gets a single host called ``localhost`` and one channel per folder
    found in ``input/data``.
    """
    config_dir = environment.input_config_dir()
    os.makedirs(config_dir, exist_ok=True)
    data_dir = os.path.join(environment.input_dir(), "data")
    channels = sorted(os.listdir(data_dir)) if os.path.isdir(data_dir) else []
    defaults = {
        "resourceconfig.json": {"current_host": "localhost", "hosts": ["localhost"]},
        "inputdataconfig.json": {name: {"TrainingInputMode": "File"} for name in channels},
        "hyperparameters.json": {},
    }
    for filename, content in defaults.items():
        path = os.path.join(config_dir, filename)
        if not os.path.exists(path):
            logger.info("%s missing (not on SageMaker?): writing a default", path)
            with open(path, "w", encoding="utf-8") as handle:
                json.dump(content, handle)


def run_training() -> None:
    """Run the user's script to completion; raise a ContainerError on failure."""
    # Imported here: sagemaker-training reads SAGEMAKER_BASE_DIR when imported.
    from sagemaker_training import entry_point
    from sagemaker_training import environment as sm_environment
    from sagemaker_training import errors as sm_errors

    program, location = resolve_entry_point()
    # s3:// URIs and tarballs: fetched and unpacked safely here, so a missing object,
    # a corrupt archive or an unsafe member is a UserError naming the URI.
    local = code_delivery.resolve(location)
    if not os.path.isfile(os.path.join(local, program)):
        raise UserError(f"training script {program} not found in {location}")
    code_dir = sm_environment.code_dir  # where sagemaker-training runs the script from
    if os.path.realpath(local) != os.path.realpath(code_dir) and _non_empty(code_dir):
        # sagemaker-training copies the code into the code dir only when that is empty.
        logger.warning(
            "%s is not empty: sagemaker-training runs %s from there, not from %s",
            code_dir,
            program,
            location,
        )
    ensure_local_config()
    os.makedirs(environment.model_dir(), exist_ok=True)
    env = sm_environment.Environment()
    logger.info("running training script %s from %s", program, location)
    try:
        entry_point.run(
            uri=local,
            user_entry_point=program,
            args=env.to_cmd_args(),
            env_vars=env.to_env_vars(),
            capture_error=True,
        )
    except sm_errors.ExecuteUserScriptError as exc:
        raise AlgorithmError(f"training script {program} failed: {exc}") from exc
    except sm_errors.ClientError as exc:  # e.g. its requirements.txt did not install
        raise UserError(f"preparing {program} failed: {exc}") from exc


def main() -> None:
    """SAGEMAKER_TRAINING_MODULE entry point. Raises on failure (never exits)."""
    try:
        run_training()
    except Exception as exc:
        error = as_container_error(exc)
        logger.error("%s", error.failure_text())
        # Write our classified message first; the caller keeps the first one.
        write_failure_file(error)
        if error is exc:
            raise
        raise error from exc


__all__ = ["ContainerError", "main", "resolve_entry_point", "run_training"]
