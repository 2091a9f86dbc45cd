/* state_read.c — the index of an experiment's state (state_read.h): trial
 * id -> the texts of its snapshot entry and journal events, kept in the
 * host's store; a record is parsed and merged only when the runner takes
 * it. Reading 100,000 trials builds no JSON value per trial, so the read is
 * one pass of the byte scanner (state_scan.c) over the files plus a copy of
 * each piece into the store; the driver keeps about a hundred bytes per
 * trial. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "state_read.h"
#include "state_merge.h"
#include "state_scan.h"

typedef struct piece {
    long long pos;      /* in its file, when the host reads it back */
    char *mem;          /* else the text itself (tc_malloc'd) */
    size_t len;
    int journal;        /* a journal event (else a snapshot entry) */
} piece;

typedef struct trial_rec {
    char *id;
    piece *pieces;
    unsigned n, cap;
    int taken;
} trial_rec;

struct tc_state {
    tc_state_host host;
    char *exp_dir, *snapshot_name, *journal_name;
    int relocate;       /* records get local_dir and moved logdirs (a read) */
    trial_rec *recs;
    size_t nrecs, caprecs, live;
    size_t *slots;      /* open addressing: index + 1 into recs, 0 empty */
    size_t nslots;
    json_t *runner_data;
    char **warnings;
    size_t nwarn, capwarn;
};

static int nomem(tc_error *err)
{
    return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
}

static int corrupt(tc_error *err, const char *file, const char *why)
{
    return tc_error_set(err, TC_ERR_TUNE, "Cannot resume: the experiment state %s is corrupt (%s).",
                        file, why);
}

static int warn(tc_state *st, tc_error *err, const char *fmt, ...)
{
    if (st->nwarn == st->capwarn) {
        size_t cap = st->capwarn ? st->capwarn * 2 : 8;
        char **w = tc_realloc(st->warnings, cap * sizeof *w);
        if (!w)
            return nomem(err);
        st->warnings = w;
        st->capwarn = cap;
    }
    va_list ap;
    va_start(ap, fmt);
    char text[1024];
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (!(st->warnings[st->nwarn] = tc_strdup(text)))
        return nomem(err);
    st->nwarn++;
    return 0;
}

/* --- the id index ---------------------------------------------------------- */

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    return h;
}

static size_t *slot_of(const tc_state *st, const char *id)
{
    size_t mask = st->nslots - 1, i = (size_t)hash(id) & mask;
    while (st->slots[i] && strcmp(st->recs[st->slots[i] - 1].id, id) != 0)
        i = (i + 1) & mask;
    return &st->slots[i];
}

static trial_rec *find(const tc_state *st, const char *id)
{
    if (!st->nslots)
        return NULL;
    size_t k = *slot_of(st, id);
    return k ? &st->recs[k - 1] : NULL;
}

static int grow_slots(tc_state *st)
{
    size_t n = st->nslots ? st->nslots * 2 : 1024;
    size_t *old = st->slots, nold = st->nslots;
    if (!(st->slots = tc_calloc(n, sizeof *st->slots))) {
        st->slots = old;
        return -1;
    }
    st->nslots = n;
    for (size_t i = 0; i < nold; i++)
        if (old[i])
            *slot_of(st, st->recs[old[i] - 1].id) = old[i];
    tc_free(old);
    return 0;
}

/* The record of id, created when new (NULL: out of memory). */
static trial_rec *intern(tc_state *st, const char *id)
{
    trial_rec *t = find(st, id);
    if (t)
        return t;
    if ((st->nrecs + 1) * 2 > st->nslots && grow_slots(st) < 0)
        return NULL;
    if (st->nrecs == st->caprecs) {
        size_t cap = st->caprecs ? st->caprecs * 2 : 256;
        trial_rec *r = tc_realloc(st->recs, cap * sizeof *r);
        if (!r)
            return NULL;
        st->recs = r;
        st->caprecs = cap;
    }
    t = &st->recs[st->nrecs];
    memset(t, 0, sizeof *t);
    if (!(t->id = tc_strdup(id)))
        return NULL;
    *slot_of(st, id) = ++st->nrecs;
    st->live++;
    return t;
}

/* --- pieces ---------------------------------------------------------------- */

static void drop_pieces(trial_rec *t)
{
    for (unsigned i = 0; i < t->n; i++)
        tc_free(t->pieces[i].mem);
    t->n = 0;
}

/* base: the file's text text lies in (its position is kept), or NULL: a
 * text of its own (copied). */
