"""``ray.air.integrations.mlflow`` (2.x)."""
from tunec.integration.mlflow import MLflowLoggerCallback, setup_mlflow

__all__ = ["MLflowLoggerCallback", "setup_mlflow"]
