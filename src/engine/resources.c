/* resources.c — trial resource requests (spec §1.1 resources_per_trial,
 * Ray 0.8 resources.py) and the capacity they draw on (spec §18.18).
 *
 * A request counts cpu + extra_cpu CPUs, gpu + extra_gpu GPUs and each
 * custom resource (custom + extra_custom, summed) against the totals, as
 * Ray's executor commits them. memory / object_store_memory (and extras)
 * are accepted and ignored: the local executor does not meter memory.
 *
 * GPUs are also devices, because a worker is started with
 * CUDA_VISIBLE_DEVICES (DESIGN §3). Only `gpu` decides the devices a trial
 * is given: extra_gpu is reserved for what the trainable itself launches
 * (Ray 0.8 created the actor with num_gpus=gpu) and is counted, not placed.
 *   - 0 < gpu < 1 shares one device: the one with the least free fraction
 *     that still fits (best fit, so fractions pack and whole devices stay
 *     free for whole-GPU trials); ties go to the lowest id.
 *   - gpu >= 1 must be a whole number (Ray: "Resource quantities >1 must be
 *     whole numbers") and takes that many entirely free devices, lowest ids
 *     first.
 *
 * Invariants: amounts are kept in units of 1e-4 (Ray's fixed-point
 * resource unit), rounded after every addition and subtraction, so any
 * sequence of acquire/release pairs returns the capacity exactly to where
 * it was (0.1 taken ten times fills a device exactly); used <= total when
 * callers acquire only what tc_capacity_fits allowed.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "tunec.h"

#define UNIT 1e4   /* resource amounts per 1.0 */
#define EPS 1e-9

static const char *const field_names[] = {
    "cpu", "gpu", "memory", "object_store_memory", "extra_cpu", "extra_gpu", "extra_memory",
    "extra_object_store_memory", "custom_resources", "extra_custom_resources",
};
#define NFIELDS (sizeof field_names / sizeof field_names[0])

static double quantize(double x)
{
    return round(x * UNIT) / UNIT;
}

/* Python-ish text of an amount: whole numbers without ".0" (Ray's counts
 * are usually ints: "4 CPUs"), fractions as repr ("0.5"). */
static int put_amount(tc_buf *out, double v)
{
    char num[40];
    if (v == floor(v) && fabs(v) < 1e15)
        return tc_buf_printf(out, "%.0f", v);
    tc_format_double(v, num);
    return tc_buf_puts(out, num);
}

static double custom_get(const tc_resources *r, const char *name)
{
    for (int i = 0; i < r->ncustom; i++)
        if (strcmp(r->custom[i].name, name) == 0)
            return r->custom[i].amount;
    return 0.0;
}

/* Index of name in r->custom, appended with amount 0 when absent; -1 when
 * full. */
static int custom_slot(tc_resources *r, const char *name)
{
    for (int i = 0; i < r->ncustom; i++)
        if (strcmp(r->custom[i].name, name) == 0)
            return i;
    if (r->ncustom >= TC_MAX_CUSTOM)
        return -1;
    int i = r->ncustom++;
    snprintf(r->custom[i].name, sizeof r->custom[i].name, "%s", name);
    r->custom[i].amount = 0.0;
    return i;
}

/* A finite, non-negative number (bools count, as Python's Number does). */
static int parse_amount(const json_t *v, double *out, const char *where, const char *field,
                        const char *sub, tc_error *err)
{
    double d = 0.0;
    int ok;
    if (json_is_boolean(v)) {
        d = json_is_true(v) ? 1.0 : 0.0;
        ok = 1;
    } else {
        ok = tc_json_number(v, &d);
    }
    char label[160];
    if (sub)
        snprintf(label, sizeof label, "%s[\"%s\"]", field, sub);
    else
        snprintf(label, sizeof label, "%s", field);
    if (!ok || !isfinite(d)) {
        tc_buf text;
        tc_buf_init(&text);
        tc_py_repr(v, &text);
        tc_error_set(err, TC_ERR_TUNE, "%s: resource %s must be a number, got %s", where, label,
                     text.data ? text.data : "?");
        tc_buf_free(&text);
        return -1;
    }
    if (d < 0)
        return tc_error_set(err, TC_ERR_TUNE, "%s: resource %s must be >= 0, got %g", where,
                            label, d);
    *out = d;
    return 0;
}

