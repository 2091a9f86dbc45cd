/* log_tfevents.c — TensorBoard event files, as tensorboardX's SummaryWriter
 * writes them for Ray 0.8's TBXLogger (spec §10.5, §11.3).
 *
 * The file is a sequence of TFRecords:
 *     uint64 length (little endian) | uint32 masked CRC32C of those 8 bytes |
 *     data | uint32 masked CRC32C of data
 * with mask(crc) = ((crc >> 15) | (crc << 17)) + 0xa282ead8, where data is one
 * serialized tensorboard.Event. The first record carries
 * file_version "brain.Event:2" (tc_tfevents_header); the others a Summary.
 * (CRC32C: crc32c.c.) Protobuf is encoded by hand; the field numbers are those of tensorboard's
 * event.proto, summary.proto and plugins/hparams/{api,plugin_data}.proto.
 * Like the python protobuf runtime, fields of proto3 messages that hold their
 * default are left out, and oneof members are always written.
 *
 * What one result becomes (TBXLogger.on_result):
 *   - step: int(timesteps_total) when it is a number (or true) and truthy,
 *     else int(training_iteration); no step when neither converts (Ray would
 *     raise there: a logger must not end the run);
 *   - the keys config, pid, timestamp, time_total_s and training_iteration are
 *     left out (with anything nested under them);
 *   - numbers, NaN excepted, are scalars (simple_value, a float32) and
 *     non-empty lists of numbers (nested lists too, when rectangular, as
 *     numpy would build the array) are histograms, under the tag
 *     "ray/tune/<flattened key>" cleaned as tensorboardX's _clean_tag does;
 *     booleans, strings, null and anything else are skipped.
 * Histograms follow tensorboardX's make_histogram over SummaryWriter's
 * default bins (the edges ±1e-12 * 1.1^k below 1e20, and 0): the non-empty
 * range of np.histogram's counts with one empty bin on its left, bucket_limit
 * holding each bin's right edge; min/max/num/sum as numpy computes them (sum
 * with numpy's pairwise summation, so it is bit-identical).
 *
 * Known differences from tensorboardX, none visible to a reader that indexes
 * by tag: by default one Event holds every value of a result (tensorboardX
 * writes one Event per value; tc_tfevents_new(1) does that too); values come
 * in the text order of the result (depth first), where flatten_dict orders
 * them breadth first; sum_squares is a plain sum of squares where numpy uses
 * BLAS ddot (the last bits may differ), and for long lists numpy's vectorised
 * min/max may choose between 0.0 and -0.0 otherwise; _clean_tag's Unicode \w is exact for
 * ASCII and Latin-1 and approximated above (symbol, punctuation and emoji
 * blocks are non-word, other code points word); lists holding numeric strings
 * ("1.5"), which numpy would convert, are skipped.
 *
 * Invariants: no I/O — every function appends to a caller-owned tc_buf and
 * leaves it as it was on failure; once a writer's scratch buffers have grown,
 * tc_tfevents_result allocates nothing.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "tunec.h"


#define MAX_LIST_DEPTH 32
#define N_POS_EDGES 774            /* 1e-12 * 1.1^k < 1e20 */
#define N_BINS (2 * N_POS_EDGES)   /* 1549 edges, 1548 bins */

static const double pos_edges[N_POS_EDGES];


/* ------------------------------------------------------------------------- */
/* Protobuf wire format, written into reserved space                          */
/* ------------------------------------------------------------------------- */

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };
#define KEY(field, wt) ((char)(((field) << 3) | (wt)))   /* fields below 16 */

static size_t varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static char *put_varint(char *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (char)(v | 0x80);
        v >>= 7;
    }
    *p++ = (char)v;
    return p;
}

static char *put_u32le(char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (char)(v >> (8 * i));
    return p + 4;
}

static char *put_u64le(char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (char)(v >> (8 * i));
    return p + 8;
}

static uint64_t double_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static char *put_double(char *p, double d)
{
    return put_u64le(p, double_bits(d));
}

/* IEEE double -> float32, as the python protobuf runtime (upb) converts a
 * float field: round to nearest, infinity past FLT_MAX's rounding range
 * (defined behaviour under C's Annex F, which GCC and clang follow). */
static float to_float32(double d)
{
    return (float)d;
}

static char *put_float(char *p, double d)
{
    float f = to_float32(d);
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return put_u32le(p, u);
}

/* ------------------------------------------------------------------------- */
/* TFRecord framing                                                           */
/* ------------------------------------------------------------------------- */

/* Appends the record header for `len` bytes of data and returns where the
 * data goes (out must have room for 12 + len + 4 bytes reserved). */
static char *record_open(tc_buf *out, size_t len)
{
    char *p = out->data + out->len;
    put_u64le(p, (uint64_t)len);
    put_u32le(p + 8, tc_crc32c_masked(p, 8));
    return p + 12;
}

/* Closes a record whose data (len bytes) was written at `data`. */
static void record_close(tc_buf *out, const char *data, size_t len)
{
    put_u32le((char *)data + len, tc_crc32c_masked(data, len));
    out->len = (size_t)(data + len + 4 - out->data);
    out->data[out->len] = '\0';
}

int tc_tfevents_record(tc_buf *out, const char *data, size_t len)
{
    if (tc_buf_reserve(out, len + 16) < 0)
        return -1;
    char *p = record_open(out, len);
    memcpy(p, data, len);
    record_close(out, p, len);
    return 0;
}

/* Appends one Event record: wall_time, the step (when has_step), then a
 * summary whose serialized bytes are given. */
static int put_event(tc_buf *out, double wall_time, int has_step, int64_t step,
                     const char *summary, size_t summary_len)
{
    /* proto3: a step of 0 is the default and is not written. */
    int write_step = has_step && step != 0;
    size_t len = 9 + (write_step ? 1 + varint_size((uint64_t)step) : 0) + 1 +
                 varint_size(summary_len) + summary_len;
    if (tc_buf_reserve(out, len + 16) < 0)
        return -1;
    char *data = record_open(out, len), *p = data;
    *p++ = KEY(1, WT_I64);
    p = put_double(p, wall_time);
    if (write_step) {
        *p++ = KEY(2, WT_VARINT);
        p = put_varint(p, (uint64_t)step);  /* int64: negatives take ten bytes */
    }
    *p++ = KEY(5, WT_LEN);
    p = put_varint(p, summary_len);
    memcpy(p, summary, summary_len);
    record_close(out, data, len);
    return 0;
}

int tc_tfevents_header(tc_buf *out, double wall_time)
{
    static const char version[] = "brain.Event:2";
    size_t vlen = sizeof version - 1;
    size_t len = 9 + 1 + 1 + vlen;
    if (tc_buf_reserve(out, len + 16) < 0)
        return -1;
    char *data = record_open(out, len), *p = data;
    *p++ = KEY(1, WT_I64);
    p = put_double(p, wall_time);
    *p++ = KEY(3, WT_LEN);
    *p++ = (char)vlen;
    memcpy(p, version, vlen);
    record_close(out, data, len);
    return 0;
}

/* tensorboardX's name: "events.out.tfevents." + str(time.time())[:10] + "." +
 * hostname — the whole seconds for any time from 2001 to 2286, written here
 * as %010d of the truncated time. */
