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
void tc_table_put_number(tc_trial_table *t, size_t col, double v, int is_int);
void tc_table_put_tag(tc_trial_table *t, size_t col, int tag);
int tc_table_put_text(tc_trial_table *t, tc_table_builder *b, size_t col, int tag,
                      const char *s, size_t n);
/* A jansson value (CSV cells): NULL = missing. -1 only on ENOMEM. */
int tc_table_put_json(tc_trial_table *t, tc_table_builder *b, size_t col, const json_t *v);
/* Settles kinds and is_int once every row is in. */
void tc_table_finish(tc_trial_table *t);
/* New JSON string of s; bytes that are not UTF-8 become U+FFFD, as Python's
 * errors="replace" would make them (jansson only holds valid UTF-8). */
json_t *tc_json_utf8_string(const char *s, size_t n);

#endif