static int parse_custom(const json_t *obj, tc_resources *r, const char *where, const char *field,
                        tc_error *err)
{
    const char *name;
    json_t *value;
    if (!obj || json_is_null(obj))
        return 0;
    if (!json_is_object(obj))
        return tc_error_set(err, TC_ERR_TUNE, "%s: %s must be a dict of resource name -> amount",
                            where, field);
    json_object_foreach((json_t *)obj, name, value) {
        double amount;
        if (parse_amount(value, &amount, where, field, name, err) < 0)
            return -1;
        if (strcmp(name, "CPU") == 0 || strcmp(name, "GPU") == 0)
            return tc_error_set(err, TC_ERR_TUNE,
                                "%s: use \"cpu\" and \"gpu\" instead of \"CPU\" and \"GPU\" in %s",
                                where, field);
        if (strlen(name) >= sizeof r->custom[0].name)
            return tc_error_set(err, TC_ERR_TUNE, "%s: %s: resource name \"%s\" is longer than %zu bytes",
                                where, field, name, sizeof r->custom[0].name - 1);
        int i = custom_slot(r, name);
        if (i < 0)
            return tc_error_set(err, TC_ERR_TUNE, "%s: more than %d custom resources", where,
                                TC_MAX_CUSTOM);
        r->custom[i].amount += amount;
    }
    return 0;
}

/* obj borrowed (NULL or null: the default request) */
int tc_resources_parse(const json_t *obj, tc_resources *r, const char *where, tc_error *err)
{
    const char *key;
    json_t *value;
    memset(r, 0, sizeof *r);
    r->cpu = 1.0;  /* json_to_resources: data.get("cpu", 1) */
    if (!where)
        where = "resources_per_trial";
    if (!obj || json_is_null(obj))
        return 0;
    if (!json_is_object(obj))
        return tc_error_set(err, TC_ERR_TUNE, "%s: expected a dict of resources", where);

    json_object_foreach((json_t *)obj, key, value) {
        if (strcmp(key, "driver_cpu_limit") == 0 || strcmp(key, "driver_gpu_limit") == 0)
            return tc_error_set(err, TC_ERR_TUNE,
                                "%s: The field `%s` is no longer supported. Use `extra_cpu` or "
                                "`extra_gpu` instead.", where, key);
        size_t f = 0;
        while (f < NFIELDS && strcmp(key, field_names[f]) != 0)
            f++;
        if (f == NFIELDS)
            return tc_error_set(err, TC_ERR_TUNE,
                                "%s: Unknown resource field %s, must be one of ('cpu', 'gpu', "
                                "'memory', 'object_store_memory', 'extra_cpu', 'extra_gpu', "
                                "'extra_memory', 'extra_object_store_memory', 'custom_resources', "
                                "'extra_custom_resources')", where, key);
        if (f >= 8) {
            if (parse_custom(value, r, where, key, err) < 0)
                return -1;
            continue;
        }
        double amount;
        if (parse_amount(value, &amount, where, key, NULL, err) < 0)
            return -1;
        switch (f) {
        case 0: r->cpu = amount; break;
        case 1: r->gpu = amount; break;
        case 4: r->extra_cpu = amount; break;
        case 5: r->extra_gpu = amount; break;
        default: break;  /* memory amounts: accepted, not metered */
        }
    }
    if (r->gpu > 1 && r->gpu != floor(r->gpu))
        return tc_error_set(err, TC_ERR_TUNE,
                            "%s: gpu = %g: Resource quantities >1 must be whole numbers.", where,
                            r->gpu);
    return 0;
}

/* custom borrowed; entries that are not non-negative numbers, names of 64
 * bytes or more, and entries past TC_MAX_CUSTOM are ignored (the host
 * validates ray.init-style arguments before this). */
void tc_capacity_init(tc_capacity *c, double cpus, int gpus, const json_t *custom)
{
    const char *name;
    json_t *value;
    memset(c, 0, sizeof *c);
    if (gpus < 0)
        gpus = 0;
    if (gpus > TC_MAX_GPUS)
        gpus = TC_MAX_GPUS;
    c->total.cpu = cpus > 0 ? quantize(cpus) : 0.0;
    c->total.gpu = gpus;
    c->ngpus = gpus;
    for (int i = 0; i < gpus; i++)
        c->gpu_free[i] = 1.0;
    if (!json_is_object(custom))
        return;
    json_object_foreach((json_t *)custom, name, value) {
        double amount;
        if (!tc_json_number(value, &amount) || !isfinite(amount) || amount < 0 ||
            strlen(name) >= sizeof c->total.custom[0].name)
            continue;
        int i = custom_slot(&c->total, name);
        if (i < 0)
            break;
        c->total.custom[i].amount = quantize(amount);
        custom_slot(&c->used, name);  /* same order, amount 0 */
    }
}

