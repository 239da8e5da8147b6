"""SageMaker scikit-learn container runtime (training and serving)."""

__version__ = "2.0"