static int add_piece(tc_state *st, trial_rec *t, const char *base, const char *text, size_t len,
                     int journal, tc_error *err)
{
    if (t->n == t->cap) {
        unsigned cap = t->cap ? t->cap * 2 : 2;
        piece *p = tc_realloc(t->pieces, cap * sizeof *p);
        if (!p)
            return nomem(err);
        t->pieces = p;
        t->cap = cap;
    }
    piece *p = &t->pieces[t->n];
    memset(p, 0, sizeof *p);
    p->len = len;
    p->journal = journal;
    if (base && st->host.read_at)
        p->pos = (long long)(text - base);
    else if (!(p->mem = tc_strndup(text, len)))
        return nomem(err);
    t->n++;
    return 0;
}

static char *piece_text(const tc_state *st, const piece *p)
{
    return p->mem ? p->mem
                  : st->host.read_at(st->host.ctx, p->journal ? TC_STATE_JOURNAL
                                                              : TC_STATE_SNAPSHOT, p->pos, p->len);
}

/* The string value at span, tc_malloc'd, or NULL (not a string, or out of
 * memory: *oom tells). */
static char *span_string(const tc_scan_span *s, int *oom)
{
    if (*s->start != '"')
        return NULL;
    if (tc_scan_is_plain_string(s)) {
        char *out = tc_strndup(s->start + 1, (size_t)(s->end - s->start - 2));
        *oom = !out;
        return out;
    }
    tc_error e;
    tc_error_init(&e);
    json_t *v = tc_json_loads(s->start, (size_t)(s->end - s->start), &e);
    char *out = json_is_string(v) ? tc_strdup(json_string_value(v)) : NULL;
    *oom = (json_is_string(v) && !out) || e.code == TC_ERR_NOMEM;
    json_decref(v);
    return out;
}

/* The member key of obj as a string (tc_malloc'd), or NULL (absent, not a
 * string; *oom when out of memory). *present: the key is there. */
static char *member_string(const char *obj, const char *end, const char *key, int *present,
                           int *oom)
{
    tc_scan_span s;
    *oom = 0;
    *present = tc_scan_member(obj, end, key, &s);
    return *present ? span_string(&s, oom) : NULL;
}

/* --- the snapshot ---------------------------------------------------------- */


/* One entry of "checkpoints": an object, or (Ray's format) its JSON text as
 * a string. Entries that are not objects with a string trial_id are not
 * trials and are skipped. */
static int snapshot_entry(tc_state *st, const char *base, const char *p, const char *end,
                          tc_error *err)
{
    json_t *decoded = NULL;
    int rc = 0, oom = 0, present;
    if (*p == '"') {
        tc_error e;
        tc_error_init(&e);
        decoded = tc_json_loads(p, (size_t)(end - p), &e);
        if (!decoded)
            return e.code == TC_ERR_NOMEM ? nomem(err) : corrupt(err, st->snapshot_name, e.text);
        p = json_string_value(decoded);
        end = p + json_string_length(decoded);
        const char *ve = tc_scan_value(p, end, 0);
        if (!ve || tc_scan_ws(ve, end) != end) {
            json_decref(decoded);
            return corrupt(err, st->snapshot_name, "an entry of checkpoints is not valid JSON");
        }
        p = tc_scan_ws(p, end);
        base = NULL;   /* a text of its own */
    }
    if (*p == '{') {
        char *id = member_string(p, end, "trial_id", &present, &oom);
        if (oom) {
            rc = nomem(err);
        } else if (id) {
            trial_rec *t = intern(st, id);
            if (!t)
                rc = nomem(err);
            else {
                drop_pieces(t);   /* a later entry of the same id wins */
                rc = add_piece(st, t, base, p, (size_t)(end - p), 0, err);
            }
        }
        tc_free(id);
    }
    json_decref(decoded);
    return rc;
}

/* The trials read so far forgotten (a later "checkpoints" key replaces the
 * list, as in a dict). */
static void forget_trials(tc_state *st)
{
    for (size_t i = 0; i < st->nrecs; i++) {
        drop_pieces(&st->recs[i]);
        tc_free(st->recs[i].pieces);
        tc_free(st->recs[i].id);
    }
    st->nrecs = st->live = 0;
    if (st->slots)
        memset(st->slots, 0, st->nslots * sizeof *st->slots);
}

/* "checkpoints": each entry validated, indexed and stored in turn, so that
 * the text behind it is never read again (the host may drop its pages). */
