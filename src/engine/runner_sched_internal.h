/* runner_sched_internal.h — what runner_sched.c (events, decisions, the
 * built-in cores) and runner_pbt.c (PBT clones, the replay) share. Not
 * installed. */
#ifndef TUNEC_RUNNER_SCHED_INTERNAL_H
#define TUNEC_RUNNER_SCHED_INTERNAL_H

#include "runner_internal.h"
#include "sched.h"

enum { K_FIFO, K_ASHA, K_HYPERBAND, K_MEDIAN, K_PBT, K_REPLAY };

struct runner_sched {
    int kind;
    int host_driven;
    char *time_attr, *metric;
    int mode_max;
    tc_asha *asha;
    tc_hyperband *hb;
    tc_median *median;
    tc_pbt *pbt;
    int log_config;
    int require_attrs;             /* PBT: a result without time_attr/metric is an error */
    json_t *replay_initial;        /* PopulationBasedTrainingReplay: owned */
    json_t *replay_policy;         /* [[step, config], ...], owned */
    char *replay_tag;              /* "replay_<policy file name>" */
    size_t replay_next;
    tc_sched_actions acts;
    tc_pbt_step step;
    int bohb;                      /* HyperBandForBOHB (spec "bohb": true) */
    long bohb_trial;               /* the trial whose result reached a milestone, */
    double bohb_budget;            /* ... and that milestone (Ray's hyperband_info budget) */
};

typedef struct sched_input {
    int has_time, has_metric;
    double time, metric;
    const json_t *iteration;       /* borrowed training_iteration, or NULL */
} sched_input;

/* runner_pbt.c */
/* PBT exploit: stage a copy of the donor's newest checkpoint for t and give
 * t the step's config and tag (stolen); log_config lines. 0 (also when the
 * donor has no checkpoint yet: skipped) / -1. */
int tcp_pbt_clone_into(tc_runner *r, tc_trial *t, tc_trial *donor, tc_pbt_step *step,
                       tc_error *err);
/* t's worker is released: the staged copy replaces t's own checkpoints. */
int tcp_pbt_finish_clone(tc_runner *r, tc_trial *t, tc_error *err);
/* t stopped before its staged clone was used: the copy is dropped. */
void tcp_pbt_drop_clone(tc_runner *r, tc_trial *t);
/* PopulationBasedTrainingReplay at a result of t. 0 / -1. */
int tcp_replay_result(tc_runner *r, tc_trial *t, const sched_input *in, tc_error *err);

#endif
