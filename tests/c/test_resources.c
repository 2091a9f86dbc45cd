/* test_resources.c — resources_per_trial parsing (spec §1.1), capacity
 * accounting with fractional and whole GPUs, custom and extra_* resources
 * (spec §18.18), and Ray's texts: the insufficient-resources error (§1.3)
 * and the status line (§12). */
#include <stdlib.h>
#include "tc_test.h"
#include "tunec.h"

/* {request JSON, cpu, gpu, extra_cpu, extra_gpu, customs as "name=amount,"
 * or error code + text} */
static const struct {
    const char *json;
    double cpu, gpu, extra_cpu, extra_gpu;
    const char *custom;
    int code;
    const char *text;
} parse_cases[] = {
    {"null", 1, 0, 0, 0, "", 0, NULL},
    {"{}", 1, 0, 0, 0, "", 0, NULL},                       /* cpu defaults to 1 */
    {"{\"gpu\": 1}", 1, 1, 0, 0, "", 0, NULL},
    {"{\"cpu\": 0}", 0, 0, 0, 0, "", 0, NULL},
    {"{\"cpu\": 2, \"gpu\": 0.5, \"extra_cpu\": 1, \"extra_gpu\": 1, \"memory\": 1000000000, "
     "\"object_store_memory\": 5, \"extra_memory\": 1, \"extra_object_store_memory\": 2, "
     "\"custom_resources\": {\"tpu\": 2}, \"extra_custom_resources\": {\"tpu\": 1, \"foo\": 0.5}}",
     2, 0.5, 1, 1, "tpu=3,foo=0.5,", 0, NULL},
    {"{\"gpu\": 2.0}", 1, 2, 0, 0, "", 0, NULL},
    {"{\"cpu\": true}", 1, 0, 0, 0, "", 0, NULL},
    {"{\"custom_resources\": null}", 1, 0, 0, 0, "", 0, NULL},
    {"{\"cpus\": 1}", 0, 0, 0, 0, NULL, TC_ERR_TUNE,
     "trial: Unknown resource field cpus, must be one of ('cpu', 'gpu', 'memory', "
     "'object_store_memory', 'extra_cpu', 'extra_gpu', 'extra_memory', "
     "'extra_object_store_memory', 'custom_resources', 'extra_custom_resources')"},
    {"{\"driver_cpu_limit\": 1}", 0, 0, 0, 0, NULL, TC_ERR_TUNE,
     "trial: The field `driver_cpu_limit` is no longer supported. Use `extra_cpu` or `extra_gpu` "
     "instead."},
    {"{\"cpu\": -1}", 0, 0, 0, 0, NULL, TC_ERR_TUNE, "trial: resource cpu must be >= 0, got -1"},
    {"{\"cpu\": \"1\"}", 0, 0, 0, 0, NULL, TC_ERR_TUNE, "trial: resource cpu must be a number, got '1'"},
    {"{\"extra_gpu\": NaN}", 0, 0, 0, 0, NULL, TC_ERR_TUNE, "resource extra_gpu must be a number, got nan"},
    {"{\"gpu\": 1.5}", 0, 0, 0, 0, NULL, TC_ERR_TUNE, "Resource quantities >1 must be whole numbers."},
    {"{\"custom_resources\": [1]}", 0, 0, 0, 0, NULL, TC_ERR_TUNE,
     "trial: custom_resources must be a dict"},
    {"{\"custom_resources\": {\"tpu\": -2}}", 0, 0, 0, 0, NULL, TC_ERR_TUNE,
     "resource custom_resources[\"tpu\"] must be >= 0"},
    {"{\"extra_custom_resources\": {\"GPU\": 1}}", 0, 0, 0, 0, NULL, TC_ERR_TUNE,
     "instead of \"CPU\" and \"GPU\" in extra_custom_resources"},
    {"{\"custom_resources\": {\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\": 1}}",
     0, 0, 0, 0, NULL, TC_ERR_TUNE, "is longer than 63 bytes"},
    {"{\"custom_resources\": {\"r0\": 1, \"r1\": 1, \"r2\": 1, \"r3\": 1, \"r4\": 1, \"r5\": 1, "
     "\"r6\": 1, \"r7\": 1, \"r8\": 1, \"r9\": 1, \"r10\": 1, \"r11\": 1, \"r12\": 1, \"r13\": 1, "
     "\"r14\": 1, \"r15\": 1, \"r16\": 1}}",
     0, 0, 0, 0, NULL, TC_ERR_TUNE, "more than 16 custom resources"},
    {"[1]", 0, 0, 0, 0, NULL, TC_ERR_TUNE, "trial: expected a dict of resources"},
};