int tc_tfevents_filename(double wall_time, const char *hostname, tc_buf *out)
{
    long long secs = isfinite(wall_time) ? (long long)wall_time : 0;
    return tc_buf_printf(out, "events.out.tfevents.%010lld.%s", secs, hostname ? hostname : "");
}

/* ------------------------------------------------------------------------- */
/* The per-trial writer                                                       */
/* ------------------------------------------------------------------------- */

struct tc_tfevents {
    int per_value;          /* one Event per value (tensorboardX), else per result */
    tc_buf summary;         /* serialized Summary.value entries of this result */
    size_t *ends;           /* end offset in `summary` of each entry */
    size_t n_ends, cap_ends;
    tc_buf tag;             /* one cleaned tag */
    double *vals;           /* a histogram's values */
    short *bins;            /* and their bins (-1: outside the edges) */
    size_t n_vals, cap_vals;
    double *counts;         /* counts of bins [lo, hi] */
    size_t cap_counts;
    tc_buf last_keys;       /* the last result's scalar tags, raw, NUL separated */
    size_t n_last_keys;
    size_t last_valid;      /* scalars + non-empty lists in the last result */
};

/* new, NULL on ENOMEM */
tc_tfevents *tc_tfevents_new(int one_event_per_value)
{
    tc_tfevents *w = tc_calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->per_value = one_event_per_value != 0;
    tc_buf_init(&w->summary);
    tc_buf_init(&w->tag);
    tc_buf_init(&w->last_keys);
    return w;
}

void tc_tfevents_free(tc_tfevents *w)
{
    if (!w)
        return;
    tc_buf_free(&w->summary);
    tc_buf_free(&w->tag);
    tc_buf_free(&w->last_keys);
    tc_free(w->ends);
    tc_free(w->vals);
    tc_free(w->bins);
    tc_free(w->counts);
    tc_free(w);
}

static int push_end(tc_tfevents *w)
{
    if (w->n_ends == w->cap_ends) {
        size_t cap = w->cap_ends ? 2 * w->cap_ends : 32;
        size_t *grown = tc_realloc(w->ends, cap * sizeof *grown);
        if (!grown)
            return -1;
        w->ends = grown;
        w->cap_ends = cap;
    }
    w->ends[w->n_ends++] = w->summary.len;
    return 0;
}

/* --- tags ---------------------------------------------------------------- */

/* Python's \w for a non-ASCII code point (see the header comment). */
static int unicode_word(uint32_t cp)
{
    if (cp < 0x100)
        return cp == 0xaa || cp == 0xb2 || cp == 0xb3 || cp == 0xb5 || cp == 0xb9 || cp == 0xba ||
               (cp >= 0xbc && cp <= 0xbe) || (cp >= 0xc0 && cp != 0xd7 && cp != 0xf7);
    if ((cp >= 0x2000 && cp <= 0x206f) ||    /* general punctuation */
        (cp >= 0x20a0 && cp <= 0x20cf) ||    /* currency */
        (cp >= 0x2190 && cp <= 0x245f) ||    /* arrows, operators, technical */
        (cp >= 0x2500 && cp <= 0x2775) ||    /* box drawing .. dingbats */
        (cp >= 0x2794 && cp <= 0x2bff) ||
        (cp >= 0x1f300 && cp <= 0x1faff) ||  /* pictographs, emoji */
        cp == 0xfffd)
        return 0;
    return 1;
}

static int ascii_word(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_';
}

/* w->tag = _clean_tag("ray/tune/" + key): characters outside [-/\w.] become
 * "_" (one per character, not per byte). */
static int make_tag(tc_tfevents *w, const char *key, size_t n)
{
    tc_buf_clear(&w->tag);
    if (tc_buf_reserve(&w->tag, 9 + n) < 0)
        return -1;
    char *p = w->tag.data;
    memcpy(p, "ray/tune/", 9);
    p += 9;
    const unsigned char *s = (const unsigned char *)key, *end = s + n;
    while (s < end) {
        unsigned char c = *s;
        if (c < 0x80) {
            *p++ = ascii_word(c) || c == '-' || c == '/' || c == '.' ? (char)c : '_';
            s++;
            continue;
        }
        /* Decode one UTF-8 sequence; a malformed byte counts as one character. */
        size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
        uint32_t cp = len == 4 ? c & 0x07u : len == 3 ? c & 0x0fu : c & 0x1fu;
        if (len == 1 || (size_t)(end - s) < len) {
            len = 1;
            cp = 0xfffd;
        } else {
            for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80) {
                    len = 1;
                    cp = 0xfffd;
                    break;
                }
                cp = (cp << 6) | (s[i] & 0x3fu);
            }
        }
        if (unicode_word(cp)) {
            memcpy(p, s, len);
            p += len;
        } else {
            *p++ = '_';
        }
        s += len;
    }
    w->tag.len = (size_t)(p - w->tag.data);
    w->tag.data[w->tag.len] = '\0';
    return 0;
}

/* --- scalars ------------------------------------------------------------- */

/* Summary.value entry { tag = 1; simple_value = 2 } */
static int add_scalar(tc_tfevents *w, double v)
{
    size_t t = w->tag.len;
    size_t body = 1 + varint_size(t) + t + 5;
    if (tc_buf_reserve(&w->summary, 1 + varint_size(body) + body) < 0)
        return -1;
    char *p = w->summary.data + w->summary.len;
    *p++ = KEY(1, WT_LEN);
    p = put_varint(p, body);
    *p++ = KEY(1, WT_LEN);
    p = put_varint(p, t);
    memcpy(p, w->tag.data, t);
    p += t;
    *p++ = KEY(2, WT_I32);
    p = put_float(p, v);
    w->summary.len = (size_t)(p - w->summary.data);
    return push_end(w);
}

/* --- histograms ---------------------------------------------------------- */

static int push_val(tc_tfevents *w, double v)
{
    if (w->n_vals == w->cap_vals) {
        size_t cap = w->cap_vals ? 2 * w->cap_vals : 64;
        double *vals = tc_realloc(w->vals, cap * sizeof *vals);
        if (!vals)
            return -1;
        w->vals = vals;
        short *bins = tc_realloc(w->bins, cap * sizeof *bins);
        if (!bins)
            return -1;
        w->bins = bins;
        w->cap_vals = cap;
    }
    w->vals[w->n_vals++] = v;
    return 0;
}

typedef struct list_parser {
    tc_tfevents *w;
    const char *p, *end;
    long len_at[MAX_LIST_DEPTH];   /* element count of every list at a depth, -1 unseen */
    char kind_at[MAX_LIST_DEPTH];  /* 0 unseen, 1 numbers, 2 lists */
} list_parser;

