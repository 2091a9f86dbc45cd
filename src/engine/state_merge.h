/* state_merge.h — one trial's record put together from its pieces
 * (state_merge.c), for the state reader (state_read.c). */
#ifndef TUNEC_STATE_MERGE_H
#define TUNEC_STATE_MERGE_H

#include "tunec.h"

/* Applies journal event ev to *rec (NULL before the first piece): a start
 * event's record merged over it, a status, checkpoint or reconfig event's
 * keys. 0, or -1 when out of memory. */
int tcp_state_apply_event(json_t **rec, const json_t *ev);
/* A moved or copied experiment: the trial directory found by name in
 * exp_dir (is_dir may be NULL: never moved); "local_dir" set. 0 / -1. */
int tcp_state_relocate(json_t *rec, const char *exp_dir, int (*is_dir)(void *, const char *),
                       void *ctx);

/* The well-formed checkpoint records of a checkpoint event's list (a new
 * array; NULL when out of memory); *damaged when some were dropped. */
json_t *tcp_state_checkpoints(const json_t *list, int *damaged);

#endif