/* A capacity scenario: a sequence of steps on one capacity. */
enum { ACQ, REL, NOFIT, DEBUG };
typedef struct step {
    int op;             /* ACQ: must fit, then acquire; REL: release slot; NOFIT; DEBUG */
    int slot;           /* which held request (ACQ/REL) */
    const char *req;    /* request JSON (ACQ/NOFIT) */
    const char *text;   /* ACQ: the GPU ids "0,1" ; DEBUG: the whole status line */
} step;

typedef struct scenario {
    const char *name;
    double cpus;
    int gpus;
    const char *custom;
    step steps[24];
} scenario;

static const scenario scenarios[] = {
    {"fractions pack by best fit", 8, 2, NULL, {
        {ACQ, 0, "{\"gpu\": 0.5}", "0"},             /* tie: lowest id */
        {ACQ, 1, "{\"gpu\": 0.25}", "0"},            /* least free that fits: device 0 */
        {ACQ, 2, "{\"gpu\": 0.5}", "1"},             /* 0.25 left on 0: too little */
        {ACQ, 3, "{\"gpu\": 0.25}", "0"},            /* fills device 0 exactly */
        {NOFIT, 0, "{\"gpu\": 1}", NULL},            /* no whole device free */
        {DEBUG, 0, NULL, "Resources requested: 4/8 CPUs, 1.5/2 GPUs, 0.0/0.0 GiB heap, 0.0/0.0 GiB objects"},
        {REL, 2, NULL, NULL},
        {ACQ, 4, "{\"gpu\": 1}", "1"},
        {REL, 0, NULL, NULL}, {REL, 1, NULL, NULL}, {REL, 3, NULL, NULL}, {REL, 4, NULL, NULL},
        {DEBUG, 0, NULL, "Resources requested: 0/8 CPUs, 0/2 GPUs, 0.0/0.0 GiB heap, 0.0/0.0 GiB objects"},
    }},
    {"fragmentation: the total fits, no device does", 8, 2, NULL, {
        {ACQ, 0, "{\"gpu\": 0.6}", "0"},
        {ACQ, 1, "{\"gpu\": 0.6}", "1"},
        {NOFIT, 0, "{\"gpu\": 0.6}", NULL},          /* 1.8 <= 2, but 0.4 free per device */
        {ACQ, 2, "{\"gpu\": 0.4}", "0"},
        {ACQ, 3, "{\"gpu\": 0.4}", "1"},
        {REL, 0, NULL, NULL},
        {NOFIT, 0, "{\"gpu\": 1}", NULL},
        {REL, 2, NULL, NULL},
        {ACQ, 4, "{\"gpu\": 1}", "0"},
        {DEBUG, 0, NULL, "Resources requested: 3/8 CPUs, 2/2 GPUs, 0.0/0.0 GiB heap, 0.0/0.0 GiB objects"},
    }},
    {"whole GPUs take whole free devices", 16, 4, NULL, {
        {ACQ, 0, "{\"gpu\": 2}", "0,1"},
        {ACQ, 1, "{\"gpu\": 0.5}", "2"},
        {NOFIT, 0, "{\"gpu\": 2}", NULL},            /* only device 3 is whole */
        {ACQ, 2, "{\"gpu\": 1}", "3"},
        {REL, 0, NULL, NULL},
        {ACQ, 3, "{\"gpu\": 2}", "0,1"},
        {ACQ, 4, "{\"gpu\": 0.5}", "2"},
        {NOFIT, 0, "{\"gpu\": 0.01}", NULL},
        {DEBUG, 0, NULL, "Resources requested: 4/16 CPUs, 4/4 GPUs, 0.0/0.0 GiB heap, 0.0/0.0 GiB objects"},
    }},
    {"extra_gpu is counted, not placed", 4, 2, NULL, {
        {ACQ, 0, "{\"gpu\": 1, \"extra_gpu\": 1}", "0"},
        {NOFIT, 0, "{\"gpu\": 0.5}", NULL},          /* device 1 is free, the total is not */
        {NOFIT, 0, "{\"cpu\": 1, \"extra_gpu\": 0.5}", NULL},
        {DEBUG, 0, NULL, "Resources requested: 1/4 CPUs, 2/2 GPUs, 0.0/0.0 GiB heap, 0.0/0.0 GiB objects"},
        {REL, 0, NULL, NULL},
        {ACQ, 1, "{\"cpu\": 1, \"extra_gpu\": 2}", ""},
        {DEBUG, 0, NULL, "Resources requested: 1/4 CPUs, 2/2 GPUs, 0.0/0.0 GiB heap, 0.0/0.0 GiB objects"},
    }},
    {"extra_cpu", 4, 0, NULL, {
        {ACQ, 0, "{\"cpu\": 1, \"extra_cpu\": 2}", ""},
        {NOFIT, 0, "{\"cpu\": 2}", NULL},
        {ACQ, 1, "{\"cpu\": 0.5, \"extra_cpu\": 0.5}", ""},
        {DEBUG, 0, NULL, "Resources requested: 4/4 CPUs, 0/0 GPUs, 0.0/0.0 GiB heap, 0.0/0.0 GiB objects"},
        {NOFIT, 0, "{\"cpu\": 0.0001}", NULL},
        {ACQ, 2, "{\"cpu\": 0}", ""},
        {REL, 1, NULL, NULL},
        {DEBUG, 0, NULL, "Resources requested: 3/4 CPUs, 0/0 GPUs, 0.0/0.0 GiB heap, 0.0/0.0 GiB objects"},
    }},
    {"custom resources", 4, 0, "{\"tpu\": 2, \"ssd\": 1}", {
        {ACQ, 0, "{\"custom_resources\": {\"tpu\": 1}}", ""},
        {NOFIT, 0, "{\"custom_resources\": {\"tpu\": 2}}", NULL},
        {ACQ, 1, "{\"custom_resources\": {\"tpu\": 0.5}, \"extra_custom_resources\": {\"tpu\": 0.5}}", ""},
        {DEBUG, 0, NULL, "Resources requested: 2/4 CPUs, 0/0 GPUs, 0.0/0.0 GiB heap, 0.0/0.0 GiB objects (2/2 tpu, 0/1 ssd)"},
        {NOFIT, 0, "{\"custom_resources\": {\"foo\": 1}}", NULL},  /* unknown to the cluster */
        {ACQ, 2, "{\"custom_resources\": {\"foo\": 0, \"ssd\": 1}}", ""},
        {REL, 0, NULL, NULL},
        {DEBUG, 0, NULL, "Resources requested: 2/4 CPUs, 0/0 GPUs, 0.0/0.0 GiB heap, 0.0/0.0 GiB objects (1/2 tpu, 1/1 ssd)"},
    }},
    {"fractional CPUs in the status line", 2.5, 1, NULL, {
        {DEBUG, 0, NULL, "Resources requested: 0/2.5 CPUs, 0/1 GPUs, 0.0/0.0 GiB heap, 0.0/0.0 GiB objects"},
        {ACQ, 0, "{\"cpu\": 0.5, \"gpu\": 0.5}", "0"},
        {ACQ, 1, "{\"cpu\": 0.25, \"gpu\": 0.1}", "0"},
        {DEBUG, 0, NULL, "Resources requested: 0.75/2.5 CPUs, 0.6/1 GPUs, 0.0/0.0 GiB heap, 0.0/0.0 GiB objects"},
    }},
};