static void lp_ws(list_parser *lp)
{
    while (lp->p < lp->end &&
           (*lp->p == ' ' || *lp->p == '\n' || *lp->p == '\r' || *lp->p == '\t'))
        lp->p++;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* One list element that numpy reads as a number: a JSON number, NaN,
 * Infinity, -Infinity, true (1) or false (0). 1 and *out set, or 0. */
static int lp_number(list_parser *lp, double *out)
{
    static const struct { const char *text; size_t len; double value; } words[] = {
        {"true", 4, 1.0}, {"false", 5, 0.0}, {"NaN", 3, NAN},
        {"Infinity", 8, INFINITY}, {"-Infinity", 9, -INFINITY},
    };
    const char *s = lp->p, *end = lp->end;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if ((size_t)(end - s) >= words[i].len && memcmp(s, words[i].text, words[i].len) == 0) {
            lp->p = s + words[i].len;
            *out = words[i].value;
            return 1;
        }
    }
    /* JSON's grammar, checked before strtod (which accepts hex, "inf", ...). */
    const char *q = s;
    if (q < end && *q == '-')
        q++;
    if (q >= end || !is_digit(*q))
        return 0;
    if (*q == '0')
        q++;
    else
        while (q < end && is_digit(*q))
            q++;
    if (q < end && *q == '.') {
        q++;
        if (q >= end || !is_digit(*q))
            return 0;
        while (q < end && is_digit(*q))
            q++;
    }
    if (q < end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < end && (*q == '+' || *q == '-'))
            q++;
        if (q >= end || !is_digit(*q))
            return 0;
        while (q < end && is_digit(*q))
            q++;
    }
    /* The token is followed by ',', ']' or space inside the list's text, so
     * strtod stops where the grammar did. */
    char *stop;
    *out = strtod(s, &stop);
    if (stop != q)
        return 0;
    lp->p = q;
    return 1;
}

/* Parses the list at lp->p ('['), appending its numbers to w->vals.
 * 1: a rectangular list of numbers; 0: not one (numpy would fail or build an
 * object array); -1: ENOMEM. */
static int lp_list(list_parser *lp, int depth)
{
    long count = 0;
    lp->p++;   /* '[' */
    lp_ws(lp);
    if (lp->p < lp->end && *lp->p == ']') {
        lp->p++;
    } else {
        for (;;) {
            lp_ws(lp);
            if (lp->p >= lp->end)
                return 0;
            char kind = *lp->p == '[' ? 2 : 1;
            if (lp->kind_at[depth] == 0)
                lp->kind_at[depth] = kind;
            else if (lp->kind_at[depth] != kind)
                return 0;   /* ragged: numbers beside lists */
            if (kind == 2) {
                if (depth + 1 >= MAX_LIST_DEPTH)
                    return 0;
                int rc = lp_list(lp, depth + 1);
                if (rc <= 0)
                    return rc;
            } else {
                double v;
                if (!lp_number(lp, &v))
                    return 0;
                if (push_val(lp->w, v) < 0)
                    return -1;
            }
            count++;
            lp_ws(lp);
            if (lp->p < lp->end && *lp->p == ',') {
                lp->p++;
                continue;
            }
            if (lp->p < lp->end && *lp->p == ']') {
                lp->p++;
                break;
            }
            return 0;
        }
    }
    if (lp->len_at[depth] < 0)
        lp->len_at[depth] = count;
    else if (lp->len_at[depth] != count)
        return 0;   /* ragged: lists of different lengths */
    return 1;
}

/* The default edges, ascending: -pos[773] .. -pos[0], 0, pos[0] .. pos[773]. */
static double edge(int i)
{
    if (i < N_POS_EDGES)
        return -pos_edges[N_POS_EDGES - 1 - i];
    if (i == N_POS_EDGES)
        return 0.0;
    return pos_edges[i - N_POS_EDGES - 1];
}

/* np.histogram's bin of x over the default edges: bin i is [edge(i),
 * edge(i+1)), the last one closed; -1 outside them (and for NaN). */
static int bin_of(double x)
{
    if (x > 0) {
        /* j = how many positive edges are <= x */
        size_t lo = 0, hi = N_POS_EDGES;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (pos_edges[mid] <= x)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == N_POS_EDGES)
            return x == pos_edges[N_POS_EDGES - 1] ? N_BINS - 1 : -1;
        return N_POS_EDGES + (int)lo;
    }
    if (x == 0)
        return N_POS_EDGES;
    if (x < 0) {
        /* k = how many positive edges are < -x */
        double a = -x;
        size_t lo = 0, hi = N_POS_EDGES;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (pos_edges[mid] < a)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == N_POS_EDGES)
            return -1;
        return N_POS_EDGES - 1 - (int)lo;
    }
    return -1;   /* NaN */
}

/* numpy's pairwise summation (DOUBLE_pairwise_sum), so that sum matches
 * ndarray.sum() bit for bit. */
static double pairwise_sum(const double *a, size_t n)
{
    if (n < 8) {
        double res = -0.0;
        for (size_t i = 0; i < n; i++)
            res += a[i];
        return res;
    }
    if (n <= 128) {
        double r[8];
        size_t i;
        for (i = 0; i < 8; i++)
            r[i] = a[i];
        for (i = 8; i < n - (n % 8); i += 8)
            for (size_t j = 0; j < 8; j++)
                r[j] += a[i + j];
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++)
            res += a[i];
        return res;
    }
    size_t n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2);
}

static size_t opt_double_size(double d)
{
    return double_bits(d) ? 9 : 0;
}

static char *put_opt_double(char *p, int field, double d)
{
    if (!double_bits(d))
        return p;   /* proto3 default */
    *p++ = KEY(field, WT_I64);
    return put_double(p, d);
}

/* The list field f as a histogram entry (tag already in w->tag). Returns 1
 * when written, 0 when the list is not one (skipped), -1 on ENOMEM. */