static const char *read_entries(tc_state *st, const char *text, const char *p, const char *end,
                                tc_error *err)
{
    p = tc_scan_ws(p + 1, end);
    if (p < end && *p == ']')
        return p + 1;
    for (;;) {
        const char *e = tc_scan_value(p, end, 1);
        if (!e) {
            corrupt(err, st->snapshot_name, "not valid JSON");
            return NULL;
        }
        if (snapshot_entry(st, text, tc_scan_ws(p, e), e, err) < 0)
            return NULL;
        if (st->host.consumed)
            st->host.consumed(st->host.ctx, text, e);
        p = tc_scan_ws(e, end);
        if (p < end && *p == ']')
            return p + 1;
        if (p >= end || *p != ',') {
            corrupt(err, st->snapshot_name, "not valid JSON");
            return NULL;
        }
        p++;
    }
}

/* One pass over the snapshot: its members in turn, "checkpoints" entry by
 * entry; any other member is validated and, for runner_data, parsed. */
static int read_snapshot(tc_state *st, const char *text, size_t len, tc_error *err)
{
    const char *end = text + len, *p = tc_scan_ws(text, end);
    const char *runner_data = NULL, *runner_data_end = NULL;
    int bad_list = 0, lists = 0;
    if (p < end && *p != '{') {
        const char *ve = tc_scan_value(p, end, 0);
        return corrupt(err, st->snapshot_name, ve && tc_scan_ws(ve, end) == end
                                                   ? "not a JSON object" : "not valid JSON");
    }
    p = p < end ? tc_scan_ws(p + 1, end) : p;
    int first = 1;
    while (p < end && !(first && *p == '}')) {
        tc_scan_span key = {p, NULL};
        const char *ke = *p == '"' ? tc_scan_value(p, end, 1) : NULL;
        const char *colon = ke ? tc_scan_ws(ke, end) : NULL;
        if (!colon || colon >= end || *colon != ':')
            return corrupt(err, st->snapshot_name, "not valid JSON");
        key.end = ke;
        const char *vs = tc_scan_ws(colon + 1, end), *ve;
        int is_list = key.end - key.start == 13 && memcmp(key.start, "\"checkpoints\"", 13) == 0;
        if (is_list && vs < end && *vs == '[') {
            if (lists++)
                forget_trials(st);
            ve = read_entries(st, text, vs, end, err);
            if (!ve)
                return -1;
            bad_list = 0;
        } else {
            if (!(ve = tc_scan_value(vs, end, 1)))
                return corrupt(err, st->snapshot_name, "not valid JSON");
            if (is_list)
                bad_list = 1;
            if (key.end - key.start == 13 && memcmp(key.start, "\"runner_data\"", 13) == 0) {
                runner_data = vs;
                runner_data_end = ve;
            }
        }
        first = 0;
        p = tc_scan_ws(ve, end);
        if (p < end && *p == '}')
            break;
        if (p >= end || *p != ',')
            break;
        p = tc_scan_ws(p + 1, end);
    }
    if (p >= end || *p != '}' || tc_scan_ws(p + 1, end) != end)
        return corrupt(err, st->snapshot_name, "not valid JSON");
    if (runner_data) {
        tc_error e;
        tc_error_init(&e);
        json_t *v = tc_json_loads(runner_data, (size_t)(runner_data_end - runner_data), &e);
        if (!v)
            return e.code == TC_ERR_NOMEM ? nomem(err) : corrupt(err, st->snapshot_name, e.text);
        if (tc_json_truthy(v)) {
            json_decref(st->runner_data);
            st->runner_data = v;
        } else {
            json_decref(v);   /* `state.get("runner_data") or {}` */
        }
    }
    if (!json_is_object(st->runner_data) || bad_list)
        return corrupt(err, st->snapshot_name, "runner_data or checkpoints of the wrong type");
    return 0;
}

/* --- the journal ----------------------------------------------------------- */

static int blank(const char *p, const char *end)
{
    for (; p < end; p++)
        if (!strchr(" \t\r\v\f", *p) || !*p)
            return 0;
    return 1;
}

enum { EV_OTHER, EV_START, EV_STATUS, EV_CHECKPOINT, EV_RECONFIG };

static int event_kind(const char *line, const char *end, int *oom)
{
    int present;
    char *k = member_string(line, end, "event", &present, oom);
    int kind = !k ? EV_OTHER
               : strcmp(k, "start") == 0 ? EV_START
               : strcmp(k, "status") == 0 ? EV_STATUS
               : strcmp(k, "checkpoint") == 0 ? EV_CHECKPOINT
               : strcmp(k, "reconfig") == 0 ? EV_RECONFIG : EV_OTHER;
    tc_free(k);
    return kind;
}