/* {capacity cpus, gpus, custom, request, error text or NULL when it can fit} */
static const struct {
    double cpus;
    int gpus;
    const char *custom, *req, *text;
} ever_fit_cases[] = {
    {2, 0, NULL, "{\"cpu\": 2}", NULL},
    {2, 0, NULL, "{\"cpu\": 4}",
     "Insufficient cluster resources to launch trial: trial requested 4 CPUs, 0 GPUs but the "
     "cluster has only 2 CPUs, 0 GPUs. Pass `queue_trials=True` in ray.tune.run() or on the "
     "command line to queue trials until the cluster scales up or resources become available."},
    {2, 0, NULL, "{\"cpu\": 1, \"extra_cpu\": 2}",
     "trial requested 3 CPUs, 0 GPUs but the cluster has only 2 CPUs, 0 GPUs."},
    {2, 0, NULL, "{\"gpu\": 0.5}", "trial requested 1 CPUs, 0.5 GPUs but the cluster has only 2 CPUs, 0 GPUs."},
    {2, 1, NULL, "{\"gpu\": 0.5, \"extra_gpu\": 1}",
     "trial requested 1 CPUs, 1.5 GPUs but the cluster has only 2 CPUs, 1 GPUs."},
    {2, 2, NULL, "{\"gpu\": 2}", NULL},
    {2, 2, NULL, "{\"gpu\": 1, \"extra_gpu\": 1}", NULL},
    {1.5, 0, NULL, "{\"cpu\": 1.5}", NULL},
    {1.5, 0, NULL, "{\"cpu\": 1.6}", "trial requested 1.6 CPUs, 0 GPUs but the cluster has only 1.5 CPUs, 0 GPUs."},
    {4, 0, "{\"tpu\": 2, \"ssd\": 1}", "{\"custom_resources\": {\"tpu\": 2}}", NULL},
    {4, 0, "{\"tpu\": 2, \"ssd\": 1}", "{\"custom_resources\": {\"foo\": 1}}",
     "trial requested 1 CPUs, 0 GPUs (1 foo) but the cluster has only 4 CPUs, 0 GPUs (2 tpu, 1 ssd)."},
    {4, 0, "{\"tpu\": 2}", "{\"custom_resources\": {\"tpu\": 2}, \"extra_custom_resources\": {\"tpu\": 0.5}}",
     "trial requested 1 CPUs, 0 GPUs (2.5 tpu) but the cluster has only 4 CPUs, 0 GPUs (2 tpu)."},
    {4, 0, NULL, "{\"custom_resources\": {\"foo\": 0}}", NULL},
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

static int parse(const char *text, tc_resources *r, tc_error *err)
{
    json_t *v = load(text);
    int rc = tc_resources_parse(v, r, "trial", err);
    json_decref(v);
    return rc;
}

static void test_parse(void)
{
    for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
        tc_resources r;
        tc_error err;
        tc_error_init(&err);
        int rc = parse(parse_cases[i].json, &r, &err);
        if (parse_cases[i].code) {
            CHECK_INT(rc, -1);
            CHECK_INT(err.code, parse_cases[i].code);
            if (!strstr(err.text, parse_cases[i].text)) {
                CHECK(0);
                fprintf(stderr, "  case %zu: got \"%s\"\n", i, err.text);
            }
            continue;
        }
        CHECK_INT(rc, 0);
        if (rc)
            fprintf(stderr, "  case %zu: %s\n", i, err.text);
        CHECK_NEAR(r.cpu, parse_cases[i].cpu, 0);
        CHECK_NEAR(r.gpu, parse_cases[i].gpu, 0);
        CHECK_NEAR(r.extra_cpu, parse_cases[i].extra_cpu, 0);
        CHECK_NEAR(r.extra_gpu, parse_cases[i].extra_gpu, 0);
        char custom[256] = "";
        for (int k = 0; k < r.ncustom; k++)
            snprintf(custom + strlen(custom), sizeof custom - strlen(custom), "%s=%g,",
                     r.custom[k].name, r.custom[k].amount);
        CHECK_STR(custom, parse_cases[i].custom);
    }
    /* NULL where: a default label */
    tc_resources r;
    tc_error err;
    tc_error_init(&err);
    json_t *v = load("{\"bad\": 1}");
    CHECK_INT(tc_resources_parse(v, &r, NULL, &err), -1);
    CHECK(strncmp(err.text, "resources_per_trial: Unknown resource field bad", 47) == 0);
    json_decref(v);
}

