"""``GeneticSearch`` (``ray.tune.automl.genetic_searcher``).

Each generation is a round of ``AutoMLSearcher``: its genes are one-hot
encodings of the ``SearchSpace``. After a generation, the top trials' genes
survive and the rest of the next (smaller) generation is bred from them by
selection, crossover or mutation.
"""
import logging

import numpy as np

from tunec.automl.search_policy import AutoMLSearcher

logger = logging.getLogger(__name__)
LOGGING_PREFIX = "[GENETIC SEARCH] "


class GeneticSearch(AutoMLSearcher):
    """Genetic search over ``search_space``, maximising ``reward_attr``.

    Args:
        max_generation: how many generations (rounds) to run.
        population_size: the trials of the first generation.
        population_decay: each generation has this fraction of the last
            one's trials (at least 3).
        keep_top_ratio: the fraction of a generation (at least 2 trials)
            whose genes are kept and bred from.
        selection_bound, crossover_bound: a bred gene is a selection below
            the first, a crossover below their sum, else a mutation.
    """

    def __init__(self, search_space, reward_attr, max_generation=2, population_size=10,
                 population_decay=0.95, keep_top_ratio=0.2, selection_bound=0.4,
                 crossover_bound=0.4):
        super().__init__(search_space, reward_attr)
        self._cur_generation = 1
        self._max_generation = max_generation
        self._population_size = population_size
        self._population_decay = population_decay
        self._keep_top_ratio = keep_top_ratio
        self._selection_bound = selection_bound
        self._crossover_bound = crossover_bound
        self._cur_encoding_list = [self.search_space.generate_random_one_hot_encoding()
                                   for _ in range(population_size)]
        self._cur_config_list = [self.search_space.apply_one_hot_encoding(gene)
                                 for gene in self._cur_encoding_list]

    def _select(self):
        logger.info(LOGGING_PREFIX + "Generate the %sth generation, population=%s",
                    self._cur_generation, len(self._cur_config_list))
        return self._cur_config_list, self._cur_encoding_list

    def _feedback(self, trials):
        self._cur_generation += 1
        if self._cur_generation > self._max_generation:
            return AutoMLSearcher.TERMINATE
        ranked = sorted(trials, key=self._reward, reverse=True)
        self._cur_encoding_list = self._next_generation(ranked)
        self._cur_config_list = [self.search_space.apply_one_hot_encoding(gene)
                                 for gene in self._cur_encoding_list]
        return AutoMLSearcher.CONTINUE

    def _next_generation(self, sorted_trials):
        """The genes of the next generation, from trials best first."""
        num_population = self._next_population_size(len(sorted_trials))
        top_num = min(int(max(num_population * self._keep_top_ratio, 2)), len(sorted_trials))
        candidates = [sorted_trials[i].extra_arg for i in range(top_num)]
        next_generation = list(candidates)
        for _ in range(top_num, num_population):
            coin = np.random.uniform()
            if coin < self._selection_bound:
                next_generation.append(GeneticSearch._selection(candidates))
            elif coin < self._selection_bound + self._crossover_bound:
                next_generation.append(GeneticSearch._crossover(candidates))
            else:
                next_generation.append(GeneticSearch._mutation(candidates))
        return next_generation

    def _next_population_size(self, last_population_size):
        return int(max(last_population_size * self._population_decay, 3))

    @staticmethod
    def _selection(candidate):
        """One gene's parameters, one of them taken from another gene."""
        first = candidate[np.random.choice(len(candidate))]
        second = candidate[np.random.choice(len(candidate))]
        index = np.random.choice(len(first))
        logger.info(LOGGING_PREFIX + "Perform selection at index=%s", index)
        return [np.copy(second[i] if i == index else first[i]) for i in range(len(first))]

    @staticmethod
    def _crossover(candidate):
        """The first 30-70% of one gene's parameters, the rest another's."""
        first = candidate[np.random.choice(len(candidate))]
        second = candidate[np.random.choice(len(candidate))]
        cross = int(len(first) * np.random.uniform(low=0.3, high=0.7))
        logger.info(LOGGING_PREFIX + "Perform crossover at index=%s", cross)
        return [np.copy(second[i] if i > cross else first[i]) for i in range(len(first))]

    @staticmethod
    def _mutation(candidate, rate=0.1):
        """A copy of one gene with `rate` of its parameters (at least one)
        set to a random choice. (Ray mutates the kept gene in place; a copy
        leaves the survivors as they were.)"""
        gene = [np.copy(field) for field in candidate[np.random.choice(len(candidate))]]
        changed = []
        for _ in range(int(max(len(gene) * rate, 1))):
            index = np.random.choice(len(gene))
            changed.append(index)
            field = gene[index]
            field[np.argmax(field)] = 0
            field[np.random.choice(field.shape[0])] = 1
        logger.info(LOGGING_PREFIX + "Perform mutation at index=%s", changed)
        return gene