/* One whole JSON object line of the journal. */
static int journal_event(tc_state *st, const char *base, const char *line, const char *end,
                         tc_error *err)
{
    int oom, present;
    char *id = member_string(line, end, "trial_id", &present, &oom);
    int rc = 0;
    if (oom)
        return nomem(err);
    if (present && !id)
        return 0;   /* a trial_id that is not a string: not a line tunec wrote */
    int kind = event_kind(line, end, &oom);
    if (oom) {
        tc_free(id);
        return nomem(err);
    }
    trial_rec *t = NULL;
    if (kind == EV_START) {
        tc_scan_span rec, cfg;
        tc_free(id);
        id = NULL;
        if (tc_scan_member(line, end, "record", &rec) && *rec.start == '{' &&
            (!tc_scan_member(rec.start, rec.end, "config", &cfg) || *cfg.start == '{')) {
            id = member_string(rec.start, rec.end, "trial_id", &present, &oom);
            if (oom)
                return nomem(err);
            if (id && !(t = intern(st, id)))
                rc = nomem(err);
        }
    } else if (kind != EV_OTHER && id && (t = find(st, id)) != NULL && kind == EV_CHECKPOINT) {
        tc_error e;
        tc_error_init(&e);
        json_t *ev = tc_json_loads(line, (size_t)(end - line), &e);
        int damaged = 0;
        json_t *kept = ev ? tcp_state_checkpoints(json_object_get(ev, "checkpoints"), &damaged) : NULL;
        if (!kept)
            rc = nomem(err);
        else if (damaged)
            rc = warn(st, err, "Experiment journal %s: dropped damaged checkpoint records of "
                      "trial %s", st->journal_name, id);
        json_decref(kept);
        json_decref(ev);
    }
    if (t && rc == 0)
        rc = add_piece(st, t, base, line, (size_t)(end - line), 1, err);
    tc_free(id);
    return rc;
}

/* A torn last line (the driver died while writing it) is dropped quietly; a
 * damaged line before it (junk, a value that is not an event) is skipped
 * with a warning naming the file and line. */
static int read_journal(tc_state *st, const char *text, size_t len, tc_error *err)
{
    const char *p = text, *end = text + len;
    long number = 0, damaged = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        number++;
        if (!blank(p, le)) {
            if (damaged && warn(st, err, "Experiment journal %s: skipped damaged line %ld",
                                st->journal_name, damaged) < 0)
                return -1;
            damaged = 0;
            const char *s = tc_scan_ws(p, le), *ve = tc_scan_value(s, le, 0);
            if (ve && tc_scan_ws(ve, le) == le && *s == '{') {
                if (journal_event(st, text, s, ve, err) < 0)
                    return -1;
            } else {
                damaged = number;   /* warned about once a later line shows it was not the last */
            }
        }
        if (st->host.consumed)
            st->host.consumed(st->host.ctx, text, le);
        p = nl ? nl + 1 : end;
    }
    return 0;
}

/* --- the public face ------------------------------------------------------- */

static tc_state *state_new(const char *exp_dir, const char *snapshot_name,
                           const char *journal_name, const tc_state_host *host, tc_error *err)
{
    tc_state *st = tc_calloc(1, sizeof *st);
    if (!st) {
        if (host && host->release)
            host->release(host->ctx);
        nomem(err);
        return NULL;
    }
    if (host)
        st->host = *host;
    st->relocate = exp_dir != NULL;
    st->exp_dir = tc_strdup(exp_dir ? exp_dir : "");
    st->snapshot_name = tc_strdup(snapshot_name ? snapshot_name : "(snapshot)");
    st->journal_name = tc_strdup(journal_name ? journal_name : "(journal)");
    st->runner_data = json_object();
    if (!st->exp_dir || !st->snapshot_name || !st->journal_name || !st->runner_data) {
        nomem(err);
        tc_state_free(st);
        return NULL;
    }
    return st;
}

tc_state *tc_state_from_records(const json_t *records, const tc_state_host *host,
                                tc_error *err)
{
    if (!json_is_object(records)) {
        tc_error_set(err, TC_ERR_VALUE, "resume records must be an object");
        return NULL;
    }
    tc_state *st = state_new(NULL, "(records)", "(records)", host, err);
    tc_buf text;
    tc_buf_init(&text);
    const char *id;
    json_t *rec;
    json_object_foreach((json_t *)records, id, rec) {
        if (!st)
            break;
        trial_rec *t = NULL;
        tc_buf_clear(&text);
        if (!json_is_object(rec)) {
            tc_error_set(err, TC_ERR_VALUE, "the resume record of %s is not an object", id);
        } else if (tc_json_dump(rec, &text, TC_DUMP_COMPACT) < 0 || !(t = intern(st, id))) {
            nomem(err);
        } else if (add_piece(st, t, NULL, text.data, text.len, 0, err) == 0) {
            continue;
        }
        tc_state_free(st);
        st = NULL;
    }
    tc_buf_free(&text);
    return st;
}