static void test_scenarios(void)
{
    for (size_t s = 0; s < sizeof scenarios / sizeof scenarios[0]; s++) {
        const scenario *sc = &scenarios[s];
        tc_capacity cap;
        json_t *custom = sc->custom ? load(sc->custom) : NULL;
        tc_resources held[8];
        int ids[8][TC_MAX_GPUS], nids[8];
        tc_capacity_init(&cap, sc->cpus, sc->gpus, custom);
        json_decref(custom);
        for (int k = 0; k < 24 && (sc->steps[k].req || sc->steps[k].text || sc->steps[k].op == REL); k++) {
            const step *st = &sc->steps[k];
            tc_error err;
            tc_error_init(&err);
            tc_resources r;
            tc_buf b;
            tc_buf_init(&b);
            switch (st->op) {
            case ACQ:
                CHECK_INT(parse(st->req, &r, &err), 0);
                if (!tc_capacity_fits(&cap, &r)) {
                    CHECK(0);
                    fprintf(stderr, "  %s, step %d: %s does not fit\n", sc->name, k, st->req);
                    break;
                }
                CHECK_INT(tc_capacity_can_ever_fit(&cap, &r, &err), 1);
                held[st->slot] = r;
                tc_capacity_acquire(&cap, &r, ids[st->slot], &nids[st->slot]);
                for (int g = 0; g < nids[st->slot]; g++)
                    tc_buf_printf(&b, "%s%d", g ? "," : "", ids[st->slot][g]);
                if (strcmp(b.data ? b.data : "", st->text) != 0)
                    fprintf(stderr, "  %s, step %d:\n", sc->name, k);
                CHECK_STR(b.data ? b.data : "", st->text);
                break;
            case REL:
                tc_capacity_release(&cap, &held[st->slot], ids[st->slot], nids[st->slot]);
                break;
            case NOFIT:
                CHECK_INT(parse(st->req, &r, &err), 0);
                if (tc_capacity_fits(&cap, &r)) {
                    CHECK(0);
                    fprintf(stderr, "  %s, step %d: %s fits\n", sc->name, k, st->req);
                }
                break;
            case DEBUG:
                CHECK_INT(tc_capacity_debug_string(&cap, &b), 0);
                CHECK_STR(b.data, st->text);
                break;
            }
            tc_buf_free(&b);
        }
    }
}