/* Appends "4 CPUs, 0 GPUs (2 foo)", Ray's Resources.summary_string. */
static int put_summary(tc_buf *out, double cpu, double gpu, const tc_resources *customs)
{
    if (put_amount(out, cpu) < 0 || tc_buf_puts(out, " CPUs, ") < 0 || put_amount(out, gpu) < 0 ||
        tc_buf_puts(out, " GPUs") < 0)
        return -1;
    for (int i = 0; i < customs->ncustom; i++) {
        if (tc_buf_puts(out, i == 0 ? " (" : ", ") < 0 ||
            put_amount(out, customs->custom[i].amount) < 0 ||
            tc_buf_printf(out, " %s", customs->custom[i].name) < 0)
            return -1;
    }
    if (customs->ncustom > 0 && tc_buf_putc(out, ')') < 0)
        return -1;
    return 0;
}

int tc_capacity_can_ever_fit(const tc_capacity *c, const tc_resources *r, tc_error *err)
{
    int fits = quantize(r->cpu + r->extra_cpu) <= c->total.cpu + EPS &&
               quantize(r->gpu + r->extra_gpu) <= c->total.gpu + EPS;
    /* whole-GPU trials need that many devices; fractional ones one device */
    if (r->gpu > 0 && ceil(r->gpu - EPS) > c->ngpus)
        fits = 0;
    for (int i = 0; fits && i < r->ncustom; i++)
        if (quantize(r->custom[i].amount) > custom_get(&c->total, r->custom[i].name) + EPS)
            fits = 0;
    if (fits)
        return 1;

    tc_buf req, have;
    tc_buf_init(&req);
    tc_buf_init(&have);
    if (put_summary(&req, r->cpu + r->extra_cpu, r->gpu + r->extra_gpu, r) < 0 ||
        put_summary(&have, c->total.cpu, c->total.gpu, &c->total) < 0)
        tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    else
        tc_error_set(err, TC_ERR_TUNE,
                     "Insufficient cluster resources to launch trial: trial requested %s but the "
                     "cluster has only %s. Pass `queue_trials=True` in ray.tune.run() or on the "
                     "command line to queue trials until the cluster scales up or resources "
                     "become available.", req.data, have.data);
    tc_buf_free(&req);
    tc_buf_free(&have);
    return 0;
}

/* The device for a fractional request: least free fraction that fits. */
static int best_fit_device(const tc_capacity *c, double gpu)
{
    int best = -1;
    for (int i = 0; i < c->ngpus; i++) {
        if (quantize(c->gpu_free[i] - gpu) < -EPS)
            continue;
        if (best < 0 || c->gpu_free[i] < c->gpu_free[best] - EPS)
            best = i;
    }
    return best;
}

static int whole_free_devices(const tc_capacity *c)
{
    int n = 0;
    for (int i = 0; i < c->ngpus; i++)
        if (c->gpu_free[i] >= 1.0 - EPS)
            n++;
    return n;
}

int tc_capacity_fits(const tc_capacity *c, const tc_resources *r)
{
    if (quantize(c->used.cpu + c->used.extra_cpu + r->cpu + r->extra_cpu) > c->total.cpu + EPS)
        return 0;
    if (quantize(c->used.gpu + c->used.extra_gpu + r->gpu + r->extra_gpu) > c->total.gpu + EPS)
        return 0;
    for (int i = 0; i < r->ncustom; i++) {
        if (r->custom[i].amount <= 0)
            continue;
        double used = custom_get(&c->used, r->custom[i].name);
        if (quantize(used + r->custom[i].amount) > custom_get(&c->total, r->custom[i].name) + EPS)
            return 0;
    }
    if (r->gpu <= 0)
        return 1;
    if (r->gpu < 1)
        return best_fit_device(c, r->gpu) >= 0;
    return whole_free_devices(c) >= (int)floor(r->gpu + EPS);
}

void tc_capacity_acquire(tc_capacity *c, const tc_resources *r, int *gpu_ids, int *ngpu_ids)
{
    *ngpu_ids = 0;
    c->used.cpu = quantize(c->used.cpu + r->cpu);
    c->used.extra_cpu = quantize(c->used.extra_cpu + r->extra_cpu);
    c->used.gpu = quantize(c->used.gpu + r->gpu);
    c->used.extra_gpu = quantize(c->used.extra_gpu + r->extra_gpu);
    for (int i = 0; i < r->ncustom; i++) {
        if (r->custom[i].amount <= 0)
            continue;
        int k = custom_slot(&c->used, r->custom[i].name);
        if (k >= 0)
            c->used.custom[k].amount = quantize(c->used.custom[k].amount + r->custom[i].amount);
    }
    if (r->gpu <= 0)
        return;
    if (r->gpu < 1) {
        int d = best_fit_device(c, r->gpu);
        if (d < 0)
            return;  /* caller skipped tc_capacity_fits: counted, no device */
        c->gpu_free[d] = quantize(c->gpu_free[d] - r->gpu);
        gpu_ids[(*ngpu_ids)++] = d;
        return;
    }
    int want = (int)floor(r->gpu + EPS);
    for (int i = 0; i < c->ngpus && *ngpu_ids < want; i++) {
        if (c->gpu_free[i] >= 1.0 - EPS) {
            c->gpu_free[i] = 0.0;
            gpu_ids[(*ngpu_ids)++] = i;
        }
    }
}

