/* test_state_logdirs.c — the logdirs of an experiment_state text: 0.8 entries
 * (objects) and 1.x entries (JSON strings of objects), escapes, a missing or
 * non-string logdir, non-object entries, repeated keys, and the texts that
 * are not JSON (refused, as json.load refuses them). */
#include <string.h>
#include "tc_test.h"
#include "tunec.h"

static int read_state(const char *text, tc_state_logdirs *out)
{
    tc_error err;
    tc_error_init(&err);
    return tc_state_logdirs_read(out, text, strlen(text), &err);
}

static void test_entries(void)
{
    tc_state_logdirs out;
    const char *text =
        "{\"runner_data\": {\"logdir\": \"no\"}, \"checkpoints\": ["
        "{\"config\": {\"logdir\": \"nested\"}, \"logdir\": \"/a/t0\", \"x\": [1, -2.5e3, null]},"
        " \"{\\\"logdir\\\": \\\"/a/t\\\\u00e91\\\", \\\"k\\\": true}\","
        " {\"status\": \"PENDING\"}, 42, \"[1]\", {\"logdir\": 7}, {\"logdir\": \"x\", \"logdir\": \"/a/last\"}"
        "], \"stats\": {\"timestamp\": NaN, \"t\": -Infinity}}";
    CHECK_INT(read_state(text, &out), 0);
    CHECK_INT(out.found, 1);
    CHECK_INT(out.n, 5);
    if (out.n == 5) {
        CHECK_STR(out.logdirs[0], "/a/t0");
        CHECK_STR(out.logdirs[1], "/a/t\xc3\xa9" "1");
        CHECK(out.logdirs[2] == NULL);
        CHECK(out.logdirs[3] == NULL);
        CHECK_STR(out.logdirs[4], "/a/last");
    }
    tc_state_logdirs_free(&out);

    CHECK_INT(read_state("{\"stats\": {}}", &out), 0);
    CHECK_INT(out.found, 0);
    tc_state_logdirs_free(&out);
    CHECK_INT(read_state("[1, 2]", &out), 0);
    CHECK_INT(out.not_object, 1);
    CHECK_INT(out.found, 0);
    tc_state_logdirs_free(&out);
    CHECK_INT(read_state(" {\"checkpoints\": []} \n", &out), 0);
    CHECK_INT(out.found, 1);
    CHECK_INT(out.n, 0);
    tc_state_logdirs_free(&out);
}

static void test_invalid(void)
{
    static const char *const bad[] = {
        "", "{", "{\"checkpoints\": [", "{\"checkpoints\": [{\"logdir\": \"a\"}]", "{\"a\" 1}",
        "{\"a\": tru}", "{\"checkpoints\": [{\"logdir\": \"a\"}]} x", "{\"a\": \"\x01\"}",
        "{\"checkpoints\": [\"{\\\"logdir\\\": \\\"a\\\"} junk\"]}", "{\"a\": [1 2]}",
        "{\"checkpoints\": [{\"logdir\": \"bad \\q escape\"}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        tc_state_logdirs out;
        tc_error err;
        tc_error_init(&err);
        CHECK_INT(tc_state_logdirs_read(&out, bad[i], strlen(bad[i]), &err), -1);
        CHECK_INT(err.code, TC_ERR_VALUE);
        CHECK_INT(out.n, 0);
    }
}

int main(void)
{
    test_entries();
    test_invalid();
    TEST_MAIN_END();
}
