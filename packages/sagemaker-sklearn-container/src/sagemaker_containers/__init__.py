"""Compatibility layer for scripts written for the upstream SageMaker scikit-learn image.

Those scripts import ``sagemaker_containers.beta.framework`` (encoders, worker,
content_types, env, ...), the public face of the retired ``sagemaker-containers``
package. This package gives them the parts such scripts use, built on this
image's own runtime (Flask 3, numpy, scipy, protobuf); it is not that package.
"""

from __future__ import annotations

from typing import Any


def training_env(**kwargs: Any) -> Any:
    """The training environment (sagemaker-training's, which succeeded this package's)."""
    from sagemaker_containers import env

    return env.TrainingEnv(**kwargs)
