/* alloc.h — the engine's one allocation hook (alloc.c).
 *
 * Every allocation of src/engine and src/ext goes through these, jansson's
 * included (json_set_alloc_funcs, set once when the library loads), so that:
 *   - a test can fail the Nth allocation for every N along a whole engine
 *     scenario (tc_alloc_fail_after; tests/c/test_alloc_failure.c, the practice
 *     of jansson's test_chaos.c and SQLite's malloc fault injection), and
 *   - a test can see that every block it caused was released (tc_alloc_live),
 *     and how many bytes the live ones take (tc_alloc_live_bytes).
 * Memory one side allocates and the other frees crosses with these too: the
 * strings a host callback returns for the engine to own (name_trial_dir,
 * read_file's text) come from tc_malloc / tc_strdup, and what the
 * engine hands out as "malloc'd" is released with tc_free.
 *
 * The wrappers are plain malloc and friends plus two relaxed atomic counters
 * (analysis loads from several threads); tests/scripts/route_allocations.py
 * renames raw calls in the engine and extension sources (idempotent).
 */
#ifndef TUNEC_ALLOC_H
#define TUNEC_ALLOC_H

#include <stddef.h>

void *tc_malloc(size_t n);
void *tc_calloc(size_t n, size_t size);
void *tc_realloc(void *p, size_t n);
void tc_free(void *p);
char *tc_strdup(const char *s);
char *tc_strndup(const char *s, size_t n);

/* Tests only: after n more allocations succeed, the next one fails (returns
 * NULL as malloc would), once; n < 0 turns injection off. */
void tc_alloc_fail_after(long n);
/* Allocations that succeeded since the process started. */
long tc_alloc_count(void);
/* Blocks allocated through the hook and not yet freed through it. */
long tc_alloc_live(void);
/* Bytes those blocks take (malloc_usable_size): what a test holds the
 * engine's memory per finished trial to (issue 12). */
long tc_alloc_live_bytes(void);
/* Failures injected so far (tc_alloc_fail_after). */
long tc_alloc_failures(void);

#endif
