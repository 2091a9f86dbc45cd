/* fuzz_table_csv.c — a trial's progress.csv read into a table
 * (result_table.c): quoting, repeated and odd header names (NUL bytes
 * included: they once made the header loop forever), short and long rows. */
#include "fuzz_common.h"

static void check_table(const tc_trial_table *t)
{
    for (size_t c = 0; c < t->n_cols; c++) {
        FUZZ_ASSERT(t->cols[c].name != NULL);
        tc_column_type(&t->cols[c], t->n_rows);
        for (size_t r = 0; r < t->n_rows; r++)
            json_decref(tc_column_cell_json(t, &t->cols[c], r));
        FUZZ_ASSERT(tc_trial_table_find(t, t->cols[c].name) != NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tc_trial_table t;
    tc_trial_table_init(&t);
    tc_error err;
    tc_error_init(&err);
    if (tc_table_from_csv(&t, (const char *)data, size, &err) < 0)
        FUZZ_ERROR_SET(&err);
    else
        check_table(&t);
    tc_trial_table_clear(&t);
    return 0;
}
