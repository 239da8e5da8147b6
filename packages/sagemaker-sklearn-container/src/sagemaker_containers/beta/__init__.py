"""Upstream's ``sagemaker_containers.beta`` namespace."""
