/* test_tfevents.c — TensorBoard event records (log_tfevents.c): CRC32C
 * against published vectors and a bitwise reference, the wire encoding of
 * known events byte for byte, and whole results read back through a small
 * protobuf decoder written here (not the engine's encoder run backwards). */
#include <stdint.h>
#include <stdlib.h>
#include "tc_test.h"
#include "tunec.h"

/* ------------------------------------------------------------------------- */
/* References                                                                 */
/* ------------------------------------------------------------------------- */

static uint32_t crc_bitwise(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < len; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1u)));
    }
    return ~c;
}

static uint32_t mask(uint32_t crc)
{
    return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static double as_double(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static float as_float(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* SummaryWriter.default_bins, as Python computes them. */
static int default_edges(double *e)
{
    double pos[1000];
    int n = 0;
    for (double v = 1e-12; v < 1e20; v *= 1.1)
        pos[n++] = v;
    int k = 0;
    for (int i = n - 1; i >= 0; i--)
        e[k++] = -pos[i];
    e[k++] = 0.0;
    for (int i = 0; i < n; i++)
        e[k++] = pos[i];
    return k;
}

/* ------------------------------------------------------------------------- */
/* A tiny protobuf / TFRecord reader                                          */
/* ------------------------------------------------------------------------- */

typedef struct rd { const unsigned char *p, *end; int bad; } rd;

static uint64_t rd_varint(rd *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (r->p >= r->end) {
            r->bad = 1;
            return 0;
        }
        unsigned char b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    r->bad = 1;
    return 0;
}

/* Next field: 1 and the field's number / wire type / payload, or 0 at the end. */
typedef struct fld { int num, wt; uint64_t v; rd sub; } fld;

static int rd_field(rd *r, fld *f)
{
    if (r->p >= r->end || r->bad)
        return 0;
    uint64_t key = rd_varint(r);
    f->num = (int)(key >> 3);
    f->wt = (int)(key & 7);
    switch (f->wt) {
    case 0: f->v = rd_varint(r); break;
    case 1:
        if (r->end - r->p < 8) { r->bad = 1; return 0; }
        f->v = le64(r->p); r->p += 8; break;
    case 5:
        if (r->end - r->p < 4) { r->bad = 1; return 0; }
        f->v = le32(r->p); r->p += 4; break;
    case 2: {
        uint64_t n = rd_varint(r);
        if ((uint64_t)(r->end - r->p) < n) { r->bad = 1; return 0; }
        f->sub.p = r->p; f->sub.end = r->p + n; f->sub.bad = 0;
        r->p += n; break;
    }
    default: r->bad = 1; return 0;
    }
    return !r->bad;
}

#define MAXV 24
#define MAXB 1600
typedef struct value {
    char tag[128];
    int kind;              /* 1 simple_value, 2 histo, 3 metadata only */
    float simple;
    double min, max, num, sum, sum_sq;
    int n_lim, n_cnt;
    double lim[MAXB], cnt[MAXB];
    rd meta;               /* Value.metadata */
} value;

typedef struct event {
    double wall;
    int has_step;
    int64_t step;
    char version[32];
    int has_summary;
    int n;
    value v[MAXV];
} event;

static void rd_string(const rd *s, char *buf, size_t cap)
{
    size_t n = (size_t)(s->end - s->p);
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, s->p, n);
    buf[n] = '\0';
}

static int rd_packed(rd s, double *out, int cap)
{
    int n = 0;
    while (s.end - s.p >= 8 && n < cap) {
        out[n++] = as_double(le64(s.p));
        s.p += 8;
    }
    return s.p == s.end ? n : -1;
}

static int decode_value(rd r, value *v)
{
    fld f;
    memset(v, 0, sizeof *v);
    while (rd_field(&r, &f)) {
        if (f.num == 1 && f.wt == 2) {
            rd_string(&f.sub, v->tag, sizeof v->tag);
        } else if (f.num == 2 && f.wt == 5) {
            v->kind = 1;
            v->simple = as_float((uint32_t)f.v);
        } else if (f.num == 9 && f.wt == 2) {
            if (!v->kind) v->kind = 3;
            v->meta = f.sub;
        } else if (f.num == 5 && f.wt == 2) {
            v->kind = 2;
            fld h;
            rd hr = f.sub;
            while (rd_field(&hr, &h)) {
                double d = as_double(h.v);
                switch (h.num) {
                case 1: v->min = d; break;
                case 2: v->max = d; break;
                case 3: v->num = d; break;
                case 4: v->sum = d; break;
                case 5: v->sum_sq = d; break;
                case 6: v->n_lim = rd_packed(h.sub, v->lim, MAXB); break;
                case 7: v->n_cnt = rd_packed(h.sub, v->cnt, MAXB); break;
                default: return -1;
                }
            }
            if (hr.bad) return -1;
        } else {
            return -1;
        }
    }
    return r.bad ? -1 : 0;
}

static int decode_event(rd r, event *e)
{
    fld f;
    memset(e, 0, sizeof *e);
    while (rd_field(&r, &f)) {
        if (f.num == 1 && f.wt == 1) {
            e->wall = as_double(f.v);
        } else if (f.num == 2 && f.wt == 0) {
            e->has_step = 1;
            e->step = (int64_t)f.v;
        } else if (f.num == 3 && f.wt == 2) {
            rd_string(&f.sub, e->version, sizeof e->version);
        } else if (f.num == 5 && f.wt == 2) {
            e->has_summary = 1;
            fld s;
            rd sr = f.sub;
            while (rd_field(&sr, &s)) {
                if (s.num != 1 || s.wt != 2 || e->n == MAXV)
                    return -1;
                if (decode_value(s.sub, &e->v[e->n++]) < 0)
                    return -1;
            }
            if (sr.bad) return -1;
        } else {
            return -1;
        }
    }
    return r.bad ? -1 : 0;
}

/* Splits buf into records, checking both CRCs with the bitwise reference;
 * decodes up to cap events. Returns the count, or -1 on a framing error. */
static int read_records(const tc_buf *b, event *evs, int cap)
{
    const unsigned char *p = (const unsigned char *)b->data, *end = p + b->len;
    int n = 0;
    while (p < end) {
        if (end - p < 12) return -1;
        uint64_t len = le64(p);
        if (le32(p + 8) != mask(crc_bitwise(p, 8))) return -1;
        if ((uint64_t)(end - p - 12) < len + 4) return -1;
        const unsigned char *data = p + 12;
        if (le32(data + len) != mask(crc_bitwise(data, (size_t)len))) return -1;
        if (n < cap) {
            rd r = {data, data + len, 0};
            if (decode_event(r, &evs[n]) < 0) return -1;
        }
        n++;
        p = data + len + 4;
    }
    return n;
}

static const value *find_tag(const event *e, const char *tag)
{
    for (int i = 0; i < e->n; i++)
        if (strcmp(e->v[i].tag, tag) == 0)
            return &e->v[i];
    return NULL;
}

/* ------------------------------------------------------------------------- */
/* Tests                                                                      */
/* ------------------------------------------------------------------------- */

static void test_crc(void)
{
    unsigned char zeros[32], ones[32], inc[32], dec[32];
    for (int i = 0; i < 32; i++) {
        zeros[i] = 0;
        ones[i] = 0xff;
        inc[i] = (unsigned char)i;
        dec[i] = (unsigned char)(31 - i);
    }
    /* {data, len, CRC32C} — the check value and RFC 3720's iSCSI vectors */
    const struct { const void *data; size_t len; uint32_t crc; } cases[] = {
        {"123456789", 9, 0xe3069283u},
        {"", 0, 0x00000000u},
        {"a", 1, 0xc1d04330u},
        {zeros, 32, 0x8a9136aau},
        {ones, 32, 0x62a8ab43u},
        {inc, 32, 0x46dd794eu},
        {dec, 32, 0x113fdb5cu},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK_INT(tc_crc32c(0, cases[i].data, cases[i].len), cases[i].crc);
        CHECK_INT(tc_crc32c_sw(0, cases[i].data, cases[i].len), cases[i].crc);
        CHECK_INT(crc_bitwise(cases[i].data, cases[i].len), cases[i].crc);
        CHECK_INT(tc_crc32c_masked(cases[i].data, cases[i].len), mask(cases[i].crc));
    }
    CHECK_INT(tc_crc32c_masked("123456789", 9), 0xc78ab0e5u);   /* rotated right 15, + 0xa282ead8 */

    /* Every length and alignment of random data, and CRCs continued across
     * a split, agree with the bitwise form (this covers all of the table). */
    unsigned char buf[4096 + 16];
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < sizeof buf; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        buf[i] = (unsigned char)x;
    }
    int bad = 0;
    for (size_t off = 0; off < 8; off++)
        for (size_t len = 0; len < 70; len++) {
            uint32_t want = crc_bitwise(buf + off, len);
            bad += tc_crc32c(0, buf + off, len) != want;
            bad += tc_crc32c_sw(0, buf + off, len) != want;
            size_t cut = len / 3;
            bad += tc_crc32c(tc_crc32c(0, buf + off, cut), buf + off + cut, len - cut) != want;
        }
    CHECK_INT(bad, 0);
    CHECK_INT(tc_crc32c(0, buf, 4096), crc_bitwise(buf, 4096));
    CHECK_INT(tc_crc32c_sw(0, buf, 4096), crc_bitwise(buf, 4096));
}

/* Exact bytes of small events, written out by hand from the wire format. */
static void test_bytes(void)
{
    tc_buf out;
    tc_buf_init(&out);

    /* A record around "abc": length 3, its masked CRC, data, data CRC. */
    CHECK_INT(tc_tfevents_record(&out, "abc", 3), 0);
    CHECK_INT(out.len, 8 + 4 + 3 + 4);
    const unsigned char *u = (const unsigned char *)out.data;
    CHECK_INT(le64(u), 3);
    CHECK_INT(le32(u + 8), mask(crc_bitwise(u, 8)));
    CHECK(memcmp(u + 12, "abc", 3) == 0);
    CHECK_INT(le32(u + 15), mask(crc_bitwise("abc", 3)));

    /* Header: Event { wall_time = 1.5 (09 + LE double); file_version = "brain.Event:2" } */
    static const unsigned char header[] = {0x09, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f, 0x1a, 0x0d,
                                           'b', 'r', 'a', 'i', 'n', '.', 'E', 'v', 'e', 'n',
                                           't', ':', '2'};
    tc_buf_clear(&out);
    CHECK_INT(tc_tfevents_header(&out, 1.5), 0);
    CHECK_INT(out.len, 12 + sizeof header + 4);
    CHECK_INT(le64((const unsigned char *)out.data), sizeof header);
    CHECK(memcmp(out.data + 12, header, sizeof header) == 0);

    /* Event { wall_time = 2.0; step = 300 (10 ac 02); summary = 2a: Summary {
     * value = 0a: Value { tag = 0a "ray/tune/loss"; simple_value = 15 0.5f } } } */
    static const unsigned char scalar[] = {
        0x09, 0, 0, 0, 0, 0, 0, 0, 0x40, 0x10, 0xac, 0x02, 0x2a, 0x16, 0x0a, 0x14, 0x0a, 0x0d,
        'r', 'a', 'y', '/', 't', 'u', 'n', 'e', '/', 'l', 'o', 's', 's',
        0x15, 0x00, 0x00, 0x00, 0x3f};
    const char *text = "{\"loss\": 0.5, \"training_iteration\": 300, \"done\": false}";
    tc_scan s;
    tc_error err;
    tc_scan_init(&s);
    tc_error_init(&err);
    tc_tfevents *w = tc_tfevents_new(0);
    CHECK_INT(tc_scan_result(&s, text, strlen(text), "config", &err), 0);
    tc_buf_clear(&out);
    CHECK_INT(tc_tfevents_result(w, &s, 2.0, &out, &err), 0);
    CHECK_INT(out.len, 12 + sizeof scalar + 4);
    CHECK(out.len >= 12 + sizeof scalar && memcmp(out.data + 12, scalar, sizeof scalar) == 0);

    /* A negative step is an int64 varint of ten bytes; a zero step is left out. */
    const struct { const char *text; int has; int64_t step; } steps[] = {
        {"{\"x\": 1, \"timesteps_total\": -5, \"training_iteration\": 3}", 1, -5},
        {"{\"x\": 1, \"timesteps_total\": 0, \"training_iteration\": 0}", 0, 0},
    };
    for (size_t i = 0; i < 2; i++) {
        tc_buf_clear(&out);
        CHECK_INT(tc_scan_result(&s, steps[i].text, strlen(steps[i].text), "config", &err), 0);
        CHECK_INT(tc_tfevents_result(w, &s, 1.0, &out, &err), 0);
        const unsigned char *e = (const unsigned char *)out.data + 12;
        if (steps[i].has) {
            CHECK_INT(e[9], 0x10);
            static const unsigned char m5[] = {0xfb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                               0xff, 0x01};
            CHECK(memcmp(e + 10, m5, 10) == 0);
        } else {
            CHECK_INT(e[9], 0x2a);   /* straight to the summary */
        }
    }
    tc_tfevents_free(w);
    tc_scan_free(&s);
    tc_buf_free(&out);
}

static event evs[16];

/* {name, result text, expected step (-1: none), "tag=value;..." in order, each
 * value read as a float32} — scalars only. */
static const struct {
    const char *name, *text;
    int64_t step;
    const char *scalars;
} scalar_cases[] = {
    {"basic",
     "{\"mean_loss\": 0.25, \"acc\": 3, \"done\": false, \"trial_id\": \"abc\", \"training_iteration\": 7,"
     " \"timestamp\": 1700000000, \"time_total_s\": 1.5, \"pid\": 42, \"time_this_iter_s\": 0.125,"
     " \"timesteps_total\": null, \"config\": {\"lr\": 0.1}, \"flag\": true, \"none\": null}",
     7, "ray/tune/mean_loss=0.25;ray/tune/acc=3;ray/tune/time_this_iter_s=0.125"},
    {"nested and non-finite",
     "{\"info\": {\"a\": 1, \"b\": {\"c\": -2.5}, \"s\": \"x\"}, \"nan\": NaN, \"inf\": Infinity,"
     " \"ninf\": -Infinity, \"training_iteration\": 2, \"pid\": {\"x\": 1}}",
     2, "ray/tune/info/a=1;ray/tune/info/b/c=-2.5;ray/tune/inf=inf;ray/tune/ninf=-inf"},
    {"timesteps_total wins when truthy",
     "{\"timesteps_total\": 1000, \"training_iteration\": 3, \"r\": 1e-3}",
     1000, "ray/tune/timesteps_total=1000;ray/tune/r=0.001"},
    {"timesteps_total 0 falls back",
     "{\"timesteps_total\": 0, \"training_iteration\": 4, \"r\": 1}",
     4, "ray/tune/timesteps_total=0;ray/tune/r=1"},
    {"float step truncates",
     "{\"timesteps_total\": 2.75, \"training_iteration\": 9, \"r\": 1}",
     2, "ray/tune/timesteps_total=2.75;ray/tune/r=1"},
    {"negative float step truncates toward zero",
     "{\"timesteps_total\": -2.75, \"training_iteration\": 9, \"r\": 1}",
     -2, "ray/tune/timesteps_total=-2.75;ray/tune/r=1"},
    {"true step is 1",
     "{\"timesteps_total\": true, \"training_iteration\": 9, \"r\": 1}",
     1, "ray/tune/r=1"},
    {"NaN step falls back",
     "{\"timesteps_total\": NaN, \"training_iteration\": 5, \"r\": 1}",
     5, "ray/tune/r=1"},
    {"large int step is exact",
     "{\"timesteps_total\": 9007199254740993, \"r\": 1}",
     9007199254740993LL, "ray/tune/timesteps_total=9007199254740992;ray/tune/r=1"},
    {"no step",
     "{\"r\": 1, \"training_iteration\": \"x\"}",
     -1, "ray/tune/r=1"},
    {"tags are cleaned",
     "{\"a b\": 1, \"x(y)%\": 2, \"ok-._\": 3, \"caf\\u00e9\": 4, \"d\\u2013e\": 5, \"e\\ud83d\\ude00\": 6,"
     " \"\\u00d7\": 7, \"\\u4e2d\": 8, \"\\u00aa\\u00a0\": 9, \"training_iteration\": 1}",
     1, "ray/tune/a_b=1;ray/tune/x_y__=2;ray/tune/ok-._=3;ray/tune/caf\xc3\xa9=4;ray/tune/d_e=5;"
        "ray/tune/e_=6;ray/tune/_=7;ray/tune/\xe4\xb8\xad=8;ray/tune/\xc2\xaa_=9"},
    {"float32 rounding and overflow",
     "{\"a\": 0.1, \"b\": 1e300, \"c\": -1e300, \"d\": 3.4028235e38, \"e\": 3.4028235677973366e38, \"training_iteration\": 1}",
     1, "ray/tune/a=0.1;ray/tune/b=inf;ray/tune/c=-inf;ray/tune/d=3.4028235e38;ray/tune/e=inf"},
};

static void test_scalars(void)
{
    tc_scan s;
    tc_error err;
    tc_buf out;
    tc_scan_init(&s);
    tc_buf_init(&out);
    for (int per_value = 0; per_value < 2; per_value++) {
        tc_tfevents *w = tc_tfevents_new(per_value);
        for (size_t c = 0; c < sizeof scalar_cases / sizeof scalar_cases[0]; c++) {
            tc_error_init(&err);
            tc_buf_clear(&out);
            const char *text = scalar_cases[c].text;
            CHECK_INT(tc_scan_result(&s, text, strlen(text), "config", &err), 0);
            CHECK_INT(tc_tfevents_result(w, &s, 12.5, &out, &err), 0);
            int n = read_records(&out, evs, 16);
            /* expected tags and values */
            char want[1024];
            snprintf(want, sizeof want, "%s", scalar_cases[c].scalars);
            int nwant = 0;
            char got[1024] = "";
            for (char *tok = strtok(want, ";"); tok; tok = strtok(NULL, ";"))
                nwant++;
            CHECK_INT(n, per_value ? nwant : 1);
            if (n < 1)
                continue;
            size_t gl = 0;
            for (int e = 0; e < n && e < 16; e++) {
                CHECK(evs[e].wall == 12.5);
                CHECK_INT(evs[e].has_step ? evs[e].step : -1, scalar_cases[c].step);
                CHECK_INT(evs[e].n, per_value ? 1 : nwant);
                for (int i = 0; i < evs[e].n; i++) {
                    CHECK_INT(evs[e].v[i].kind, 1);
                    gl += (size_t)snprintf(got + gl, sizeof got - gl, "%s%s=%.9g", gl ? ";" : "",
                                           evs[e].v[i].tag, (double)evs[e].v[i].simple);
                }
            }
            /* Compare value by value through float32 parsing of the expectation. */
            snprintf(want, sizeof want, "%s", scalar_cases[c].scalars);
            char exp_text[1024] = "";
            size_t el = 0;
            for (char *tok = strtok(want, ";"); tok; tok = strtok(NULL, ";")) {
                char *eq = strrchr(tok, '=');
                *eq = '\0';
                float f = strtof(eq + 1, NULL);
                el += (size_t)snprintf(exp_text + el, sizeof exp_text - el, "%s%s=%.9g",
                                       el ? ";" : "", tok, (double)f);
            }
            if (strcmp(got, exp_text) != 0)
                fprintf(stderr, "case %s (per_value %d)\n", scalar_cases[c].name, per_value);
            CHECK_STR(got, exp_text);
        }
        tc_tfevents_free(w);
    }
    /* Nothing loggable: nothing written. */
    tc_tfevents *w = tc_tfevents_new(0);
    const char *text =
        "{\"done\": true, \"training_iteration\": 3, \"s\": \"x\", \"n\": NaN, \"l\": []}";
    tc_error_init(&err);
    tc_buf_clear(&out);
    CHECK_INT(tc_scan_result(&s, text, strlen(text), "config", &err), 0);
    CHECK_INT(tc_tfevents_result(w, &s, 1.0, &out, &err), 0);
    CHECK_INT(out.len, 0);
    /* Without skip_key the config's leaves are still left out. */
    text = "{\"config\": {\"lr\": 0.5}, \"r\": 2}";
    CHECK_INT(tc_scan_result(&s, text, strlen(text), NULL, &err), 0);
    CHECK_INT(tc_tfevents_result(w, &s, 1.0, &out, &err), 0);
    CHECK_INT(read_records(&out, evs, 8), 1);
    CHECK_INT(evs[0].n, 1);
    CHECK_STR(evs[0].v[0].tag, "ray/tune/r");
    tc_tfevents_free(w);
    tc_scan_free(&s);
    tc_buf_free(&out);
}

/* {list text, whether tensorboardX makes a histogram of it} */
static const struct { const char *list; int ok; } hist_shapes[] = {
    {"[1, 2, 3]", 1},
    {"[[1, 2], [3, 4]]", 1},
    {"[[[1], [2]], [[3], [4]]]", 1},
    {"[true, false, 2.5]", 1},
    {"[NaN, 1]", 1},
    {"[ 1 ,\n 2 ]", 1},
    {"[]", 0},
    {"[[]]", 0},
    {"[[], []]", 0},
    {"[[1, 2], [3]]", 0},
    {"[1, [2]]", 0},
    {"[[1], 2]", 0},
    {"[1, \"a\"]", 0},
    {"[\"1.5\"]", 0},
    {"[1, null]", 0},
    {"[{\"a\": 1}]", 0},
    {"[Infinity, -Infinity]", 0},   /* nothing inside the edges */
    {"[NaN]", 0},
    {"[1e30]", 0},
    {"[0x10]", 0},
    {"[01]", 0},
    {"[1.]", 0},
    {"[-]", 0},
    {"[1e]", 0},
};

static void test_histograms(void)
{
    static double edges[1600];
    int ne = default_edges(edges);
    CHECK_INT(ne, 1549);
    tc_scan s;
    tc_error err;
    tc_buf out, text;
    tc_scan_init(&s);
    tc_buf_init(&out);
    tc_buf_init(&text);
    tc_tfevents *w = tc_tfevents_new(0);

    for (size_t c = 0; c < sizeof hist_shapes / sizeof hist_shapes[0]; c++) {
        tc_buf_clear(&text);
        tc_buf_printf(&text, "{\"h\": %s, \"training_iteration\": 1, \"k\": 1}",
                      hist_shapes[c].list);
        tc_error_init(&err);
        tc_buf_clear(&out);
        CHECK_INT(tc_scan_result(&s, text.data, text.len, "config", &err), 0);
        CHECK_INT(tc_tfevents_result(w, &s, 1.0, &out, &err), 0);
        CHECK_INT(read_records(&out, evs, 8), 1);
        const value *h = find_tag(&evs[0], "ray/tune/h");
        if ((h != NULL) != hist_shapes[c].ok)
            fprintf(stderr, "histogram shape case %s\n", hist_shapes[c].list);
        CHECK_INT(h != NULL, hist_shapes[c].ok);
        if (h)
            CHECK_INT(h->kind, 2);
    }

    /* [1, 2, 3]: bins of 1, 2, 3 among the edges; one empty bucket on the
     * left; limits are right edges; sum and sum of squares. */
    const char *t = "{\"h\": [3, 1, 2, 2], \"training_iteration\": 1}";
    CHECK_INT(tc_scan_result(&s, t, strlen(t), "config", &err), 0);
    tc_buf_clear(&out);
    CHECK_INT(tc_tfevents_result(w, &s, 1.0, &out, &err), 0);
    CHECK_INT(read_records(&out, evs, 8), 1);
    const value *h = find_tag(&evs[0], "ray/tune/h");
    CHECK(h != NULL);
    if (h) {
        CHECK(h->min == 1 && h->max == 3 && h->num == 4 && h->sum == 8 && h->sum_sq == 18);
        int b1 = -1, b3 = -1;
        for (int i = 0; i + 1 < ne; i++) {
            if (edges[i] <= 1 && 1 < edges[i + 1]) b1 = i;
            if (edges[i] <= 3 && 3 < edges[i + 1]) b3 = i;
        }
        CHECK_INT(h->n_lim, b3 - b1 + 2);
        CHECK_INT(h->n_cnt, h->n_lim);
        double total = 0;
        int bad = 0;
        for (int j = 0; j < h->n_lim && j < MAXB; j++) {
            bad += h->lim[j] != edges[b1 + j];
            int bin = b1 - 1 + j;   /* bucket j counts the bin whose right edge is lim[j] */
            double want = 0;
            if (j > 0)
                for (int k = 0; k < 4; k++) {
                    double x = k == 0 ? 3 : k == 1 ? 1 : 2;
                    want += edges[bin] <= x && x < edges[bin + 1];
                }
            bad += h->cnt[j] != want;
            total += h->cnt[j];
        }
        CHECK_INT(bad, 0);
        CHECK(h->cnt[0] == 0);
        CHECK(total == 4);
    }

    /* The extreme edges: both ends of the table are inside (the last bin is
     * closed), so every one of the 1549 edges comes back as a limit. */
    tc_buf_clear(&text);
    tc_buf_printf(&text, "{\"h\": [%.17g, %.17g, 0, -0.0], \"training_iteration\": 1}",
                  edges[0], edges[ne - 1]);
    CHECK_INT(tc_scan_result(&s, text.data, text.len, "config", &err), 0);
    tc_buf_clear(&out);
    CHECK_INT(tc_tfevents_result(w, &s, 1.0, &out, &err), 0);
    CHECK_INT(read_records(&out, evs, 8), 1);
    h = find_tag(&evs[0], "ray/tune/h");
    CHECK(h != NULL);
    if (h) {
        CHECK_INT(h->n_lim, ne);   /* start == 0: a zero bucket, then all 1548 bins */
        int bad = 0;
        for (int j = 0; j < ne && j < h->n_lim; j++)
            bad += memcmp(&h->lim[j], &edges[j], sizeof(double)) != 0 && !(edges[j] == 0 && h->lim[j] == 0);
        CHECK_INT(bad, 0);
        CHECK(h->cnt[0] == 0 && h->cnt[1] == 1 && h->cnt[ne - 1] == 1);
        CHECK(h->cnt[775] == 2);   /* 0 and -0.0 in [0, 1e-12) */
        CHECK(h->min == edges[0] && h->max == edges[ne - 1]);
    }
    /* Just outside the last edge: not counted, but still min/max/num. */
    tc_buf_clear(&text);
    tc_buf_printf(&text, "{\"h\": [1, %.17g, NaN], \"training_iteration\": 1}", edges[ne - 1] * 1.0000001);
    CHECK_INT(tc_scan_result(&s, text.data, text.len, "config", &err), 0);
    tc_buf_clear(&out);
    CHECK_INT(tc_tfevents_result(w, &s, 1.0, &out, &err), 0);
    CHECK_INT(read_records(&out, evs, 8), 1);
    h = find_tag(&evs[0], "ray/tune/h");
    CHECK(h != NULL);
    if (h) {
        CHECK(isnan(h->min) && isnan(h->max) && isnan(h->sum) && h->num == 3);
        CHECK_INT(h->n_lim, 2);
        CHECK(h->cnt[0] == 0 && h->cnt[1] == 1);
    }
    tc_tfevents_free(w);
    tc_scan_free(&s);
    tc_buf_free(&out);
    tc_buf_free(&text);
}

/* HParamsPluginData inside Value.metadata: returns the data field number
 * (2 experiment, 3 session start, 4 session end) and its body. */
static int plugin_content(const value *v, rd *body)
{
    fld f, g, h;
    rd r = v->meta;
    if (!rd_field(&r, &f) || f.num != 1)   /* plugin_data */
        return -1;
    char name[32] = "";
    rd content = {0};
    while (rd_field(&f.sub, &g)) {
        if (g.num == 1) rd_string(&g.sub, name, sizeof name);
        if (g.num == 2) content = g.sub;
    }
    if (strcmp(name, "hparams") != 0)
        return -1;
    int which = -1;
    while (rd_field(&content, &h)) {
        if (h.num == 1) return -1;   /* version 0 is left out */
        which = h.num;
        *body = h.sub;
    }
    return which;
}

static void test_hparams(void)
{
    tc_scan s;
    tc_error err;
    tc_buf out;
    tc_scan_init(&s);
    tc_buf_init(&out);
    tc_error_init(&err);
    tc_tfevents *w = tc_tfevents_new(0);
    json_t *params = json_loads("{\"lr\": 0.5, \"opt\": \"adam\", \"nest\": {\"on\": true, \"k\": 3},"
                                " \"layers\": [1, 2], \"gone\": null}", 0, NULL);
    json_t *removed = (json_t *)1;

    /* No result logged yet: nothing. */
    CHECK_INT(tc_tfevents_hparams(w, params, 5.0, &out, &removed, &err), 0);
    CHECK_INT(out.len, 0);
    CHECK(removed == NULL);

    const char *t = "{\"loss\": 0.5, \"acc\": NaN, \"h\": [1, 2], \"done\": false, \"training_iteration\": 2, \"m\": 4}";
    CHECK_INT(tc_scan_result(&s, t, strlen(t), "config", &err), 0);
    CHECK_INT(tc_tfevents_result(w, &s, 1.0, &out, &err), 0);
    tc_buf_clear(&out);
    json_t *empty = json_object();
    CHECK_INT(tc_tfevents_hparams(w, empty, 5.0, &out, NULL, &err), 0);
    CHECK_INT(out.len, 0);
    json_decref(empty);

    CHECK_INT(tc_tfevents_hparams(w, params, 5.0, &out, &removed, &err), 0);
    CHECK_INT(read_records(&out, evs, 8), 3);
    const char *tags[3] = {"_hparams_/experiment", "_hparams_/session_start_info",
                           "_hparams_/session_end_info"};
    for (int i = 0; i < 3; i++) {
        CHECK(evs[i].wall == 5.0);
        CHECK(!evs[i].has_step);
        CHECK_INT(evs[i].n, 1);
        CHECK_STR(evs[i].v[0].tag, tags[i]);
        CHECK_INT(evs[i].v[0].kind, 3);
    }
    /* Experiment: hparam_infos (4) in flatten order, then metric_infos (5). */
    rd body;
    CHECK_INT(plugin_content(&evs[0].v[0], &body), 2);
    char got[512] = "";
    size_t gl = 0;
    fld f, g, h;
    while (rd_field(&body, &f)) {
        char name[64] = "";
        uint64_t type = 0;
        if (f.num == 4) {
            while (rd_field(&f.sub, &g)) {
                if (g.num == 1) rd_string(&g.sub, name, sizeof name);
                if (g.num == 4) type = g.v;
            }
            gl += (size_t)snprintf(got + gl, sizeof got - gl, "hp %s %d;", name, (int)type);
        } else if (f.num == 5) {
            CHECK(rd_field(&f.sub, &g) && g.num == 1);
            CHECK(rd_field(&g.sub, &h) && h.num == 2);
            rd_string(&h.sub, name, sizeof name);
            gl += (size_t)snprintf(got + gl, sizeof got - gl, "metric %s;", name);
        }
    }
    CHECK_STR(got, "hp lr 3;hp opt 1;hp layers 0;hp nest/on 2;hp nest/k 3;"
                   "metric ray/tune/loss;metric ray/tune/m;");
    /* SessionStartInfo: map entries key -> google.protobuf.Value. */
    CHECK_INT(plugin_content(&evs[1].v[0], &body), 3);
    gl = 0;
    got[0] = '\0';
    while (rd_field(&body, &f)) {
        CHECK_INT(f.num, 1);
        char key[64] = "", sval[64] = "";
        while (rd_field(&f.sub, &g)) {
            if (g.num == 1) rd_string(&g.sub, key, sizeof key);
            if (g.num == 2 && rd_field(&g.sub, &h)) {
                if (h.num == 2) snprintf(sval, sizeof sval, "num %g", as_double(h.v));
                if (h.num == 3) { char sv[32]; rd_string(&h.sub, sv, sizeof sv); snprintf(sval, sizeof sval, "str %s", sv); }
                if (h.num == 4) snprintf(sval, sizeof sval, "bool %d", (int)h.v);
            }
        }
        gl += (size_t)snprintf(got + gl, sizeof got - gl, "%s=%s;", key, sval);
    }
    CHECK_STR(got, "lr=num 0.5;opt=str adam;nest/on=bool 1;nest/k=num 3;");
    /* SessionEndInfo { status = STATUS_SUCCESS (1) } */
    CHECK_INT(plugin_content(&evs[2].v[0], &body), 4);
    CHECK(rd_field(&body, &f) && f.num == 1 && f.v == 1);
    CHECK(removed != NULL && json_object_size(removed) == 1 && json_is_null(json_object_get(removed, "gone")));
    json_decref(removed);

    /* A last result without values turns hparams off again (Ray's
     * last_result is then empty). */
    t = "{\"done\": true, \"training_iteration\": 3}";
    CHECK_INT(tc_scan_result(&s, t, strlen(t), "config", &err), 0);
    tc_buf_clear(&out);
    CHECK_INT(tc_tfevents_result(w, &s, 1.0, &out, &err), 0);
    CHECK_INT(tc_tfevents_hparams(w, params, 5.0, &out, NULL, &err), 0);
    CHECK_INT(out.len, 0);
    json_decref(params);
    tc_tfevents_free(w);
    tc_scan_free(&s);
    tc_buf_free(&out);
}

static void test_filename(void)
{
    const struct { double t; const char *host; const char *want; } cases[] = {
        {1712345678.9, "node-1", "events.out.tfevents.1712345678.node-1"},
        {1000000000.0, "h", "events.out.tfevents.1000000000.h"},
        {12.99, "h", "events.out.tfevents.0000000012.h"},
    };
    tc_buf b;
    tc_buf_init(&b);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tc_buf_clear(&b);
        CHECK_INT(tc_tfevents_filename(cases[i].t, cases[i].host, &b), 0);
        CHECK_STR(b.data, cases[i].want);
    }
    tc_buf_free(&b);
}