static double release_amount(double used, double amount)
{
    double v = quantize(used - amount);
    return v < 0 ? 0.0 : v;
}

void tc_capacity_release(tc_capacity *c, const tc_resources *r, const int *gpu_ids, int ngpu_ids)
{
    c->used.cpu = release_amount(c->used.cpu, r->cpu);
    c->used.extra_cpu = release_amount(c->used.extra_cpu, r->extra_cpu);
    c->used.gpu = release_amount(c->used.gpu, r->gpu);
    c->used.extra_gpu = release_amount(c->used.extra_gpu, r->extra_gpu);
    for (int i = 0; i < r->ncustom; i++) {
        for (int k = 0; k < c->used.ncustom; k++)
            if (strcmp(c->used.custom[k].name, r->custom[i].name) == 0)
                c->used.custom[k].amount = release_amount(c->used.custom[k].amount,
                                                          r->custom[i].amount);
    }
    double per_device = r->gpu < 1 ? r->gpu : 1.0;
    for (int i = 0; i < ngpu_ids; i++) {
        int d = gpu_ids[i];
        if (d < 0 || d >= c->ngpus)
            continue;
        double v = quantize(c->gpu_free[d] + per_device);
        c->gpu_free[d] = v > 1.0 ? 1.0 : v;
    }
}

/* "Resources requested: 2/4 CPUs, 0.5/1 GPUs, 0.0/0.0 GiB heap, 0.0/0.0 GiB
 * objects (1/2 foo)" — spec §12 line 4. Memory is not metered, so heap and
 * objects read 0.0/0.0 (Ray's _to_gb of zero). */
int tc_capacity_debug_string(const tc_capacity *c, tc_buf *out)
{
    if (tc_buf_puts(out, "Resources requested: ") < 0 ||
        put_amount(out, c->used.cpu + c->used.extra_cpu) < 0 || tc_buf_putc(out, '/') < 0 ||
        put_amount(out, c->total.cpu) < 0 || tc_buf_puts(out, " CPUs, ") < 0 ||
        put_amount(out, c->used.gpu + c->used.extra_gpu) < 0 || tc_buf_putc(out, '/') < 0 ||
        put_amount(out, c->total.gpu) < 0 ||
        tc_buf_puts(out, " GPUs, 0.0/0.0 GiB heap, 0.0/0.0 GiB objects") < 0)
        return -1;
    for (int i = 0; i < c->total.ncustom; i++) {
        const char *name = c->total.custom[i].name;
        if (tc_buf_puts(out, i == 0 ? " (" : ", ") < 0 ||
            put_amount(out, custom_get(&c->used, name)) < 0 || tc_buf_putc(out, '/') < 0 ||
            put_amount(out, c->total.custom[i].amount) < 0 || tc_buf_printf(out, " %s", name) < 0)
            return -1;
    }
    if (c->total.ncustom > 0 && tc_buf_putc(out, ')') < 0)
        return -1;
    return 0;
}

static json_t *amount_json(double v)
{
    if (v == floor(v) && fabs(v) < 9e15)
        return json_integer((json_int_t)v);
    return json_real(v);
}

/* new; the shape of Ray's resources_to_json, which tc_resources_parse reads
 * back. Custom and extra custom amounts are held summed, so they all come
 * back under custom_resources. */
json_t *tc_resources_to_json(const tc_resources *r)
{
    json_t *custom = json_object();
    json_t *obj = NULL;
    if (!custom)
        return NULL;
    for (int i = 0; i < r->ncustom; i++)
        if (json_object_set_new(custom, r->custom[i].name, amount_json(r->custom[i].amount)) < 0)
            goto error;
    obj = json_pack("{s:o, s:o, s:i, s:i, s:o, s:o, s:i, s:i, s:O, s:{}}",
                    "cpu", amount_json(r->cpu), "gpu", amount_json(r->gpu),
                    "memory", 0, "object_store_memory", 0,
                    "extra_cpu", amount_json(r->extra_cpu), "extra_gpu", amount_json(r->extra_gpu),
                    "extra_memory", 0, "extra_object_store_memory", 0,
                    "custom_resources", custom, "extra_custom_resources");
error:
    json_decref(custom);
    return obj;
}
