/* alloc.c — the engine's allocation hook (see alloc.h).
 *
 * The counters are C11 atomics with relaxed ordering: they are statistics,
 * not synchronisation, and the analysis loader allocates from worker
 * threads. Injection is one countdown: fail_countdown < 0 is off; 0 means
 * "fail the next allocation" (then off again). The countdown is decremented
 * with a compare-and-swap so that two threads never both take the failure. */
#include <malloc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "alloc.h"

static atomic_long alloc_count;
static atomic_long alloc_live;
static atomic_long alloc_live_bytes;   /* usable sizes of the live blocks */
static atomic_long alloc_failures;
static atomic_long fail_countdown = -1;

/* Called at every injected failure: a debugger's breakpoint (`break
 * tc_alloc_injected`) shows which allocation of a walk step failed. */
__attribute__((noinline)) void tc_alloc_injected(void);
__attribute__((noinline)) void tc_alloc_injected(void)
{
    __asm__ volatile("");
}

/* 1 when this allocation is the one to fail. */
static int inject_failure(void)
{
    long n = atomic_load_explicit(&fail_countdown, memory_order_relaxed);
    while (n >= 0) {
        if (atomic_compare_exchange_weak_explicit(&fail_countdown, &n, n - 1,
                                                  memory_order_relaxed, memory_order_relaxed)) {
            if (n == 0) {
                atomic_fetch_add_explicit(&alloc_failures, 1, memory_order_relaxed);
                tc_alloc_injected();
                return 1;
            }
            return 0;
        }
    }
    return 0;
}

static void *counted(void *p)
{
    if (p) {
        atomic_fetch_add_explicit(&alloc_count, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&alloc_live, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&alloc_live_bytes, (long)malloc_usable_size(p),
                                  memory_order_relaxed);
    }
    return p;
}

void *tc_malloc(size_t n)
{
    if (inject_failure())
        return NULL;
    return counted(malloc(n ? n : 1));
}

void *tc_calloc(size_t n, size_t size)
{
    if (inject_failure())
        return NULL;
    return counted(calloc(n ? n : 1, size ? size : 1));
}

/* realloc(p, n): a moved or grown block is still one block; NULL p is a new
 * one. n == 0 keeps a minimal block rather than freeing (realloc(p, 0) is
 * implementation-defined). */
void *tc_realloc(void *p, size_t n)
{
    if (inject_failure())
        return NULL;
    long before = p ? (long)malloc_usable_size(p) : 0;
    void *q = realloc(p, n ? n : 1);
    if (!q)
        return NULL;
    if (!p)
        return counted(q);
    atomic_fetch_add_explicit(&alloc_count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&alloc_live_bytes, (long)malloc_usable_size(q) - before,
                              memory_order_relaxed);
    return q;
}

void tc_free(void *p)
{
    if (!p)
        return;
    atomic_fetch_sub_explicit(&alloc_live, 1, memory_order_relaxed);
    atomic_fetch_sub_explicit(&alloc_live_bytes, (long)malloc_usable_size(p),
                              memory_order_relaxed);
    free(p);
}

char *tc_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = tc_malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

char *tc_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *d = tc_malloc(len + 1);
    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

void tc_alloc_fail_after(long n)
{
    atomic_store_explicit(&fail_countdown, n < 0 ? -1 : n, memory_order_relaxed);
}

long tc_alloc_count(void)
{
    return atomic_load_explicit(&alloc_count, memory_order_relaxed);
}

long tc_alloc_live(void)
{
    return atomic_load_explicit(&alloc_live, memory_order_relaxed);
}

long tc_alloc_live_bytes(void)
{
    return atomic_load_explicit(&alloc_live_bytes, memory_order_relaxed);
}

long tc_alloc_failures(void)
{
    return atomic_load_explicit(&alloc_failures, memory_order_relaxed);
}

/* jansson's values go through the same hook, from before main() (the C tests)
 * or the extension's dlopen (tunec._tunec), so no json_t is ever allocated by
 * one allocator and freed by another. */
__attribute__((constructor)) static void route_jansson(void)
{
    json_set_alloc_funcs(tc_malloc, tc_free);
}