static void test_tenths_fill_exactly(void)
{
    tc_capacity cap;
    tc_resources r;
    tc_error err;
    int ids[10][TC_MAX_GPUS], n[10], extra_ids[TC_MAX_GPUS], extra_n;
    tc_error_init(&err);
    tc_capacity_init(&cap, 100, 1, NULL);
    CHECK_INT(parse("{\"cpu\": 0.1, \"gpu\": 0.1}", &r, &err), 0);
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 10; i++) {
            CHECK(tc_capacity_fits(&cap, &r));
            tc_capacity_acquire(&cap, &r, ids[i], &n[i]);
            CHECK(n[i] == 1 && ids[i][0] == 0);
        }
        CHECK(!tc_capacity_fits(&cap, &r));
        CHECK(cap.gpu_free[0] == 0.0);
        for (int i = 0; i < 10; i++)
            tc_capacity_release(&cap, &r, ids[i], n[i]);
        CHECK(cap.gpu_free[0] == 1.0 && cap.used.gpu == 0.0 && cap.used.cpu == 0.0);
    }
    /* thirds: three fit, rounding to 1e-4 units keeps them within the device */
    CHECK_INT(parse("{\"gpu\": 0.3333333333333333}", &r, &err), 0);
    for (int i = 0; i < 3; i++) {
        CHECK(tc_capacity_fits(&cap, &r));
        tc_capacity_acquire(&cap, &r, ids[i], &n[i]);
    }
    CHECK(!tc_capacity_fits(&cap, &r));
    for (int i = 0; i < 3; i++)
        tc_capacity_release(&cap, &r, ids[i], n[i]);
    CHECK(cap.gpu_free[0] == 1.0);
    /* acquiring what does not fit (a caller bug) counts it but gives no device */
    CHECK_INT(parse("{\"gpu\": 0.5}", &r, &err), 0);
    tc_capacity_init(&cap, 1, 0, NULL);
    tc_capacity_acquire(&cap, &r, extra_ids, &extra_n);
    CHECK_INT(extra_n, 0);
}

