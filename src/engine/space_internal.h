/* space_internal.h — private declarations shared by space.c (the variant
 * generator) and domain.c (the "$tunec" nodes: classification, validation,
 * sampling). Not part of the public engine API; see tunec.h for the node
 * shapes. */
#ifndef TUNEC_SPACE_INTERNAL_H
#define TUNEC_SPACE_INTERNAL_H

#include "search.h"
#include "tunec.h"

/* What a node of the spec tree is, for expansion (spec §5.2). */
enum {
    TCP_NODE_CONST = 0,   /* anything resolved, including {"$tunec": "obj"} */
    TCP_NODE_GRID,        /* one-key dict {"grid_search": ...} */
    TCP_NODE_FN,          /* {"$tunec": "fn", "id": N} */
    TCP_NODE_DOMAIN       /* {"$tunec": "domain", "kind": K, ...} */
};

/* Kind of v (borrowed). Never fails: an unknown "$tunec" node counts as a
 * constant here and is rejected by tcp_space_validate. */
int tcp_node_kind(const json_t *v);

/* 1 if v is an {"$tunec": "obj"} marker. */
int tcp_is_obj_marker(const json_t *v);

/* Appends the path (borrowed JSON array) the way error messages show it:
 * config["optimizer"]["lr"], config["layers"][0]. */
int tcp_path_render(const json_t *path, tc_buf *out);

/* Checks every node of the tree (grid lists, domains, fn ids, and what grid
 * values and choice categories contain). `path` is a scratch array the walk
 * appends to and pops from (borrowed, left as it was found). 0 / -1 with a
 * TC_ERR_VALUE or TC_ERR_TUNE naming the config path. */
int tcp_space_validate(const json_t *v, json_t *path, tc_error *err);

/* One draw from a validated domain node (borrowed). New reference, or NULL
 * with err set. `path` (borrowed) only names the node in messages. */
json_t *tcp_domain_sample(const json_t *node, tc_rng *rng, const json_t *path, tc_error *err);

/* A validated domain node as a TPE parameter (search_space_tpe.c): the
 * grid Ray's q makes (multiples of q inside the bounds) becomes the core's
 * step, exclusive upper bounds of the int kinds become inclusive ones.
 * p->name is left alone. randn has no bounds a TPE could model:
 * TC_ERR_VALUE naming the path. */
int tcp_domain_tpe_param(const json_t *node, const json_t *path, tc_tpe_param *p,
                         tc_error *err);
/* The config value of the core's value x (external representation) for
 * the node: a float, an integer, or a copy of the x-th category. New. */
json_t *tcp_domain_tpe_value(const json_t *node, double x);
/* The core's value of a config value v given for the node (a
 * points_to_evaluate entry): the number, or the index of the equal
 * category. -1 with TC_ERR_VALUE naming the path when v is not one. */
int tcp_domain_tpe_external(const json_t *node, const json_t *v, const json_t *path, double *x,
                            tc_error *err);

#endif
