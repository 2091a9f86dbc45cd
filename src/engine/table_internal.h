/* table_internal.h — how the parsers of result_table.c fill a trial table
 * (table_columns.c): typed cells written straight into per-column arrays,
 * strings stored once in the table's pool. Not part of the engine's API. */
#ifndef TC_TABLE_INTERNAL_H
#define TC_TABLE_INTERNAL_H
#include "tunec.h"

/* Building state: the shared row capacity and, for the JSON reader, a
 * name index so a row's keys find their columns without a string search. */
typedef struct tc_table_builder {
    size_t cap;            /* rows allocated in every column */
    size_t rows_hint;      /* rows expected (the file's lines): the first allocation */
    size_t *name_len;      /* per column */
    uint32_t *slots;       /* open-addressing index of names: column + 1 */
    size_t n_slots;
    size_t *hint;          /* per field position: the column it matched last row */
    size_t n_hint;
    uint32_t *plain_str;   /* row_template.c: per column, a pooled string id + 1 that
                              holds no '"' or '\\' (0 = none yet), NULL until used */
} tc_table_builder;

void tc_table_builder_free(tc_table_builder *b);
/* Creates the columns (t has none yet) from n NUL-terminated names. */
int tc_table_set_columns(tc_trial_table *t, tc_table_builder *b, size_t n,
                         const char *const *names, tc_error *err);
/* Appends one row with every cell missing; the put_* calls then fill it. */
int tc_table_add_row(tc_trial_table *t, tc_table_builder *b, tc_error *err);
/* Column of the field with this key at position `pos` in its row, or -1. */
long tc_table_find_column(const tc_trial_table *t, tc_table_builder *b, size_t pos,
                          const char *key, size_t key_len);
/* Sets the cell (col, last row). put_text interns STRING texts; LIST texts
 * are stored as they are. -1 only on ENOMEM. */
void tc_table_put_real(tc_trial_table *t, size_t col, double v);
int tc_table_put_int(tc_trial_table *t, tc_table_builder *b, size_t col, int64_t v);
/* An integer number's text s[0..n) and its double d (tc_fastnum's): INT,
 * exact, when it fits int64, else a LIST cell of its digits. */
int tc_table_put_int_text(tc_trial_table *t, tc_table_builder *b, size_t col, const char *s,
                          size_t n, double d);
void tc_table_put_tag(tc_trial_table *t, size_t col, int tag);
/* A STRING cell of the pooled string `id`. -1 only on ENOMEM. */
int tc_table_put_string_id(tc_trial_table *t, tc_table_builder *b, size_t col, uint32_t id);
int tc_table_put_text(tc_trial_table *t, tc_table_builder *b, size_t col, int tag,
                      const char *s, size_t n);
/* A jansson value (CSV cells): NULL = missing. -1 only on ENOMEM. */
int tc_table_put_json(tc_trial_table *t, tc_table_builder *b, size_t col, const json_t *v);
/* Settles kinds and is_int once every row is in. */
void tc_table_finish(tc_trial_table *t);
/* New JSON string of s; bytes that are not UTF-8 become U+FFFD, as Python's
 * errors="replace" would make them (jansson only holds valid UTF-8). */
json_t *tc_json_utf8_string(const char *s, size_t n);

/* first_row.c: the columns of t (it has none yet) named from the first
 * result.json line without a tree, when the line is plain enough that
 * tc_json_loads + tc_flatten would surely name them the same (see the
 * file's comment). 1 = set, 0 = not sure (nothing set), -1 = ENOMEM. */
int tc_table_columns_plain(tc_trial_table *t, tc_table_builder *b, const char *line, size_t len,
                           const char *skip_key, tc_error *err);

/* row_template.c: the first row's key sequence, matched against later
 * result.json lines (see the file's comment). */
typedef struct tc_row_template tc_row_template;
/* *out = the template of `line` (a row whose columns t already has), or
 * NULL when none can be made (keys with escapes, not an object). 1 = made,
 * 0 = none, -1 = ENOMEM. */
int tc_row_template_new(tc_row_template **out, const tc_trial_table *t, tc_table_builder *b,
                        const char *line, size_t len, const char *skip_key);
void tc_row_template_free(tc_row_template *tp);
/* Adds `line` as a row when the template describes it: 1 = added, 0 = no
 * match (the table is as before; read the line the general way), -1 =
 * ENOMEM. */
int tc_row_template_read(const tc_row_template *tp, tc_trial_table *t, tc_table_builder *b,
                         const char *line, size_t len, tc_error *err);

#endif
