/* state_logdirs.c — the trial logdirs of an experiment_state file, without
 * building its tree (spec §10.6, §10.8).
 *
 * ExperimentAnalysis(dir) needs only each trial's logdir to load results;
 * the state file holds every trial's whole record (4.7 MB for 1,000 trials),
 * which a full parse and 1,000 Trial objects turn into ~150 ms. This reads
 * the top-level "checkpoints" list and, per entry that is an object (0.8) or
 * a string holding one (1.x), the entry's top-level "logdir" string; every
 * other value is skipped with its syntax checked, so a file json.load would
 * refuse is refused here too. Text in, strings out; no I/O.
 *
 * Invariants:
 *   - one output per checkpoint entry that is (or holds) an object, in order,
 *     as ExperimentAnalysis rebuilds one Trial per such entry; NULL where the
 *     entry has no string "logdir" (the last one wins, as in json.load);
 *   - strings are decoded by jansson (the escapes of one literal), so a
 *     logdir comes out exactly as a full parse gives it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tunec.h"

typedef struct reader {
    const char *p, *end;
    tc_error *err;
} reader;

static int bad(reader *r, const char *what)
{
    return tc_error_set(r->err, TC_ERR_VALUE, "invalid experiment state: %s", what);
}

static int nomem(reader *r)
{
    return tc_error_set(r->err, TC_ERR_NOMEM, "out of memory reading the experiment state");
}

/* JSON's blanks, and the characters of a number after its first one. */
static const unsigned char is_ws[256] = {[' '] = 1, ['\n'] = 1, ['\r'] = 1, ['\t'] = 1};
static const unsigned char in_number[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1, ['e'] = 1, ['E'] = 1};

static void ws(reader *r)
{
    /* A state file is indented: runs of spaces, taken eight at a time
     * (locals: through r->p every step cost a store and a load). */
    const char *p = r->p, *end = r->end;
    for (;;) {
        while (end - p >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            if (w != 0x2020202020202020ull)
                break;
            p += 8;
        }
        if (p < end && is_ws[(unsigned char)*p]) {
            p++;
            continue;
        }
        break;
    }
    r->p = p;
}

/* Skips the string literal at r->p (its quotes included). */
static int skip_string(reader *r)
{
    r->p++;
    while (r->p < r->end) {
        const char *q = r->p;
        while (q < r->end && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20)
            q++;
        r->p = q;
        if (q >= r->end)
            break;
        if (*q == '"') {
            r->p++;
            return 0;
        }
        if (*q != '\\')
            return bad(r, "control character in a string");
        if (q + 1 >= r->end)
            break;
        r->p = q + (q[1] == 'u' ? 6 : 2);
    }
    return bad(r, "unterminated string");
}

static int skip_value(reader *r, int depth);

/* Skips the object or array at r->p. */
static int skip_container(reader *r, int depth)
{
    char close = *r->p == '{' ? '}' : ']';
    int is_object = close == '}';
    if (depth > 512)
        return bad(r, "nested too deeply");
    r->p++;
    ws(r);
    if (r->p < r->end && *r->p == close) {
        r->p++;
        return 0;
    }
    for (;;) {
        ws(r);
        if (is_object) {
            if (r->p >= r->end || *r->p != '"' || skip_string(r) < 0)
                return r->err->code ? -1 : bad(r, "expected a key");
            ws(r);
            if (r->p >= r->end || *r->p != ':')
                return bad(r, "expected ':'");
            r->p++;
            ws(r);
        }
        if (skip_value(r, depth + 1) < 0)
            return -1;
        ws(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == close) {
            r->p++;
            return 0;
        }
        return bad(r, "expected ',' or a closing bracket");
    }
}

static int literal(reader *r, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
        return bad(r, "unexpected character");
    r->p += n;
    return 0;
}

static int skip_value(reader *r, int depth)
{
    if (r->p >= r->end)
        return bad(r, "unexpected end");
    char c = *r->p;
    if (c == '"')
        return skip_string(r);
    if (c == '{' || c == '[')
        return skip_container(r, depth);
    if (c == 't')
        return literal(r, "true");
    if (c == 'f')
        return literal(r, "false");
    if (c == 'n')
        return literal(r, "null");
    if (c == 'N')
        return literal(r, "NaN");
    if (c == 'I')
        return literal(r, "Infinity");
    if (c == '-' && r->end - r->p > 1 && r->p[1] == 'I') {
        r->p++;
        return literal(r, "Infinity");
    }
    const char *start = r->p;
    const char *p = r->p;
    while (p < r->end && in_number[(unsigned char)*p])
        p++;
    r->p = p;
    if (r->p == start || !(start[0] == '-' || (start[0] >= '0' && start[0] <= '9')))
        return bad(r, "unexpected character");
    return 0;
}

/* New malloc'd UTF-8 text of the string literal text[0..n) (quotes
 * included), decoded by jansson; NULL with err set when it is not one. */
static char *decode_string(reader *r, const char *text, size_t n, size_t *out_len)
{
    tc_error perr;
    tc_error_init(&perr);
    json_t *s = tc_json_loads(text, n, &perr);
    if (!s) {
        if (perr.code == TC_ERR_NOMEM)
            nomem(r);
        else
            bad(r, "a string that does not decode");
        return NULL;
    }
    char *copy = NULL;
    if (json_is_string(s)) {
        size_t len = json_string_length(s);
        if ((copy = tc_malloc(len + 1)) != NULL) {
            memcpy(copy, json_string_value(s), len + 1);
            *out_len = len;
        } else {
            nomem(r);
        }
    } else {
        bad(r, "a string that does not decode");
    }
    json_decref(s);
    return copy;
}