/* Appends keep earlier bytes, and a writer reused over many results keeps
 * producing the same bytes (scratch state does not leak between results). */
static void test_reuse(void)
{
    const char *a = "{\"x\": 1.5, \"h\": [1, 2, 3, 1000], \"training_iteration\": 1}";
    const char *b = "{\"y\": [0.001, 5], \"training_iteration\": 2}";
    tc_scan s;
    tc_error err;
    tc_buf first, out;
    tc_scan_init(&s);
    tc_buf_init(&first);
    tc_buf_init(&out);
    tc_error_init(&err);
    tc_tfevents *w = tc_tfevents_new(0);
    CHECK_INT(tc_tfevents_header(&out, 3.0), 0);
    size_t hdr = out.len;
    CHECK_INT(tc_scan_result(&s, a, strlen(a), "config", &err), 0);
    CHECK_INT(tc_tfevents_result(w, &s, 3.0, &first, &err), 0);
    int bad = 0;
    for (int i = 0; i < 200; i++) {
        const char *t = i % 2 ? b : a;
        CHECK_INT(tc_scan_result(&s, t, strlen(t), "config", &err), 0);
        size_t before = out.len;
        CHECK_INT(tc_tfevents_result(w, &s, 3.0, &out, &err), 0);
        if (i % 2 == 0)
            bad += out.len - before != first.len || memcmp(out.data + before, first.data, first.len) != 0;
    }
    CHECK_INT(bad, 0);
    CHECK_INT(read_records(&out, evs, 3), 201);
    CHECK_STR(evs[0].version, "brain.Event:2");
    CHECK(hdr > 0);
    tc_tfevents_free(w);
    tc_scan_free(&s);
    tc_buf_free(&first);
    tc_buf_free(&out);
}

int main(void)
{
    test_crc();
    test_bytes();
    test_scalars();
    test_histograms();
    test_hparams();
    test_filename();
    test_reuse();
    TEST_MAIN_END();
}