tc_state *tc_state_read(const char *snapshot, size_t snapshot_len, const char *snapshot_name,
                        const char *journal, size_t journal_len, const char *journal_name,
                        const char *exp_dir, const tc_state_host *host, tc_error *err)
{
    tc_state *st = state_new(exp_dir ? exp_dir : "", snapshot_name, journal_name, host, err);
    if (!st)
        return NULL;
    if (snapshot && read_snapshot(st, snapshot, snapshot_len, err) < 0)
        goto fail;
    if (journal && read_journal(st, journal, journal_len, err) < 0)
        goto fail;
    return st;
fail:
    tc_state_free(st);
    return NULL;
}

void tc_state_free(tc_state *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->nrecs; i++) {
        drop_pieces(&st->recs[i]);
        tc_free(st->recs[i].pieces);
        tc_free(st->recs[i].id);
    }
    for (size_t i = 0; i < st->nwarn; i++)
        tc_free(st->warnings[i]);
    tc_free(st->warnings);
    tc_free(st->recs);
    tc_free(st->slots);
    json_decref(st->runner_data);
    tc_free(st->exp_dir);
    tc_free(st->snapshot_name);
    tc_free(st->journal_name);
    if (st->host.release)
        st->host.release(st->host.ctx);
    tc_free(st);
}

const json_t *tc_state_runner_data(const tc_state *st)
{
    return st->runner_data;
}

size_t tc_state_count(const tc_state *st)
{
    return st ? st->live : 0;
}

size_t tc_state_nwarnings(const tc_state *st)
{
    return st->nwarn;
}

const char *tc_state_warning(const tc_state *st, size_t i)
{
    return i < st->nwarn ? st->warnings[i] : NULL;
}

static json_t *build(const tc_state *st, const trial_rec *t, tc_error *err)
{
    json_t *rec = NULL;
    for (unsigned i = 0; i < t->n; i++) {
        const piece *p = &t->pieces[i];
        char *text = piece_text(st, p);
        if (!text) {
            json_decref(rec);
            tc_error_set(err, TC_ERR_IO, "Cannot resume: the experiment state of trial %s could "
                         "not be read back from the driver's temporary store", t->id);
            return NULL;
        }
        tc_error e;
        tc_error_init(&e);
        json_t *v = tc_json_loads(text, p->len, &e);
        if (text != p->mem)
            tc_free(text);
        if (!v) {
            json_decref(rec);
            if (e.code == TC_ERR_NOMEM)
                nomem(err);
            else
                corrupt(err, p->journal ? st->journal_name : st->snapshot_name, e.text);
            return NULL;
        }
        int rc = 0;
        if (!p->journal) {
            json_decref(rec);
            rec = v;
            v = NULL;
        } else {
            rc = tcp_state_apply_event(&rec, v);
        }
        json_decref(v);
        if (rc < 0) {
            json_decref(rec);
            nomem(err);
            return NULL;
        }
    }
    if (rec && st->relocate && tcp_state_relocate(rec, st->exp_dir, st->host.is_dir, st->host.ctx) < 0) {
        json_decref(rec);
        nomem(err);
        return NULL;
    }
    return rec;
}

json_t *tc_state_take(tc_state *st, const char *trial_id, tc_error *err)
{
    trial_rec *t = st ? find(st, trial_id) : NULL;
    if (!t || t->taken)
        return NULL;
    json_t *rec = build(st, t, err);
    if (!rec)
        return NULL;
    t->taken = 1;
    st->live--;
    drop_pieces(t);
    tc_free(t->pieces);
    t->pieces = NULL;
    t->cap = 0;
    return rec;
}

json_t *tc_state_next(const tc_state *st, size_t *pos, const char **id, tc_error *err)
{
    while (st && *pos < st->nrecs && st->recs[*pos].taken)
        (*pos)++;
    if (!st || *pos >= st->nrecs)
        return NULL;
    const trial_rec *t = &st->recs[(*pos)++];
    *id = t->id;
    return build(st, t, err);
}

const char *tc_state_next_id(const tc_state *st, size_t *pos)
{
    while (st && *pos < st->nrecs && st->recs[*pos].taken)
        (*pos)++;
    return st && *pos < st->nrecs ? st->recs[(*pos)++].id : NULL;
}
