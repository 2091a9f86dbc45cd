/* test_stopper.c — the stop dict (spec §7.1, §18.14): Trial.should_stop of
 * Ray 0.8.5 applied to the flattened result, with Python's comparison and
 * truthiness rules and Ray's error texts. */
#include <stdlib.h>
#include "tc_test.h"
#include "tunec.h"

enum { GO = 0, STOP = 1, ERR = -1 };

/* {criteria, nested result, outcome, error code, text the error contains} */
static const struct {
    const char *criteria, *result;
    int outcome, code;
    const char *text;
} cases[] = {
    {"{}", "{\"done\": false}", GO, 0, NULL},
    {"{\"training_iteration\": 3}", "{\"training_iteration\": 2}", GO, 0, NULL},
    {"{\"training_iteration\": 3}", "{\"training_iteration\": 3}", STOP, 0, NULL},     /* >= */
    {"{\"training_iteration\": 3}", "{\"training_iteration\": 4}", STOP, 0, NULL},
    {"{\"mean_accuracy\": 0.95}", "{\"mean_accuracy\": 0.95}", STOP, 0, NULL},
    {"{\"mean_accuracy\": 0.95}", "{\"mean_accuracy\": 0.9499999}", GO, 0, NULL},
    {"{\"neg_mean_loss\": -0.5}", "{\"neg_mean_loss\": -0.25}", STOP, 0, NULL},
    {"{\"t\": 1}", "{\"t\": 1.0}", STOP, 0, NULL},                                    /* int vs float */
    {"{\"t\": 1.5}", "{\"t\": 1}", GO, 0, NULL},
    /* done wins before any criterion, even a missing one */
    {"{\"missing\": 1}", "{\"done\": true}", STOP, 0, NULL},
    {"{\"missing\": 1}", "{\"done\": 1}", STOP, 0, NULL},
    {"{\"missing\": 1}", "{\"done\": \"yes\"}", STOP, 0, NULL},
    {"{\"x\": 5}", "{\"done\": 0, \"x\": 1}", GO, 0, NULL},
    {"{\"x\": 5}", "{\"done\": \"\", \"x\": 1}", GO, 0, NULL},
    {"{\"x\": 5}", "{\"done\": [], \"x\": 1}", GO, 0, NULL},
    {"{\"x\": 5}", "{\"done\": null, \"x\": 1}", GO, 0, NULL},
    {"{\"x\": 5}", "{\"done\": 0.0, \"x\": 1}", GO, 0, NULL},
    /* "/" paths read nested results */
    {"{\"info/acc\": 0.8}", "{\"info\": {\"acc\": 0.9}}", STOP, 0, NULL},
    {"{\"info/acc\": 0.8}", "{\"info\": {\"acc\": 0.7}}", GO, 0, NULL},
    {"{\"a/b/c\": 1}", "{\"a\": {\"b\": {\"c\": 1}}}", STOP, 0, NULL},
    /* non-finite values and thresholds compare like Python floats */
    {"{\"loss\": 1}", "{\"loss\": NaN}", GO, 0, NULL},
    {"{\"loss\": 1}", "{\"loss\": Infinity}", STOP, 0, NULL},
    {"{\"loss\": 1}", "{\"loss\": -Infinity}", GO, 0, NULL},
    {"{\"loss\": NaN}", "{\"loss\": 5}", GO, 0, NULL},
    {"{\"loss\": -Infinity}", "{\"loss\": -1e308}", STOP, 0, NULL},
    /* bools are ints */
    {"{\"flag\": 1}", "{\"flag\": true}", STOP, 0, NULL},
    {"{\"flag\": true}", "{\"flag\": 0}", GO, 0, NULL},
    /* integers compare exactly (a double would call these equal) */
    {"{\"n\": 9007199254740993}", "{\"n\": 9007199254740992}", GO, 0, NULL},
    {"{\"n\": 9007199254740992}", "{\"n\": 9007199254740993}", STOP, 0, NULL},
    /* the first satisfied criterion ends the check, in dict order */
    {"{\"a\": 1, \"missing\": 1}", "{\"a\": 1}", STOP, 0, NULL},
    {"{\"missing\": 1, \"a\": 1}", "{\"a\": 1}", ERR, TC_ERR_TUNE,
     "Stopping criteria missing not provided in result {'a': 1}."},
    /* the result is shown flattened, as Ray's is */
    {"{\"acc\": 1}", "{\"b\": {\"c\": 2}, \"s\": \"x\", \"n\": null, \"f\": 0.5, \"l\": [1]}", ERR,
     TC_ERR_TUNE,
     "Stopping criteria acc not provided in result {'s': 'x', 'n': None, 'f': 0.5, 'l': [1], "
     "'b/c': 2}."},
    {"{\"info/acc\": 1}", "{\"info\": {\"loss\": 2}}", ERR, TC_ERR_TUNE,
     "Stopping criteria info/acc not provided in result {'info/loss': 2}."},
    /* a value Python cannot compare */
    {"{\"timesteps_total\": 100}", "{\"timesteps_total\": null}", ERR, TC_ERR_TYPE,
     "'>=' not supported between instances of 'NoneType' and 'int'"},
    {"{\"tag\": 1.5}", "{\"tag\": \"abc\"}", ERR, TC_ERR_TYPE,
     "'>=' not supported between instances of 'str' and 'float'"},
    {"{\"h\": 1}", "{\"h\": [1, 2]}", ERR, TC_ERR_TYPE,
     "'>=' not supported between instances of 'list' and 'int'"},
    /* bad criteria found at check time too */
    {"{\"a\": {\"b\": 1}}", "{\"a\": {\"b\": 1}}", ERR, TC_ERR_VALUE,
     "Stopping criteria is now flattened by default. Use forward slashes to nest values "
     "`key1/key2/key3`."},
    {"{\"a\": \"high\"}", "{\"a\": 1}", ERR, TC_ERR_VALUE, "stop[\"a\"] must be a number"},
};

