"""``ray.tune.integration``: callbacks and helpers for the tools people
already track and train with (MLflow, Weights & Biases, Keras, PyTorch
Lightning). Each module imports its library only when used."""
