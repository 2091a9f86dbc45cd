/* fuzz_json.c — result.json lines (jsonx_load.c), differentially.
 *
 * tc_json_loads (the fast parser, falling back to the jansson path) must
 * agree with tc_json_loads_jansson on every input: both succeed with equal
 * values or both fail. And where jansson's own json_loadb accepts the text
 * (JSON_DECODE_ANY | JSON_ALLOW_NUL, what the engine promises to match),
 * tc_json_loads must accept it and build an equal value — the bare NaN /
 * Infinity tokens are the only extension, and jansson refuses those. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    tc_error e1, e2;
    tc_error_init(&e1);
    tc_error_init(&e2);
    json_t *fast = tc_json_loads(text, size, &e1);
    json_t *slow = tc_json_loads_jansson(text, size, &e2);
    json_error_t jerr;
    json_t *ref = json_loadb(text, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);

    if (!fast)
        FUZZ_ERROR_SET(&e1);
    if (!slow)
        FUZZ_ERROR_SET(&e2);
    FUZZ_ASSERT((fast == NULL) == (slow == NULL));
    if (fast && slow)
        FUZZ_ASSERT(json_equal(fast, slow));
    if (ref) {
        FUZZ_ASSERT(fast != NULL);
        FUZZ_ASSERT(json_equal(fast, ref));
    }
    json_decref(fast);
    json_decref(slow);
    json_decref(ref);
    return 0;
}
