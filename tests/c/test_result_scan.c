/* test_result_scan.c — the one-pass result scanner: flattened keys, value
 * spans, numbers (NaN/Infinity), strings with escapes, lists, the skipped
 * key's span, done, malformed input, and Python str() of each kind. */
#include <string.h>
#include "tc_test.h"
#include "tunec.h"

static tc_scan scan;

static int scan_text(const char *text, const char *skip)
{
    tc_error err;
    tc_error_init(&err);
    return tc_scan_result(&scan, text, strlen(text), skip, &err);
}

static const char *key(size_t i)
{
    static char buf[256];
    const tc_field *f = &scan.fields[i];
    snprintf(buf, sizeof buf, "%.*s", (int)f->key_len, tc_scan_key(&scan, f));
    return buf;
}

static const char *val(size_t i)
{
    static char buf[256];
    const tc_field *f = &scan.fields[i];
    snprintf(buf, sizeof buf, "%.*s", (int)f->val_len, scan.text + f->val_off);
    return buf;
}

static const char *pystr(size_t i)
{
    static tc_buf b;
    tc_error err;
    tc_error_init(&err);
    tc_buf_clear(&b);
    tc_buf_puts(&b, "");
    CHECK_INT(tc_field_py_str(&scan, &scan.fields[i], &b, &err), 0);
    return b.data;
}

static void test_flatten_and_spans(void)
{
    const char *text = "{\"a\": 1, \"b\": {\"c\": 2.5, \"d\": {\"e\": \"x\"}}, \"config\": {\"lr\": 1}, "
                       "\"l\": [1, {\"z\": 2}], \"done\": false, \"empty\": {}, \"n\": null}";
    CHECK_INT(scan_text(text, "config"), 0);
    CHECK_INT(scan.n, 6);
    static const struct { const char *key, *val, *py; int type; } rows[] = {
        {"a", "1", "1", TC_F_NUMBER},
        {"b/c", "2.5", "2.5", TC_F_NUMBER},
        {"b/d/e", "\"x\"", "x", TC_F_STRING},
        {"l", "[1, {\"z\": 2}]", "[1, {'z': 2}]", TC_F_LIST},
        {"done", "false", "False", TC_F_FALSE},
        {"n", "null", "", TC_F_NULL},
    };
    for (size_t i = 0; i < 6; i++) {
        CHECK_STR(key(i), rows[i].key);
        CHECK_STR(val(i), rows[i].val);
        CHECK_STR(pystr(i), rows[i].py);
        CHECK_INT(scan.fields[i].type, rows[i].type);
    }
    CHECK_INT(scan.done_index, 4);
    CHECK(scan.skip_off > 0);
    CHECK(strncmp(text + scan.skip_off, "{\"lr\": 1}", (size_t)scan.skip_len) == 0);
    CHECK_INT(scan.skip_len, 9);
    CHECK_INT(tc_scan_find(&scan, "b/d/e", 5), 2);
    CHECK_INT(tc_scan_find(&scan, "b", 1), -1);
    CHECK_INT(tc_scan_find(&scan, "config", 6), -1);
}

/* Ray's flatten_dict puts the delimiter after every parent key, an empty
 * one too: {"": {"": 1}} is "/" and {"a": {"": 2}} is "a/". */
static void test_empty_keys_are_joined_as_ray_joins_them(void)
{
    CHECK_INT(scan_text("{\"\": {\"\": 1, \"x\": {\"\": 3}}, \"a\": {\"\": 2}, \"\": 4}", NULL), 0);
    CHECK_INT(scan.n, 4);
    CHECK_STR(key(0), "/");
    CHECK_STR(key(1), "/x/");
    CHECK_STR(key(2), "a/");
    CHECK_STR(key(3), "");
}

