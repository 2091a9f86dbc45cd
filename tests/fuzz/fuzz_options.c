/* fuzz_options.c — the options table of a tune.run (options.c): the one JSON
 * object the host sends, read against the tables before anything runs. Any
 * object is either accepted (and freed) or refused with an error naming the
 * argument; a refusal leaves nothing to free. */
#include "fuzz_common.h"
#include "options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *opts = fuzz_json(data, size);
    if (!opts)
        return 0;
    tc_run_options ro;
    tc_error err;
    tc_error_init(&err);
    if (tc_run_options_read(opts, &ro, &err) < 0) {
        FUZZ_ERROR_SET(&err);
        FUZZ_ASSERT(ro.exps == NULL);
    } else {
        tc_run_options_free(&ro);
    }
    /* the same object as one experiment's options (Run.add_experiment) */
    tc_exp_options eo;
    tc_error_init(&err);
    if (tc_experiment_options_read(opts, &eo, "tune.run", &err) < 0)
        FUZZ_ERROR_SET(&err);
    json_decref(opts);
    return 0;
}