static int add_histogram(tc_tfevents *w, const tc_scan *s, const tc_field *f)
{
    list_parser lp;
    lp.w = w;
    lp.p = s->text + f->val_off;
    lp.end = lp.p + f->val_len;
    for (int i = 0; i < MAX_LIST_DEPTH; i++) {
        lp.len_at[i] = -1;
        lp.kind_at[i] = 0;
    }
    w->n_vals = 0;
    int rc = lp_list(&lp, 0);
    if (rc <= 0)
        return rc;
    size_t n = w->n_vals;
    if (n == 0)
        return 0;   /* "The input has no element." */

    const double *v = w->vals;
    double mn = INFINITY, mx = -INFINITY, sum_sq = 0;
    int has_nan = 0, lo = N_BINS, hi = -1;
    for (size_t i = 0; i < n; i++) {
        double x = v[i];
        if (isnan(x)) {
            has_nan = 1;
        } else {
            /* On a tie (0.0 and -0.0) the later value wins, as in numpy's
             * min/max loops (x86 minsd/maxsd return their second operand). */
            if (x <= mn) mn = x;
            if (x >= mx) mx = x;
        }
        sum_sq += x * x;
        int b = bin_of(x);
        w->bins[i] = (short)b;
        if (b >= 0) {
            if (b < lo) lo = b;
            if (b > hi) hi = b;
        }
    }
    if (hi < 0)
        return 0;   /* nothing inside the edges: tensorboardX raises "empty" */
    if (has_nan)
        mn = mx = NAN;   /* ndarray.min()/max() propagate NaN */
    double sum = 0.0 + pairwise_sum(v, n);

    size_t nb = (size_t)(hi - lo + 1);
    if (nb > w->cap_counts) {
        double *counts = tc_realloc(w->counts, nb * sizeof *counts);
        if (!counts)
            return -1;
        w->counts = counts;
        w->cap_counts = nb;
    }
    memset(w->counts, 0, nb * sizeof *w->counts);
    for (size_t i = 0; i < n; i++)
        if (w->bins[i] >= 0)
            w->counts[w->bins[i] - lo] += 1;

    /* m buckets: the empty one left of lo, then lo..hi; limits are the right
     * edges, edge(lo) .. edge(hi + 1). */
    size_t m = nb + 1;
    size_t packed = 8 * m;
    size_t histo = opt_double_size(mn) + opt_double_size(mx) + opt_double_size((double)n) +
                   opt_double_size(sum) + opt_double_size(sum_sq) +
                   2 * (1 + varint_size(packed) + packed);
    size_t t = w->tag.len;
    size_t body = 1 + varint_size(t) + t + 1 + varint_size(histo) + histo;
    if (tc_buf_reserve(&w->summary, 1 + varint_size(body) + body) < 0)
        return -1;
    char *p = w->summary.data + w->summary.len;
    *p++ = KEY(1, WT_LEN);
    p = put_varint(p, body);
    *p++ = KEY(1, WT_LEN);
    p = put_varint(p, t);
    memcpy(p, w->tag.data, t);
    p += t;
    *p++ = KEY(5, WT_LEN);
    p = put_varint(p, histo);
    p = put_opt_double(p, 1, mn);
    p = put_opt_double(p, 2, mx);
    p = put_opt_double(p, 3, (double)n);
    p = put_opt_double(p, 4, sum);
    p = put_opt_double(p, 5, sum_sq);
    *p++ = KEY(6, WT_LEN);
    p = put_varint(p, packed);
    for (size_t j = 0; j < m; j++)
        p = put_double(p, edge(lo + (int)j));
    *p++ = KEY(7, WT_LEN);
    p = put_varint(p, packed);
    p = put_double(p, 0.0);
    for (size_t j = 0; j < nb; j++)
        p = put_double(p, w->counts[j]);
    w->summary.len = (size_t)(p - w->summary.data);
    if (push_end(w) < 0)
        return -1;
    return 1;
}

/* --- one result ---------------------------------------------------------- */

/* int(value) of a step candidate, as Ray's event.step = int(step): booleans
 * and finite numbers that fit an int64 (truncated toward zero). */
static int field_int64(const tc_scan *s, const tc_field *f, int64_t *out)
{
    if (f->type == TC_F_TRUE || f->type == TC_F_FALSE) {
        *out = f->type == TC_F_TRUE;
        return 1;
    }
    if (f->type != TC_F_NUMBER || !isfinite(f->num))
        return 0;
    if (f->is_int && f->val_len < 24) {
        /* Exact, where the double may have rounded a large integer. */
        char tmp[24];
        memcpy(tmp, s->text + f->val_off, f->val_len);
        tmp[f->val_len] = '\0';
        char *endp;
        errno = 0;
        long long ll = strtoll(tmp, &endp, 10);
        if (*endp == '\0' && errno == 0) {
            *out = ll;
            return 1;
        }
    }
    double t = trunc(f->num);
    if (!(t >= -9223372036854775808.0 && t < 9223372036854775808.0))
        return 0;   /* protobuf rejects it: no step */
    *out = (int64_t)t;
    return 1;
}

/* Keys TBXLogger deletes before flattening (spec §10.5); a nested dict under
 * one of them goes with it. */
static int removed_key(const char *key, size_t n)
{
    const char *slash = memchr(key, '/', n);
    size_t head = slash ? (size_t)(slash - key) : n;
    switch (head) {
    case 3: return memcmp(key, "pid", 3) == 0;
    case 6: return memcmp(key, "config", 6) == 0;
    case 9: return memcmp(key, "timestamp", 9) == 0;
    case 12: return memcmp(key, "time_total_s", 12) == 0;
    case 18: return memcmp(key, "training_iteration", 18) == 0;
    }
    return 0;
}

static int remember_key(tc_tfevents *w, const char *key, size_t n)
{
    if (tc_buf_reserve(&w->last_keys, 9 + n + 1) < 0)
        return -1;
    char *p = w->last_keys.data + w->last_keys.len;
    memcpy(p, "ray/tune/", 9);
    memcpy(p + 9, key, n);
    p[9 + n] = '\0';
    w->last_keys.len += 9 + n + 1;
    w->n_last_keys++;
    return 0;
}

int tc_tfevents_result(tc_tfevents *w, const tc_scan *s, double wall_time, tc_buf *out,
                       tc_error *err)
{
    size_t out_len = out->len;
    long ts = -1, ti = -1;
    tc_buf_clear(&w->summary);
    tc_buf_clear(&w->last_keys);
    w->n_ends = 0;
    w->n_last_keys = 0;
    w->last_valid = 0;

    for (size_t i = 0; i < s->n; i++) {
        const tc_field *f = &s->fields[i];
        const char *key = tc_scan_key(s, f);
        size_t n = f->key_len;
        if (n == 15 && memcmp(key, "timesteps_total", 15) == 0)
            ts = (long)i;
        else if (n == 18 && memcmp(key, "training_iteration", 18) == 0)
            ti = (long)i;
        if (removed_key(key, n))
            continue;
        if (f->type == TC_F_NUMBER) {
            if (isnan(f->num))
                continue;
            if (make_tag(w, key, n) < 0 || add_scalar(w, f->num) < 0 ||
                remember_key(w, key, n) < 0)
                goto nomem;
            w->last_valid++;
        } else if (f->type == TC_F_LIST && tc_field_truthy(s, f)) {
            /* Ray keeps a non-empty list in last_result even when
             * tensorboardX then refuses it. */
            w->last_valid++;
            if (make_tag(w, key, n) < 0 || add_histogram(w, s, f) < 0)
                goto nomem;
        }
    }
    if (w->n_ends == 0)
        return 0;   /* nothing to log: tensorboardX writes no event */

    int64_t step = 0;
    int has_step = 0;
    if (ts >= 0 && tc_field_truthy(s, &s->fields[ts]))
        has_step = field_int64(s, &s->fields[ts], &step);
    if (!has_step && ti >= 0)
        has_step = field_int64(s, &s->fields[ti], &step);

    if (!w->per_value) {
        if (put_event(out, wall_time, has_step, step, w->summary.data, w->summary.len) < 0)
            goto nomem;
        return 0;
    }
    /* Each entry is by itself a Summary holding one value. */
    size_t start = 0;
    for (size_t i = 0; i < w->n_ends; i++) {
        if (put_event(out, wall_time, has_step, step, w->summary.data + start,
                      w->ends[i] - start) < 0)
            goto nomem;
        start = w->ends[i];
    }
    return 0;
nomem:
    out->len = out_len;
    out->failed = 0;   /* back to the complete text it held */
    if (out->data)
        out->data[out_len] = '\0';
    return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
}

/* ------------------------------------------------------------------------- */
/* HParams at close (TBXLogger._try_log_hparams → tensorboardX's hparams())   */
/* ------------------------------------------------------------------------- */

static int pb_varint(tc_buf *b, uint64_t v)
{
    char tmp[10];
    return tc_buf_append(b, tmp, (size_t)(put_varint(tmp, v) - tmp));
}

