"""``ray.air.integrations.wandb`` (2.x)."""
from tunec.integration.wandb import WandbLoggerCallback, setup_wandb

__all__ = ["WandbLoggerCallback", "setup_wandb"]