static void test_numbers(void)
{
    CHECK_INT(scan_text("{\"i\": -12, \"f\": 1e-05, \"nan\": NaN, \"inf\": Infinity, "
                        "\"ninf\": -Infinity, \"big\": 12345678901234567890}", NULL), 0);
    CHECK_INT(scan.n, 6);
    CHECK(scan.fields[0].is_int && scan.fields[0].num == -12);
    CHECK(!scan.fields[1].is_int && scan.fields[1].num == 1e-05);
    CHECK(isnan(scan.fields[2].num));
    CHECK(isinf(scan.fields[3].num) && scan.fields[3].num > 0);
    CHECK(isinf(scan.fields[4].num) && scan.fields[4].num < 0);
    CHECK_STR(pystr(1), "1e-05");
    CHECK_STR(pystr(2), "nan");
    CHECK_STR(pystr(3), "inf");
    CHECK_STR(pystr(4), "-inf");
    CHECK_STR(pystr(5), "12345678901234567890");
}

/* Integers of any length (Python's json writes 10**70 as its digits): the
 * number is the nearest double, the text stays exact. */
static void test_long_integers(void)
{
    const char *text = "{\"big\": 9223372036854775808, \"neg\": -9223372036854775809, \"huge\": "
                       "-10000000000000000000000000000000000000000000000000000000000000000000000}";
    CHECK_INT(scan_text(text, NULL), 0);
    CHECK_INT(scan.n, 3);
    CHECK(scan.fields[0].is_int && scan.fields[0].num == 9223372036854775808.0);
    CHECK(scan.fields[1].is_int && scan.fields[1].num == -9223372036854775808.0);
    CHECK(scan.fields[2].is_int && scan.fields[2].num == -1e70);
    CHECK_STR(pystr(0), "9223372036854775808");
    CHECK_STR(pystr(2), "-10000000000000000000000000000000000000000000000000000000000000000000000");
    /* a long token that is not an integer is still refused */
    tc_error err;
    tc_error_init(&err);
    const char *bad = "{\"x\": 1000000000000000000000000000000000000000000000000000000000000000000x}";
    CHECK_INT(tc_scan_result(&scan, bad, strlen(bad), NULL, &err), -1);
}

static void test_strings_and_truthiness(void)
{
    CHECK_INT(scan_text("{\"k\\\"ey\": \"a\\\"b\\\\c\\u00e9\\ud83d\\ude00\\n\", \"s\": \"\", "
                        "\"t\": true, \"z\": 0, \"l0\": [], \"l1\": [0]}", NULL), 0);
    CHECK_STR(key(0), "k\"ey");
    CHECK_STR(pystr(0), "a\"b\\c\xc3\xa9\xf0\x9f\x98\x80\n");
    static const int truthy[] = {1, 0, 1, 0, 0, 1};
    for (size_t i = 0; i < 6; i++)
        CHECK_INT(tc_field_truthy(&scan, &scan.fields[i]), truthy[i]);
}

static void test_malformed(void)
{
    static const char *bad[] = {
        "", "[]", "{", "{\"a\"}", "{\"a\": }", "{\"a\": 1,}", "{\"a\": tru}", "{\"a\": \"x}",
        "{\"a\": 1} x", "{\"a\": [1, 2}", "{\"a\": 1 \"b\": 2}", "{\"a\": \"\\q\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tc_error err;
        tc_error_init(&err);
        int rc = tc_scan_result(&scan, bad[i], strlen(bad[i]), NULL, &err);
        if (rc != -1)
            fprintf(stderr, "accepted: %s\n", bad[i]);
        CHECK_INT(rc, -1);
        CHECK(err.code != TC_OK);
    }
    /* deep nesting is refused, not a stack overflow */
    char deep[700];
    size_t n = 0;
    for (int i = 0; i < 100; i++) { memcpy(deep + n, "{\"a\":", 5); n += 5; }
    deep[n++] = '1';
    for (int i = 0; i < 100; i++) deep[n++] = '}';
    deep[n] = '\0';
    tc_error err;
    tc_error_init(&err);
    CHECK_INT(tc_scan_result(&scan, deep, n, NULL, &err), -1);
}

int main(void)
{
    tc_scan_init(&scan);
    test_flatten_and_spans();
    test_empty_keys_are_joined_as_ray_joins_them();
    test_numbers();
    test_long_integers();
    test_strings_and_truthiness();
    test_malformed();
    tc_scan_free(&scan);
    TEST_MAIN_END();
}