static int pb_bytes(tc_buf *b, int field, const char *data, size_t n)
{
    if (tc_buf_putc(b, KEY(field, WT_LEN)) < 0 || pb_varint(b, n) < 0)
        return -1;
    return n ? tc_buf_append(b, data, n) : 0;
}

static int pb_small(tc_buf *b, int field, unsigned v)   /* a varint below 128 */
{
    char tmp[2] = {KEY(field, WT_VARINT), (char)v};
    return tc_buf_append(b, tmp, 2);
}

typedef struct hp_ctx {
    tc_buf infos;       /* Experiment: hparam_infos (4) then metric_infos (5) */
    tc_buf ssi;         /* SessionStartInfo: hparams map entries (1) */
    tc_buf val, info, entry;
    json_t *removed;    /* new object, or NULL when the caller does not ask */
} hp_ctx;

enum { DT_UNSET = 0, DT_STRING = 1, DT_BOOL = 2, DT_FLOAT64 = 3 };

/* One flattened param (value borrowed). Ray keeps str, bool, int, float and
 * list values; tensorboardX gives a list an HParamInfo of type UNSET and no
 * value. Other values (None) are removed and reported. */
static int hp_visit(void *ctx, const char *key, size_t key_len, json_t *value)
{
    hp_ctx *h = ctx;
    int type;
    tc_buf_clear(&h->val);   /* google.protobuf.Value; its oneof member is always written */
    if (tc_json_is_number_marker(value) || json_is_number(value)) {
        double d = 0;
        tc_json_number(value, &d);
        char tmp[9];
        tmp[0] = KEY(2, WT_I64);   /* number_value */
        put_double(tmp + 1, d);
        if (tc_buf_append(&h->val, tmp, 9) < 0)
            return -1;
        type = DT_FLOAT64;
    } else if (json_is_string(value)) {
        if (pb_bytes(&h->val, 3, json_string_value(value), json_string_length(value)) < 0)
            return -1;
        type = DT_STRING;
    } else if (json_is_boolean(value)) {
        if (pb_small(&h->val, 4, json_is_true(value)) < 0)
            return -1;
        type = DT_BOOL;
    } else if (json_is_array(value)) {
        type = DT_UNSET;
    } else {
        if (h->removed && json_object_setn(h->removed, key, key_len, value) < 0)
            return -1;
        return 0;
    }
    /* HParamInfo { name = 1; type = 4 } */
    tc_buf_clear(&h->info);
    if (pb_bytes(&h->info, 1, key, key_len) < 0 ||
        (type != DT_UNSET && pb_small(&h->info, 4, (unsigned)type) < 0) ||
        pb_bytes(&h->infos, 4, h->info.data, h->info.len) < 0)
        return -1;
    if (type == DT_UNSET)
        return 0;
    /* map<string, Value> entry { key = 1; value = 2 } */
    tc_buf_clear(&h->entry);
    if (pb_bytes(&h->entry, 1, key, key_len) < 0 ||
        pb_bytes(&h->entry, 2, h->val.data, h->val.len) < 0 ||
        pb_bytes(&h->ssi, 1, h->entry.data, h->entry.len) < 0)
        return -1;
    return 0;
}

/* Event { wall_time; summary { value { tag; metadata { plugin_data {
 * plugin_name "hparams"; content: HParamsPluginData { data_field: msg } } } } } }
 * (version 0 is the default, left out; add_summary sets no step). */
static int hp_event(tc_buf *out, double wall_time, const char *tag, int data_field,
                    const char *msg, size_t msg_len, tc_buf *a, tc_buf *b)
{
    tc_buf_clear(a);
    if (pb_bytes(a, data_field, msg, msg_len) < 0)
        return -1;
    tc_buf_clear(b);
    if (pb_bytes(b, 1, "hparams", 7) < 0 || pb_bytes(b, 2, a->data, a->len) < 0)
        return -1;
    tc_buf_clear(a);
    if (pb_bytes(a, 1, b->data, b->len) < 0)   /* SummaryMetadata.plugin_data */
        return -1;
    tc_buf_clear(b);
    if (pb_bytes(b, 1, tag, strlen(tag)) < 0 || pb_bytes(b, 9, a->data, a->len) < 0)
        return -1;
    tc_buf_clear(a);
    if (pb_bytes(a, 1, b->data, b->len) < 0)   /* Summary.value */
        return -1;
    return put_event(out, wall_time, 0, 0, a->data, a->len);
}

int tc_tfevents_hparams(tc_tfevents *w, const json_t *evaluated_params, double wall_time,
                        tc_buf *out, json_t **removed, tc_error *err)
{
    size_t out_len = out->len;
    int rc = -1;
    hp_ctx h;
    tc_buf key, a, b;
    memset(&h, 0, sizeof h);
    tc_buf_init(&key);
    tc_buf_init(&a);
    tc_buf_init(&b);
    if (removed)
        *removed = NULL;
    /* Ray: only with evaluated params and a non-empty last result. */
    if (!json_is_object(evaluated_params) || json_object_size(evaluated_params) == 0 ||
        w->last_valid == 0)
        return 0;
    if (removed && !(h.removed = json_object()))
        goto nomem;
    if (tc_flatten_walk(evaluated_params, "/", NULL, &key, hp_visit, &h) < 0)
        goto nomem;
    /* MetricInfo { name = 1: MetricName { tag = 2 } } for the last result's
     * scalars, under their raw "ray/tune/..." keys, in flatten_dict's order:
     * the scan's text order taken one nesting depth at a time. */
    size_t max_depth = 0, emitted = 0;
    for (size_t depth = 0; depth <= max_depth && emitted < w->n_last_keys; depth++) {
        const char *k = w->last_keys.data;
        for (size_t i = 0; i < w->n_last_keys; i++) {
            size_t n = strlen(k), d = 0;
            for (size_t j = 9; j < n; j++)   /* after "ray/tune/" */
                d += k[j] == '/';
            if (d > max_depth)
                max_depth = d;
            if (d == depth) {
                tc_buf_clear(&h.entry);
                tc_buf_clear(&h.info);
                if (pb_bytes(&h.entry, 2, k, n) < 0 ||
                    pb_bytes(&h.info, 1, h.entry.data, h.entry.len) < 0 ||
                    pb_bytes(&h.infos, 5, h.info.data, h.info.len) < 0)
                    goto nomem;
                emitted++;
            }
            k += n + 1;
        }
    }
    static const char session_end[] = {KEY(1, WT_VARINT), 1};   /* STATUS_SUCCESS */
    if (hp_event(out, wall_time, "_hparams_/experiment", 2, h.infos.data, h.infos.len, &a,
                 &b) < 0 ||
        hp_event(out, wall_time, "_hparams_/session_start_info", 3, h.ssi.data, h.ssi.len, &a,
                 &b) < 0 ||
        hp_event(out, wall_time, "_hparams_/session_end_info", 4, session_end,
                 sizeof session_end, &a, &b) < 0)
        goto nomem;
    if (removed && json_object_size(h.removed) > 0) {
        *removed = h.removed;
        h.removed = NULL;
    }
    rc = 0;
    goto done;
nomem:
    out->len = out_len;
    out->failed = 0;   /* back to the complete text it held */
    if (out->data)
        out->data[out_len] = '\0';
    tc_error_set(err, TC_ERR_NOMEM, "out of memory");
done:
    json_decref(h.removed);
    tc_buf_free(&h.infos);
    tc_buf_free(&h.ssi);
    tc_buf_free(&h.val);
    tc_buf_free(&h.info);
    tc_buf_free(&h.entry);
    tc_buf_free(&key);
    tc_buf_free(&a);
    tc_buf_free(&b);
    return rc;
}

