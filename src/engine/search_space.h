/* search_space.h — the TPE core (search.h) over a tune config: which
 * domains of the config are its parameters, how its values become a
 * config's values, and which trial is which observation
 * (search_space_tpe.c). Used by the runner's native searcher
 * (runner_search.c) and by the Python TPESearch used on its own
 * (src/ext/tpe_ext.c). */
#ifndef TUNEC_SEARCH_SPACE_H
#define TUNEC_SEARCH_SPACE_H

#include "tunec.h"

typedef struct tc_tpe_search tc_tpe_search;

/* config: the encoded config ({"$tunec": "domain"} nodes as tunec.h lists
 * them). Every domain reached through dict keys is a parameter named by
 * its path ("a/b"); sample_from nodes are left for the space to resolve
 * after the parameters are set (they may read them); domains inside a
 * choice's categories are sampled by the space, not modelled. A
 * grid_search, a randn or a domain inside a list is TC_ERR_VALUE naming
 * its config path.
 * opts (all optional): "metric" (string, required), "mode" ("min"/"max",
 * required), "n_startup_trials", "n_ei_candidates", "ei_budget", "gamma" (fraction),
 * "gamma_max", "prior_weight", "consider_prior", "consider_magic_clip",
 * "consider_endpoints", "multivariate", "constant_liar", "seed" (integer),
 * "points_to_evaluate" (partial configs, suggested first) and
 * "evaluated_rewards" (one objective per point: those points are observed
 * at once instead). "space" and "type" are the runner's and are ignored
 * here. Both borrowed. */
tc_tpe_search *tc_tpe_search_new(const json_t *config, const json_t *opts, tc_error *err);
void tc_tpe_search_free(tc_tpe_search *s);

/* The next suggestion for trial_id: a new object holding the parameters'
 * values at their paths. Suggestion k (0-based, counting from the first of
 * the search) is drawn from a stream seeded with (seed, k), so a search
 * rebuilt from its history with tc_tpe_search_set_made continues as the
 * original would have. The trial counts as running. NULL + err on error. */
json_t *tc_tpe_search_suggest(tc_tpe_search *s, const char *trial_id, tc_error *err);
/* A trial of an earlier session back (resume): running with the values
 * found in its config (a parameter missing there is left out of its
 * estimators). 0 / -1. */
int tc_tpe_search_restore_trial(tc_tpe_search *s, const char *trial_id, const json_t *config,
                                tc_error *err);
/* The trial ended: result is its last result (nested or with "a/b" keys;
 * NULL or empty when it reported nothing: forgotten, as a failure), error 1
 * when it failed. A result without the metric is TC_ERR_VALUE naming it.
 * An unknown trial id is ignored (0). */
int tc_tpe_search_complete(tc_tpe_search *s, const char *trial_id, const json_t *result,
                           int error, tc_error *err);
/* Suggestions made so far (points to evaluate included). */
long tc_tpe_search_made(const tc_tpe_search *s);
void tc_tpe_search_set_made(tc_tpe_search *s, long made);
const char *tc_tpe_search_metric(const tc_tpe_search *s);

#endif /* TUNEC_SEARCH_SPACE_H */
