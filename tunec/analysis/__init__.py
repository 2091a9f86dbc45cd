"""``tunec.analysis`` — ``Analysis`` and ``ExperimentAnalysis`` (``ray.tune.analysis``).

Importing this package imports neither NumPy nor pandas; loading an
experiment imports NumPy, and only the methods that return DataFrames import
pandas.
"""
from tunec.analysis.experiment_analysis import Analysis, ExperimentAnalysis

__all__ = ["Analysis", "ExperimentAnalysis"]
