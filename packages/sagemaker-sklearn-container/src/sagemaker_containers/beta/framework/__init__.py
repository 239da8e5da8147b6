"""``from sagemaker_containers.beta.framework import encoders, worker, ...`` works here."""

from sagemaker_containers import (
    content_types,
    encoders,
    env,
    errors,
    modules,
    training_env,
    transformer,
    worker,
)

__all__ = [
    "content_types",
    "encoders",
    "env",
    "errors",
    "modules",
    "training_env",
    "transformer",
    "worker",
]
