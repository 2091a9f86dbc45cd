/* fuzz_common.h — what every libFuzzer target of the engine's parsers shares.
 *
 * Each tests/fuzz/fuzz_<target>.c defines LLVMFuzzerTestOneInput over one
 * parser and checks the parser's own contract (an error is set whenever -1
 * comes back; what it returns is consistent), beyond "no crash, no leak, no
 * hang" that libFuzzer, ASan and UBSan check. Targets are built by the
 * Makefile (`make test-fuzz`, `make fuzz`) with clang's
 * -fsanitize=fuzzer,address,undefined and linked against the engine sources.
 */
#ifndef TUNEC_FUZZ_COMMON_H
#define TUNEC_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "tunec.h"

/* A broken contract: print and abort, so libFuzzer saves the input. */
#define FUZZ_ASSERT(cond)                                                        \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: fuzz contract broken: %s\n", __FILE__,       \
                    __LINE__, #cond);                                            \
            abort();                                                             \
        }                                                                        \
    } while (0)

/* A -1 from an engine function must leave an error behind (first error wins,
 * so the code is only checked for being set). */
#define FUZZ_ERROR_SET(err) FUZZ_ASSERT((err)->code != TC_OK && (err)->text[0] != '\0')

/* A JSON value from the input, or NULL when the bytes are not JSON: the
 * targets whose parser takes a json_t (space, options) start here. */
static inline json_t *fuzz_json(const uint8_t *data, size_t size)
{
    tc_error err;
    tc_error_init(&err);
    json_t *v = tc_json_loads((const char *)data, size, &err);
    if (!v)
        FUZZ_ERROR_SET(&err);
    return v;
}

#endif
