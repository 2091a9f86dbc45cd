/* fuzz_scan.c — the one-pass result scanner (result_scan.c), the driver's
 * reader of every RESULT frame's payload. Every field's key and value span
 * lie inside the text; every field can be turned into Python's str(). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tc_scan s;
    tc_scan_init(&s);
    tc_error err;
    tc_error_init(&err);
    const char *skip = size && (data[0] & 1) ? "config" : NULL;
    if (tc_scan_result(&s, (const char *)data, size, skip, &err) < 0) {
        FUZZ_ERROR_SET(&err);
    } else {
        tc_buf out;
        tc_buf_init(&out);
        for (size_t i = 0; i < s.n; i++) {
            const tc_field *f = &s.fields[i];
            FUZZ_ASSERT(f->val_off + f->val_len <= size);
            FUZZ_ASSERT(f->key_off + f->key_len <= s.keys_store.len);
            tc_scan_find(&s, tc_scan_key(&s, f), f->key_len);
            tc_field_truthy(&s, f);
            tc_error e2;
            tc_error_init(&e2);
            tc_buf_clear(&out);
            if (tc_field_py_str(&s, f, &out, &e2) < 0)
                FUZZ_ERROR_SET(&e2);
        }
        tc_buf_free(&out);
        if (s.skip_off >= 0)
            FUZZ_ASSERT((size_t)(s.skip_off + s.skip_len) <= size);
        FUZZ_ASSERT(s.done_index < (long)s.n);
    }
    tc_scan_free(&s);
    return 0;
}
