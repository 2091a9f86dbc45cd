/* fuzz_space.c — the search-space description (space.c): the JSON spec the
 * host encodes from a config (grid_search, domains, sample_from markers,
 * points_to_evaluate, shuffle). A bad spec is an error naming its path; a
 * good one yields variants until exhausted or a cap. The first byte picks
 * num_samples and the seed; the rest is the spec's JSON text. */
#include "fuzz_common.h"

enum { MAX_VARIANTS = 64 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    long num_samples = (long)(data[0] % 5) - 1;   /* -1 (unbounded) .. 3 */
    uint64_t seed = data[0];
    json_t *spec = fuzz_json(data + 1, size - 1);
    if (!spec)
        return 0;
    tc_error err;
    tc_error_init(&err);
    tc_space *s = tc_space_new(spec, num_samples, seed, &err);
    if (!s) {
        FUZZ_ERROR_SET(&err);
    } else {
        tc_variant v;
        int r = 1;
        for (int i = 0; i < MAX_VARIANTS && (r = tc_space_next(s, NULL, NULL, &v, &err)) == 1; i++) {
            FUZZ_ASSERT(v.config != NULL && v.tag != NULL);
            tc_variant_clear(&v);
        }
        if (r < 0)
            FUZZ_ERROR_SET(&err);
        tc_space_free(s);
    }
    json_decref(spec);
    return 0;
}