/* {criteria, error code (0 = valid), text the error contains} */
static const struct { const char *criteria; int code; const char *text; } validate_cases[] = {
    {"{}", 0, NULL},
    {"null", 0, NULL},
    {"{\"training_iteration\": 10, \"mean_accuracy\": 0.9, \"a/b\": -1}", 0, NULL},
    {"{\"x\": true}", 0, NULL},
    {"{\"x\": NaN}", 0, NULL},
    {"{\"x\": 1, \"nested\": {\"y\": 1}}", TC_ERR_VALUE, "Use forward slashes to nest values"},
    {"{\"lr\": \"0.1\"}", TC_ERR_VALUE,
     "Invalid stop criteria: the threshold of stop[\"lr\"] must be a number, got '0.1' (str)"},
    {"{\"lr\": null}", TC_ERR_VALUE, "stop[\"lr\"] must be a number, got None (NoneType)"},
    {"{\"lr\": [1]}", TC_ERR_VALUE, "stop[\"lr\"] must be a number, got [1] (list)"},
    {"[1]", TC_ERR_VALUE, "Invalid stop criteria: expected a dict, got list"},
};

static json_t *load(const char *text)
{
    tc_error err;
    tc_error_init(&err);
    json_t *v = tc_json_loads(text, strlen(text), &err);
    if (!v)
        fprintf(stderr, "bad test JSON %s: %s\n", text, err.text);
    return v;
}

static void test_check(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *crit = load(cases[i].criteria), *res = load(cases[i].result);
        tc_error err;
        int stop = -5;
        tc_error_init(&err);
        int rc = tc_stop_check(crit, res, &stop, &err);
        if (cases[i].outcome == ERR) {
            CHECK_INT(rc, -1);
            CHECK_INT(err.code, cases[i].code);
            if (!strstr(err.text, cases[i].text)) {
                CHECK(0);
                fprintf(stderr, "  case %zu: got \"%s\"\n", i, err.text);
            }
        } else {
            CHECK_INT(rc, 0);
            CHECK_INT(stop, cases[i].outcome);
            CHECK_INT(err.code, TC_OK);
            if (rc)
                fprintf(stderr, "  case %zu: %s\n", i, err.text);
        }
        json_decref(crit);
        json_decref(res);
    }
}

static void test_validate(void)
{
    for (size_t i = 0; i < sizeof validate_cases / sizeof validate_cases[0]; i++) {
        json_t *crit = load(validate_cases[i].criteria);
        tc_error err;
        tc_error_init(&err);
        int rc = tc_stop_validate(crit, &err);
        CHECK_INT(rc, validate_cases[i].code ? -1 : 0);
        CHECK_INT(err.code, validate_cases[i].code);
        if (validate_cases[i].text && !strstr(err.text, validate_cases[i].text)) {
            CHECK(0);
            fprintf(stderr, "  case %zu: got \"%s\"\n", i, err.text);
        }
        json_decref(crit);
    }
    tc_error err;
    tc_error_init(&err);
    CHECK_INT(tc_stop_validate(NULL, &err), 0);
}

static void test_edges(void)
{
    tc_error err;
    int stop = -1;
    /* no criteria: only done stops */
    json_t *res = load("{\"done\": false, \"x\": 1}");
    tc_error_init(&err);
    CHECK_INT(tc_stop_check(NULL, res, &stop, &err), 0);
    CHECK_INT(stop, 0);
    json_decref(res);

    /* a huge result is cut in the message, which still ends the sentence */
    res = json_object();
    char key[32];
    for (int i = 0; i < 400; i++) {
        snprintf(key, sizeof key, "metric_number_%d", i);
        json_object_set_new(res, key, json_real(i + 0.5));
    }
    json_t *crit = load("{\"absent\": 1}");
    tc_error_init(&err);
    CHECK_INT(tc_stop_check(crit, res, &stop, &err), -1);
    CHECK_INT(err.code, TC_ERR_TUNE);
    size_t n = strlen(err.text);
    CHECK(n < sizeof err.text - 1);
    CHECK(n > 4 && strcmp(err.text + n - 4, "....") == 0);
    CHECK(strncmp(err.text, "Stopping criteria absent not provided in result {'metric_number_0': 0.5,",
                  72) == 0);
    json_decref(res);

    /* a result that is not a dict */
    res = json_array();
    tc_error_init(&err);
    CHECK_INT(tc_stop_check(crit, res, &stop, &err), -1);
    CHECK_INT(err.code, TC_ERR_TYPE);
    json_decref(res);
    json_decref(crit);
}

int main(void)
{
    test_check();
    test_validate();
    test_edges();
    TEST_MAIN_END();
}