static void test_capacity_init(void)
{
    tc_capacity cap;
    json_t *custom = load("{\"ok\": 2, \"neg\": -1, \"str\": \"x\", \"nan\": NaN}");
    tc_capacity_init(&cap, -3, 100, custom);
    json_decref(custom);
    CHECK_NEAR(cap.total.cpu, 0, 0);
    CHECK_INT(cap.ngpus, TC_MAX_GPUS);
    CHECK_INT(cap.total.ncustom, 1);
    CHECK_STR(cap.total.custom[0].name, "ok");
    tc_capacity_init(&cap, 1, -1, NULL);
    CHECK_INT(cap.ngpus, 0);
}

static void test_can_ever_fit(void)
{
    for (size_t i = 0; i < sizeof ever_fit_cases / sizeof ever_fit_cases[0]; i++) {
        tc_capacity cap;
        tc_resources r;
        tc_error err;
        tc_error_init(&err);
        json_t *custom = ever_fit_cases[i].custom ? load(ever_fit_cases[i].custom) : NULL;
        tc_capacity_init(&cap, ever_fit_cases[i].cpus, ever_fit_cases[i].gpus, custom);
        json_decref(custom);
        CHECK_INT(parse(ever_fit_cases[i].req, &r, &err), 0);
        int ok = tc_capacity_can_ever_fit(&cap, &r, &err);
        if (!ever_fit_cases[i].text) {
            CHECK_INT(ok, 1);
            CHECK_INT(err.code, TC_OK);
            continue;
        }
        CHECK_INT(ok, 0);
        CHECK_INT(err.code, TC_ERR_TUNE);
        if (!strstr(err.text, ever_fit_cases[i].text)) {
            CHECK(0);
            fprintf(stderr, "  case %zu: got \"%s\"\n", i, err.text);
        }
    }
}

static void test_to_json(void)
{
    static const struct { const char *req, *json; } rows[] = {
        {"null",
         "{\"cpu\": 1, \"gpu\": 0, \"memory\": 0, \"object_store_memory\": 0, \"extra_cpu\": 0, "
         "\"extra_gpu\": 0, \"extra_memory\": 0, \"extra_object_store_memory\": 0, "
         "\"custom_resources\": {}, \"extra_custom_resources\": {}}"},
        {"{\"cpu\": 2.5, \"gpu\": 0.5, \"extra_cpu\": 1, \"custom_resources\": {\"a\": 1}, "
         "\"extra_custom_resources\": {\"a\": 0.5, \"b\": 2}}",
         "{\"cpu\": 2.5, \"gpu\": 0.5, \"memory\": 0, \"object_store_memory\": 0, \"extra_cpu\": 1, "
         "\"extra_gpu\": 0, \"extra_memory\": 0, \"extra_object_store_memory\": 0, "
         "\"custom_resources\": {\"a\": 1.5, \"b\": 2}, \"extra_custom_resources\": {}}"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        tc_resources r, back;
        tc_error err;
        tc_buf b;
        tc_error_init(&err);
        tc_buf_init(&b);
        CHECK_INT(parse(rows[i].req, &r, &err), 0);
        json_t *j = tc_resources_to_json(&r);
        CHECK(j != NULL);
        tc_json_dump(j, &b, TC_DUMP_COMPACT);
        CHECK_STR(b.data, rows[i].json);
        /* it reads back to the same request */
        CHECK_INT(tc_resources_parse(j, &back, "state", &err), 0);
        CHECK(back.cpu == r.cpu && back.gpu == r.gpu && back.extra_cpu == r.extra_cpu &&
              back.extra_gpu == r.extra_gpu && back.ncustom == r.ncustom);
        for (int k = 0; k < r.ncustom && k < back.ncustom; k++)
            CHECK(strcmp(back.custom[k].name, r.custom[k].name) == 0 &&
                  back.custom[k].amount == r.custom[k].amount);
        json_decref(j);
        tc_buf_free(&b);
    }
}

int main(void)
{
    test_parse();
    test_scenarios();
    test_tenths_fill_exactly();
    test_capacity_init();
    test_can_ever_fit();
    test_to_json();
    TEST_MAIN_END();
}