/* The "logdir" of the object at r->p: *logdir is set (malloc'd) or NULL. */
static int entry_logdir(reader *r, char **logdir)
{
    *logdir = NULL;
    r->p++;   /* '{' */
    ws(r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
        return 0;
    }
    for (;;) {
        ws(r);
        const char *key = r->p;
        if (r->p >= r->end || *r->p != '"' || skip_string(r) < 0)
            return r->err->code ? -1 : bad(r, "expected a key");
        int is_logdir = r->p - key == 8 && memcmp(key, "\"logdir\"", 8) == 0;
        ws(r);
        if (r->p >= r->end || *r->p != ':')
            return bad(r, "expected ':'");
        r->p++;
        ws(r);
        const char *value = r->p;
        if (skip_value(r, 2) < 0)
            return -1;
        if (is_logdir) {
            tc_free(*logdir);
            *logdir = NULL;
            size_t len;
            if (*value == '"' && !(*logdir = decode_string(r, value, (size_t)(r->p - value), &len)))
                return -1;
        }
        ws(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == '}') {
            r->p++;
            return 0;
        }
        return bad(r, "expected ',' or '}'");
    }
}

static int push(tc_state_logdirs *out, char *logdir)
{
    if (out->n == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 64;
        char **grown = tc_realloc(out->logdirs, cap * sizeof *grown);
        if (!grown)
            return -1;
        out->logdirs = grown;
        out->cap = cap;
    }
    out->logdirs[out->n++] = logdir;
    return 0;
}

/* One checkpoints entry at r->p: an object, a string holding one (1.x), or
 * anything else (skipped: it makes no Trial). */
static int entry(reader *r, tc_state_logdirs *out)
{
    char *logdir = NULL;
    if (*r->p == '{') {
        if (entry_logdir(r, &logdir) < 0) {
            tc_free(logdir);
            return -1;
        }
    } else if (*r->p == '"') {
        const char *value = r->p;
        size_t len;
        if (skip_string(r) < 0)
            return -1;
        char *inner = decode_string(r, value, (size_t)(r->p - value), &len);
        if (!inner)
            return -1;
        reader sub = {inner, inner + len, r->err};
        ws(&sub);
        int is_object = sub.p < sub.end && *sub.p == '{';
        int rc = is_object ? entry_logdir(&sub, &logdir) : 0;
        if (rc == 0 && is_object) {
            ws(&sub);
            if (sub.p != sub.end)
                rc = bad(r, "extra data in a checkpoints entry");
        }
        tc_free(inner);
        if (rc < 0) {
            tc_free(logdir);
            return -1;
        }
        if (!is_object)
            return 0;
    } else {
        return skip_value(r, 2);
    }
    if (push(out, logdir) < 0) {
        tc_free(logdir);
        return nomem(r);
    }
    return 0;
}

static int checkpoints(reader *r, tc_state_logdirs *out)
{
    if (r->p >= r->end || *r->p != '[')
        return skip_value(r, 1);   /* not a list: no trials from it */
    out->found = 1;
    r->p++;
    ws(r);
    if (r->p < r->end && *r->p == ']') {
        r->p++;
        return 0;
    }
    for (;;) {
        ws(r);
        if (r->p >= r->end)
            return bad(r, "unexpected end");
        if (entry(r, out) < 0)
            return -1;
        ws(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == ']') {
            r->p++;
            return 0;
        }
        return bad(r, "expected ',' or ']'");
    }
}

void tc_state_logdirs_free(tc_state_logdirs *out)
{
    for (size_t i = 0; i < out->n; i++)
        tc_free(out->logdirs[i]);
    tc_free(out->logdirs);
    memset(out, 0, sizeof *out);
}

int tc_state_logdirs_read(tc_state_logdirs *out, const char *text, size_t len, tc_error *err)
{
    reader r = {text, text + len, err};
    memset(out, 0, sizeof *out);
    ws(&r);
    if (r.p >= r.end || *r.p != '{') {
        /* valid JSON that is not an object: no checkpoints (the caller says so) */
        if (skip_value(&r, 0) < 0)
            goto fail;
        out->not_object = 1;
    } else {
        r.p++;
        ws(&r);
        if (r.p < r.end && *r.p == '}') {
            r.p++;
        } else {
            for (;;) {
                ws(&r);
                const char *key = r.p;
                if (r.p >= r.end || *r.p != '"' || skip_string(&r) < 0) {
                    if (!err->code)
                        bad(&r, "expected a key");
                    goto fail;
                }
                int is_checkpoints = r.p - key == 13 && memcmp(key, "\"checkpoints\"", 13) == 0;
                ws(&r);
                if (r.p >= r.end || *r.p != ':') {
                    bad(&r, "expected ':'");
                    goto fail;
                }
                r.p++;
                ws(&r);
                if (is_checkpoints) {
                    /* json.load keeps the last of repeated keys */
                    tc_state_logdirs_free(out);
                    if (checkpoints(&r, out) < 0)
                        goto fail;
                } else if (skip_value(&r, 1) < 0) {
                    goto fail;
                }
                ws(&r);
                if (r.p < r.end && *r.p == ',') {
                    r.p++;
                    continue;
                }
                if (r.p < r.end && *r.p == '}') {
                    r.p++;
                    break;
                }
                bad(&r, "expected ',' or '}'");
                goto fail;
            }
        }
    }
    ws(&r);
    if (r.p != r.end) {
        bad(&r, "extra data");
        goto fail;
    }
    return 0;
fail:
    tc_state_logdirs_free(out);
    return -1;
}
