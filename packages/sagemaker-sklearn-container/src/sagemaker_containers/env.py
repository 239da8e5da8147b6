"""``env``: the serving and training environment as upstream scripts read it."""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from sagemaker_sklearn_container import environment as _environment


def _int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, "") or default)
    except ValueError:
        return default


def num_cpus() -> int:
    return os.cpu_count() or 1


def num_gpus() -> int:
    return 0  # a CPU image


def _read_json(name: str) -> dict:
    with open(os.path.join(_environment.input_config_dir(), name), encoding="utf-8") as handle:
        return json.load(handle)


def read_hyperparameters() -> dict:
    hyperparameters = _read_json("hyperparameters.json")
    try:
        return {key: json.loads(value) for key, value in hyperparameters.items()}
    except (ValueError, TypeError):
        return hyperparameters


def read_resource_config() -> dict:
    return _read_json("resourceconfig.json")


def read_input_data_config() -> dict:
    return _read_json("inputdataconfig.json")


def channel_path(channel: str) -> str:
    return os.path.join(_environment.input_dir(), "data", channel)


class ServingEnv:
    """A snapshot of the serving settings, read when created."""

    def __init__(self) -> None:
        program = _environment.user_program()
        self.module_name = program[:-3] if program and program.endswith(".py") else program
        self.module_dir = _environment.submit_directory()
        self.model_dir = _environment.model_dir()
        self.log_level = os.environ.get("SAGEMAKER_CONTAINER_LOG_LEVEL", logging.INFO)
        self.current_host = os.environ.get("CURRENT_HOST")
        self.num_cpus = num_cpus()
        self.num_gpus = num_gpus()
        self.use_nginx = os.environ.get("SAGEMAKER_USE_NGINX", "true").lower() != "false"
        self.model_server_timeout = _int(
            "SAGEMAKER_MODEL_SERVER_TIMEOUT", _environment.DEFAULT_TIMEOUT
        )
        self.model_server_workers = _environment.model_server_workers()
        self.default_accept = (
            os.environ.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT") or _environment.DEFAULT_ACCEPT
        )
        self.http_port = os.environ.get("SAGEMAKER_BIND_TO_PORT", str(_environment.DEFAULT_PORT))
        self.safe_port_range = os.environ.get("SAGEMAKER_SAFE_PORT_RANGE")
        self.framework_module = os.environ.get("SAGEMAKER_SERVING_MODULE")

    def properties(self) -> list[str]:
        return sorted(vars(self))

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    def keys(self) -> list[str]:
        return self.properties()


def __getattr__(name: str) -> Any:
    # Directory constants follow the environment (SAGEMAKER_BASE_DIR, SM_*_DIR);
    # TrainingEnv is sagemaker-training's Environment, imported only when asked for.
    paths = {
        "base_dir": _environment.base_dir,
        "model_dir": _environment.model_dir,
        "input_dir": _environment.input_dir,
        "input_config_dir": _environment.input_config_dir,
        "output_dir": _environment.output_dir,
        "code_dir": _environment.code_dir,
    }
    if name in paths:
        return paths[name]()
    if name == "output_data_dir":
        return os.path.join(_environment.output_dir(), "data")
    if name == "TrainingEnv":
        from sagemaker_training.environment import Environment

        return Environment
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