/* ------------------------------------------------------------------------- */
/* Tables                                                                     */
/* ------------------------------------------------------------------------- */

/* CRC32C of each byte value (reflected 0x82f63b78); test_tfevents.c
 * recomputes it bit by bit. */
static const double pos_edges[N_POS_EDGES] = {
    1e-12, 1.1000000000000002e-12, 1.2100000000000003e-12, 1.3310000000000005e-12,
    1.4641000000000006e-12, 1.6105100000000008e-12, 1.771561000000001e-12, 1.9487171000000014e-12,
    2.1435888100000016e-12, 2.357947691000002e-12, 2.593742460100002e-12, 2.8531167061100027e-12,
    3.1384283767210032e-12, 3.452271214393104e-12, 3.797498335832415e-12, 4.177248169415657e-12,
    4.594972986357223e-12, 5.054470284992946e-12, 5.559917313492241e-12, 6.115909044841466e-12,
    6.727499949325613e-12, 7.400249944258175e-12, 8.140274938683992e-12, 8.954302432552392e-12,
    9.849732675807632e-12, 1.0834705943388396e-11, 1.1918176537727236e-11, 1.310999419149996e-11,
    1.4420993610649957e-11, 1.5863092971714956e-11, 1.7449402268886454e-11, 1.91943424957751e-11,
    2.111377674535261e-11, 2.3225154419887876e-11, 2.5547669861876665e-11, 2.8102436848064334e-11,
    3.091268053287077e-11, 3.400394858615785e-11, 3.7404343444773633e-11, 4.1144777789251e-11,
    4.5259255568176104e-11, 4.978518112499372e-11, 5.4763699237493095e-11, 6.02400691612424e-11,
    6.626407607736665e-11, 7.289048368510333e-11, 8.017953205361366e-11, 8.819748525897503e-11,
    9.701723378487254e-11, 1.067189571633598e-10, 1.173908528796958e-10, 1.291299381676654e-10,
    1.4204293198443196e-10, 1.5624722518287518e-10, 1.718719477011627e-10, 1.89059142471279e-10,
    2.079650567184069e-10, 2.287615623902476e-10, 2.516377186292724e-10, 2.7680149049219964e-10,
    3.0448163954141963e-10, 3.349298034955616e-10, 3.684227838451178e-10, 4.0526506222962957e-10,
    4.4579156845259254e-10, 4.903707252978519e-10, 5.394077978276371e-10, 5.933485776104008e-10,
    6.52683435371441e-10, 7.179517789085851e-10, 7.897469567994436e-10, 8.68721652479388e-10,
    9.55593817727327e-10, 1.0511531995000597e-09, 1.1562685194500657e-09, 1.2718953713950723e-09,
    1.3990849085345797e-09, 1.5389933993880379e-09, 1.6928927393268418e-09, 1.8621820132595262e-09,
    2.048400214585479e-09, 2.253240236044027e-09, 2.47856425964843e-09, 2.7264206856132736e-09,
    2.9990627541746013e-09, 3.2989690295920617e-09, 3.628865932551268e-09, 3.991752525806396e-09,
    4.390927778387036e-09, 4.830020556225739e-09, 5.313022611848313e-09, 5.8443248730331455e-09,
    6.428757360336461e-09, 7.071633096370107e-09, 7.778796406007119e-09, 8.556676046607832e-09,
    9.412343651268615e-09, 1.0353578016395478e-08, 1.1388935818035027e-08, 1.2527829399838531e-08,
    1.3780612339822385e-08, 1.5158673573804625e-08, 1.667454093118509e-08, 1.83419950243036e-08,
    2.017619452673396e-08, 2.219381397940736e-08, 2.4413195377348097e-08, 2.6854514915082908e-08,
    2.95399664065912e-08, 3.249396304725032e-08, 3.574335935197536e-08, 3.9317695287172896e-08,
    4.324946481589019e-08, 4.757441129747921e-08, 5.2331852427227134e-08, 5.756503766994985e-08,
    6.332154143694484e-08, 6.965369558063933e-08, 7.661906513870326e-08, 8.42809716525736e-08,
    9.270906881783097e-08, 1.0197997569961407e-07, 1.1217797326957548e-07, 1.2339577059653305e-07,
    1.3573534765618637e-07, 1.4930888242180502e-07, 1.6423977066398553e-07, 1.8066374773038411e-07,
    1.9873012250342254e-07, 2.1860313475376482e-07, 2.4046344822914135e-07, 2.645097930520555e-07,
    2.909607723572611e-07, 3.200568495929872e-07, 3.5206253455228594e-07, 3.8726878800751456e-07,
    4.2599566680826603e-07, 4.6859523348909267e-07, 5.15454756838002e-07, 5.670002325218022e-07,
    6.237002557739824e-07, 6.860702813513807e-07, 7.546773094865188e-07, 8.301450404351707e-07,
    9.131595444786879e-07, 1.0044754989265568e-06, 1.1049230488192125e-06, 1.2154153537011338e-06,
    1.3369568890712472e-06, 1.470652577978372e-06, 1.6177178357762093e-06, 1.7794896193538304e-06,
    1.9574385812892137e-06, 2.153182439418135e-06, 2.368500683359949e-06, 2.605350751695944e-06,
    2.865885826865539e-06, 3.1524744095520932e-06, 3.467721850507303e-06, 3.8144940355580335e-06,
    4.1959434391138375e-06, 4.615537783025222e-06, 5.077091561327744e-06, 5.584800717460519e-06,
    6.143280789206572e-06, 6.757608868127229e-06, 7.4333697549399525e-06, 8.176706730433948e-06,
    8.994377403477343e-06, 9.893815143825077e-06, 1.0883196658207586e-05, 1.1971516324028345e-05,
    1.316866795643118e-05, 1.44855347520743e-05, 1.593408822728173e-05, 1.7527497050009902e-05,
    1.9280246755010893e-05, 2.1208271430511985e-05, 2.3329098573563184e-05, 2.5662008430919505e-05,
    2.822820927401146e-05, 3.1051030201412604e-05, 3.415613322155387e-05, 3.757174654370926e-05,
    4.132892119808019e-05, 4.546181331788821e-05, 5.000799464967703e-05, 5.500879411464474e-05,
    6.050967352610922e-05, 6.656064087872014e-05, 7.321670496659217e-05, 8.053837546325138e-05,
    8.859221300957652e-05, 9.745143431053419e-05, 0.00010719657774158762, 0.00011791623551574639,
    0.00012970785906732103, 0.00014267864497405315, 0.00015694650947145847, 0.00017264116041860433,
    0.00018990527646046477, 0.00020889580410651126, 0.0002297853845171624, 0.00025276392296887866,
    0.0002780403152657665, 0.0003058443467923432, 0.00033642878147157755, 0.0003700716596187353,
    0.0004070788255806089, 0.0004477867081386698, 0.0004925653789525368, 0.0005418219168477906,
    0.0005960041085325697, 0.0006556045193858267, 0.0007211649713244094, 0.0007932814684568504,
    0.0008726096153025355, 0.0009598705768327891, 0.001055857634516068, 0.001161443397967675,
    0.0012775877377644426, 0.001405346511540887, 0.0015458811626949758, 0.0017004692789644735,
    0.001870516206860921, 0.0020575678275470133, 0.0022633246103017147, 0.0024896570713318863,
    0.002738622778465075, 0.0030124850563115826, 0.003313733561942741, 0.0036451069181370156,
    0.004009617609950718, 0.00441057937094579, 0.00485163730804037, 0.005336801038844407,
    0.005870481142728848, 0.006457529257001733, 0.007103282182701907, 0.007813610400972098,
    0.008594971441069308, 0.00945446858517624, 0.010399915443693864, 0.01143990698806325,
    0.012583897686869577, 0.013842287455556535, 0.01522651620111219, 0.01674916782122341,
    0.018424084603345752, 0.02026649306368033, 0.022293142370048362, 0.0245224566070532,
    0.026974702267758523, 0.02967217249453438, 0.03263938974398782, 0.035903328718386605,
    0.03949366159022527, 0.043443027749247805, 0.04778733052417259, 0.052566063576589855,
    0.057822669934248845, 0.06360493692767373, 0.06996543062044111, 0.07696197368248522,
    0.08465817105073375, 0.09312398815580714, 0.10243638697138786, 0.11268002566852665,
    0.12394802823537933, 0.13634283105891729, 0.14997711416480902, 0.16497482558128992,
    0.18147230813941892, 0.19961953895336082, 0.2195814928486969, 0.24153964213356663,
    0.2656936063469233, 0.29226296698161564, 0.3214892636797772, 0.35363819004775493,
    0.38900200905253046, 0.42790220995778355, 0.47069243095356195, 0.5177616740489182,
    0.56953784145381, 0.6264916255991911, 0.6891407881591103, 0.7580548669750213,
    0.8338603536725235, 0.917246389039776, 1.0089710279437536, 1.109868130738129, 1.220854943811942,
    1.3429404381931362, 1.47723448201245, 1.624957930213695, 1.7874537232350647, 1.9661990955585713,
    2.1628190051144287, 2.379100905625872, 2.6170109961884593, 2.8787120958073054,
    3.1665833053880363, 3.48324163592684, 3.8315657995195243, 4.214722379471477, 4.636194617418625,
    5.099814079160488, 5.609795487076537, 6.1707750357841915, 6.7878525393626115, 7.466637793298873,
    8.213301572628762, 9.034631729891638, 9.938094902880803, 10.931904393168884, 12.025094832485772,
    13.22760431573435, 14.550364747307786, 16.005401222038564, 17.60594134424242,
    19.366535478666666, 21.303189026533335, 23.43350792918667, 25.77685872210534, 28.35454459431588,
    31.18999905374747, 34.30899895912222, 37.73989885503445, 41.513888740537894, 45.66527761459169,
    50.23180537605086, 55.25498591365595, 60.78048450502155, 66.85853295552371, 73.54438625107609,
    80.89882487618371, 88.98870736380209, 97.88757810018231, 107.67633591020055, 118.44396950122061,
    130.28836645134268, 143.31720309647696, 157.64892340612468, 173.41381574673716,
    190.7551973214109, 209.830717053552, 230.81378875890724, 253.89516763479799, 279.2846843982778,
    307.2131528381056, 337.9344681219162, 371.72791493410784, 408.9007064275187, 449.79077707027056,
    494.76985477729767, 544.2468402550275, 598.6715242805302, 658.5386767085832, 724.3925443794416,
    796.8317988173858, 876.5149786991244, 964.166476569037, 1060.5831242259408, 1166.6414366485349,
    1283.3055803133884, 1411.6361383447274, 1552.7997521792004, 1708.0797273971205,
    1878.8877001368326, 2066.776470150516, 2273.454117165568, 2500.799528882125, 2750.8794817703374,
    3025.9674299473713, 3328.5641729421086, 3661.4205902363196, 4027.5626492599517,
    4430.3189141859475, 4873.350805604543, 5360.685886164998, 5896.754474781498, 6486.429922259648,
    7135.072914485614, 7848.580205934176, 8633.438226527594, 9496.782049180354, 10446.46025409839,
    11491.10627950823, 12640.216907459055, 13904.238598204962, 15294.66245802546,
    16824.128703828006, 18506.54157421081, 20357.19573163189, 22392.915304795082,
    24632.206835274592, 27095.427518802055, 29804.97027068226, 32785.46729775049, 36064.01402752554,
    39670.415430278095, 43637.45697330591, 48001.20267063651, 52801.32293770016, 58081.45523147019,
    63889.60075461721, 70278.56083007893, 77306.41691308682, 85037.05860439551, 93540.76446483507,
    102894.84091131858, 113184.32500245044, 124502.75750269549, 136953.03325296505,
    150648.33657826157, 165713.17023608775, 182284.48725969656, 200512.93598566623,
    220564.22958423287, 242620.65254265617, 266882.7177969218, 293570.989576614, 322928.0885342754,
    355220.897387703, 390742.98712647334, 429817.2858391207, 472799.0144230328, 520078.91586533614,
    572086.8074518698, 629295.4881970568, 692225.0370167625, 761447.5407184388, 837592.2947902827,
    921351.5242693111, 1013486.6766962423, 1114835.3443658666, 1226318.8788024534,
    1348950.7666826989, 1483845.8433509688, 1632230.427686066, 1795453.4704546726, 1974998.81750014,
    2172498.699250154, 2389748.56917517, 2628723.426092687, 2891595.768701956, 3180755.345572152,
    3498830.8801293676, 3848713.9681423046, 4233585.364956535, 4656943.901452189, 5122638.291597408,
    5634902.1207571495, 6198392.332832865, 6818231.566116152, 7500054.722727768, 8250060.195000546,
    9075066.2145006, 9982572.835950661, 10980830.119545728, 12078913.131500302, 13286804.444650333,
    14615484.889115367, 16077033.378026905, 17684736.715829596, 19453210.387412556,
    21398531.426153813, 23538384.568769194, 25892223.025646117, 28481445.32821073,
    31329589.861031804, 34462548.847134985, 37908803.731848486, 41699684.10503334,
    45869652.51553667, 50456617.76709034, 55502279.543799385, 61052507.49817933, 67157758.24799727,
    73873534.072797, 81260887.4800767, 89386976.22808437, 98325673.85089281, 108158241.2359821,
    118974065.35958032, 130871471.89553836, 143958619.08509222, 158354480.99360144,
    174189929.0929616, 191608922.0022578, 210769814.2024836, 231846795.62273198, 255031475.1850052,
    280534622.70350575, 308588084.97385633, 339446893.471242, 373391582.8183662, 410730741.10020286,
    451803815.2102232, 496984196.7312456, 546682616.4043702, 601350878.0448073, 661485965.8492881,
    727634562.434217, 800398018.6776388, 880437820.5454028, 968481602.5999432, 1065329762.8599375,
    1171862739.1459315, 1289049013.0605247, 1417953914.3665774, 1559749305.8032353,
    1715724236.383559, 1887296660.021915, 2076026326.0241067, 2283628958.626518, 2511991854.4891696,
    2763191039.938087, 3039510143.9318957, 3343461158.3250856, 3677807274.1575947,
    4045588001.5733542, 4450146801.73069, 4895161481.903759, 5384677630.094135, 5923145393.103549,
    6515459932.413904, 7167005925.655295, 7883706518.220825, 8672077170.042908, 9539284887.0472,
    10493213375.75192, 11542534713.327114, 12696788184.659826, 13966467003.12581,
    15363113703.438393, 16899425073.782234, 18589367581.160458, 20448304339.276505,
    22493134773.204155, 24742448250.524574, 27216693075.577034, 29938362383.13474,
    32932198621.448215, 36225418483.59304, 39847960331.95235, 43832756365.14758, 48216032001.662346,
    53037635201.82858, 58341398722.011444, 64175538594.21259, 70593092453.63387, 77652401698.99725,
    85417641868.89699, 93959406055.7867, 103355346661.36537, 113690881327.50192, 125059969460.25212,
    137565966406.27734, 151322563046.9051, 166454819351.5956, 183100301286.7552, 201410331415.43073,
    221551364556.97382, 243706501012.6712, 268077151113.93835, 294884866225.3322, 324373352847.8655,
    356810688132.65204, 392491756945.9173, 431740932640.50903, 474915025904.56, 522406528495.01605,
    574647181344.5177, 632111899478.9695, 695323089426.8665, 764855398369.5532, 841340938206.5087,
    925475032027.1597, 1018022535229.8757, 1119824788752.8633, 1231807267628.1497,
    1354987994390.9648, 1490486793830.0615, 1639535473213.0679, 1803489020534.3748,
    1983837922587.8125, 2182221714846.594, 2400443886331.2534, 2640488274964.379, 2904537102460.817,
    3194990812706.899, 3514489893977.589, 3865938883375.348, 4252532771712.8833, 4677786048884.172,
    5145564653772.59, 5660121119149.85, 6226133231064.835, 6848746554171.319, 7533621209588.452,
    8286983330547.298, 9115681663602.03, 10027249829962.232, 11029974812958.457, 12132972294254.305,
    13346269523679.736, 14680896476047.71, 16148986123652.482, 17763884736017.73,
    19540273209619.504, 21494300530581.457, 23643730583639.605, 26008103642003.566,
    28608914006203.926, 31469805406824.32, 34616785947506.754, 38078464542257.43, 41886310996483.18,
    46074942096131.5, 50682436305744.66, 55750679936319.125, 61325747929951.04, 67458322722946.15,
    74204154995240.77, 81624570494764.84, 89787027544241.33, 98765730298665.47, 108642303328532.03,
    119506533661385.25, 131457187027523.78, 144602905730276.16, 159063196303303.78,
    174969515933634.2, 192466467526997.62, 211713114279697.4, 232884425707667.16, 256172868278433.9,
    281790155106277.3, 309969170616905.06, 340966087678595.6, 375062696446455.2, 412568966091100.75,
    453825862700210.9, 499208448970232.0, 549129293867255.25, 604042223253980.9, 664446445579379.0,
    730891090137317.0, 803980199151048.8, 884378219066153.8, 972816040972769.2, 1070097645070046.2,
    1177107409577051.0, 1294818150534756.2, 1424299965588232.0, 1566729962147055.2,
    1723402958361761.0, 1895743254197937.2, 2085317579617731.2, 2293849337579504.5,
    2523234271337455.0, 2775557698471200.5, 3053113468318321.0, 3358424815150153.5,
    3694267296665169.0, 4063694026331686.0, 4470063428964855.0, 4917069771861341.0,
    5408776749047476.0, 5949654423952224.0, 6544619866347447.0, 7199081852982192.0,
    7918990038280412.0, 8710889042108454.0, 9581977946319300.0, 1.054017574095123e+16,
    1.1594193315046354e+16, 1.275361264655099e+16, 1.402897391120609e+16, 1.54318713023267e+16,
    1.6975058432559372e+16, 1.867256427581531e+16, 2.0539820703396844e+16, 2.2593802773736532e+16,
    2.4853183051110188e+16, 2.733850135622121e+16, 3.0072351491843332e+16, 3.3079586641027668e+16,
    3.638754530513044e+16, 4.002629983564349e+16, 4.402892981920784e+16, 4.843182280112862e+16,
    5.327500508124149e+16, 5.860250558936564e+16, 6.446275614830221e+16, 7.090903176313243e+16,
    7.799993493944568e+16, 8.579992843339026e+16, 9.43799212767293e+16, 1.0381791340440224e+17,
    1.1419970474484248e+17, 1.2561967521932674e+17, 1.3818164274125942e+17, 1.5199980701538538e+17,
    1.6719978771692394e+17, 1.8391976648861635e+17, 2.02311743137478e+17, 2.2254291745122582e+17,
    2.447972091963484e+17, 2.6927693011598326e+17, 2.9620462312758163e+17, 3.2582508544033984e+17,
    3.584075939843738e+17, 3.9424835338281126e+17, 4.336731887210924e+17, 4.770405075932017e+17,
    5.247445583525219e+17, 5.772190141877742e+17, 6.349409156065517e+17, 6.984350071672069e+17,
    7.682785078839277e+17, 8.451063586723205e+17, 9.296169945395526e+17, 1.022578693993508e+18,
    1.1248365633928589e+18, 1.237320219732145e+18, 1.3610522417053596e+18, 1.4971574658758958e+18,
    1.6468732124634854e+18, 1.8115605337098342e+18, 1.992716587080818e+18, 2.1919882457888998e+18,
    2.41118707036779e+18, 2.652305777404569e+18, 2.917536355145026e+18, 3.2092899906595287e+18,
    3.530218989725482e+18, 3.8832408886980306e+18, 4.271564977567834e+18, 4.698721475324618e+18,
    5.16859362285708e+18, 5.685452985142788e+18, 6.253998283657068e+18, 6.879398112022775e+18,
    7.567337923225053e+18, 8.324071715547559e+18, 9.156478887102316e+18, 1.0072126775812549e+19,
    1.1079339453393805e+19, 1.2187273398733187e+19, 1.3406000738606506e+19, 1.4746600812467157e+19,
    1.6221260893713875e+19, 1.7843386983085265e+19, 1.962772568139379e+19, 2.1590498249533174e+19,
    2.3749548074486493e+19, 2.6124502881935143e+19, 2.873695317012866e+19, 3.1610648487141528e+19,
    3.477171333585568e+19, 3.824888466944125e+19, 4.2073773136385384e+19, 4.628115045002392e+19,
    5.090926549502632e+19, 5.600019204452896e+19, 6.160021124898186e+19, 6.776023237388005e+19,
    7.453625561126807e+19, 8.198988117239489e+19, 9.018886928963438e+19, 9.920775621859783e+19,
};
