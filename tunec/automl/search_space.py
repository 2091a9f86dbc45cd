"""The parameter spaces of ``tunec.automl`` (``ray.tune.automl.search_space``).

A parameter's name may be dotted ("model.lr"): the value goes to that path
of the trial's nested config.
"""
import logging
import random

import numpy as np

from tunec.sample import grid_search

logger = logging.getLogger(__name__)


class ParameterSpace:
    """One parameter's space; ``choices`` are the values a one-hot encoding
    indexes."""

    def __init__(self, name):
        self.name = name


class DiscreteSpace(ParameterSpace):
    """A parameter taking one of ``choices``."""

    def __init__(self, name, choices):
        super().__init__(name)
        self.choices = choices

    def to_grid_search(self):
        return grid_search(self.choices)

    def to_random_choice(self):
        return lambda _: random.choice(self.choices)

    def choices_count(self):
        return len(self.choices)

    def __str__(self):
        return "DiscreteSpace %s: %s" % (self.name, str(self.choices))


class ContinuousSpace(ParameterSpace):
    """A parameter in [start, end]; ``num`` evenly spaced values of it are
    the choices of grid and genetic search, random search draws uniformly."""

    LINEAR = "linear"

    def __init__(self, name, start, end, num, distribution=LINEAR):
        super().__init__(name)
        if distribution != ContinuousSpace.LINEAR:
            raise NotImplementedError("Distribution %s not supported" % distribution)
        self.start = float(start)
        self.end = float(end)
        self.num = num
        self.distribution = distribution
        # Python floats: a config value is a JSON number in params.json.
        self.choices = [float(v) for v in np.linspace(start, end, num)]

    def to_grid_search(self):
        return grid_search(self.choices)

    def to_random_choice(self):
        return lambda _: random.uniform(self.start, self.end)

    def choices_count(self):
        return len(self.choices)

    def __str__(self):
        return "ContinuousSpace %s: [%s, %s]" % (self.name, self.start, self.end)


class SearchSpace:
    """A collection of ``ParameterSpace``s (a list, or a set as Ray's
    genetic example passes)."""

    def __init__(self, param_list):
        self.param_list = list(param_list)
        for space in self.param_list:
            if not isinstance(space, ParameterSpace):
                raise TypeError("SearchSpace: expected ParameterSpace objects, got {!r}"
                                .format(space))
            logger.info("Add %s into SearchSpace", space)

    def to_grid_search(self):
        return {space.name: space.to_grid_search() for space in self.param_list}

    def to_random_choice(self):
        return {space.name: space.to_random_choice() for space in self.param_list}

    def generate_random_one_hot_encoding(self):
        """One one-hot array per parameter, its 1 at a random choice."""
        encoding = []
        for space in self.param_list:
            one_hot = np.zeros(space.choices_count())
            one_hot[random.randrange(space.choices_count())] = 1
            encoding.append(one_hot)
        return encoding

    def apply_one_hot_encoding(self, one_hot_encoding):
        """{parameter name: the choice its one-hot array selects}."""
        return {space.name: space.choices[int(np.argmax(one_hot))]
                for space, one_hot in zip(self.param_list, one_hot_encoding)}
