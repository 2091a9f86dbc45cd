/* test_result_cut.c — the restart cut rule (result_cut.h): a restart from
 * each point of a trial's history, torn and unreadable lines, a
 * progress.csv shorter than result.json or torn, quoted cells with line
 * breaks, missing files, and the lines handed to keep(). */
#include <stdlib.h>
#include <string.h>
#include "tc_test.h"
#include "tunec.h"
#include "result_cut.h"

#define ROW(i) "{\"loss\": 0." #i ", \"training_iteration\": " #i ", \"config\": {\"a\": 1}}\n"
static const char JSON4[] = ROW(1) ROW(2) ROW(3) ROW(4);
static const char CSV4[] = "loss,training_iteration\n0.1,1\n0.2,2\n0.3,3\n0.4,4\n";

/* Bytes of text's first n lines. */
static size_t lines_bytes(const char *text, long n)
{
    const char *p = text;
    for (long i = 0; i < n; i++)
        p = strchr(p, '\n') + 1;
    return (size_t)(p - text);
}

/* keep(): collects the lines it is handed, one per row of `got`. */
typedef struct { char got[8][200]; int n; int fail_at; } kept;

static int keep_line(void *kctx, const char *line, size_t len)
{
    kept *k = kctx;
    if (k->n == k->fail_at)
        return -1;
    snprintf(k->got[k->n++], sizeof k->got[0], "%.*s", (int)len, line);
    return 0;
}

static tc_result_cut plan(const char *json, const char *csv, long max_it, long max_rows,
                          kept *k)
{
    tc_result_cut cut;
    tc_error err;
    tc_error_init(&err);
    CHECK_INT(tc_result_cut_plan(json, json ? strlen(json) : 0, csv, csv ? strlen(csv) : 0,
                                 max_it, max_rows, keep_line, k, &cut, &err), 0);
    CHECK_INT(err.code, TC_OK);
    return cut;
}

/* A restart from the checkpoint of each iteration (and from scratch, and
 * past the end): both files keep exactly the rows up to it. */
static void test_restart_at_each_point(void)
{
    static const struct { long max_iteration, max_rows, rows; } cases[] = {
        {-1, -1, 0}, {0, -1, 0}, {1, -1, 1}, {2, -1, 2}, {3, -1, 3}, {4, -1, 4},
        {99, -1, 4}, {99, 2, 2}, {3, 1, 1}, {99, 0, 0}, {-1, 3, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        kept k = {.fail_at = -1};
        tc_result_cut cut = plan(JSON4, CSV4, cases[c].max_iteration, cases[c].max_rows, &k);
        long rows = cases[c].rows;
        CHECK_INT(cut.rows, rows);
        CHECK_INT(k.n, rows);
        CHECK_INT(cut.json_bytes, lines_bytes(JSON4, rows));
        CHECK_INT(cut.csv_bytes, rows ? lines_bytes(CSV4, rows + 1) : 0);
        CHECK_INT(cut.header_len, rows ? strlen("loss,training_iteration") : 0);
        for (long i = 0; i < rows; i++) {
            char want[200];
            size_t from = lines_bytes(JSON4, i), to = lines_bytes(JSON4, i + 1);
            snprintf(want, sizeof want, "%.*s", (int)(to - from - 1), JSON4 + from);
            CHECK_STR(k.got[i], want);
        }
    }
}

/* A torn last line (the driver died mid-write) is dropped whatever the
 * limit; an unreadable line ends the kept part. */
static void test_torn_and_unreadable_lines(void)
{
    kept k = {.fail_at = -1};
    char json[512];
    snprintf(json, sizeof json, "%s{\"loss\": 0.5, \"training_iter", JSON4);
    tc_result_cut cut = plan(json, CSV4, 99, -1, &k);
    CHECK_INT(cut.rows, 4);
    CHECK_INT(cut.json_bytes, strlen(JSON4));
    CHECK_INT(cut.csv_bytes, strlen(CSV4));

    k.n = 0;
    snprintf(json, sizeof json, "%s%s", ROW(1) ROW(2) "not json at all\n", ROW(4));
    cut = plan(json, CSV4, 99, -1, &k);
    CHECK_INT(cut.rows, 2);
    CHECK_INT(cut.json_bytes, lines_bytes(json, 2));
    CHECK_INT(cut.csv_bytes, lines_bytes(CSV4, 3));

    /* A line without training_iteration counts as older than any. */
    k.n = 0;
    cut = plan("{\"loss\": 1}\n" ROW(5), NULL, 3, -1, &k);
    CHECK_INT(cut.rows, 1);
    CHECK_INT(cut.json_bytes, strlen("{\"loss\": 1}\n"));
}

/* progress.csv shorter than result.json (a crash between the two writes),
 * torn, with quoted line breaks, with a CRLF header, or missing. */
static void test_csv_shapes(void)
{
    kept k = {.fail_at = -1};
    const char *short_csv = "loss,training_iteration\n0.1,1\n0.2,2\n";
    tc_result_cut cut = plan(JSON4, short_csv, 3, -1, &k);
    CHECK_INT(cut.rows, 3);
    CHECK_INT(cut.csv_bytes, strlen(short_csv));     /* all its whole records stay */

    k.n = 0;
    const char *torn_csv = "loss,training_iteration\n0.1,1\n0.2,2\n0.3";
    cut = plan(JSON4, torn_csv, 99, -1, &k);
    CHECK_INT(cut.csv_bytes, lines_bytes(torn_csv, 3));

    k.n = 0;
    const char *quoted = "note,training_iteration\n\"two\nlines\",1\n\"x\",2\n\"y\",3\n";
    cut = plan(JSON4, quoted, 2, -1, &k);
    CHECK_INT(cut.rows, 2);
    CHECK_INT(cut.csv_bytes, strstr(quoted, "\"y\"") - quoted);

    k.n = 0;
    const char *crlf = "loss,training_iteration\r\n0.1,1\r\n0.2,2\r\n";
    cut = plan(JSON4, crlf, 1, -1, &k);
    CHECK_INT(cut.header_len, strlen("loss,training_iteration"));
    CHECK_INT(cut.csv_bytes, strstr(crlf, "0.2") - crlf);

    k.n = 0;
    cut = plan(JSON4, NULL, 2, -1, &k);              /* no progress.csv */
    CHECK_INT(cut.rows, 2);
    CHECK_INT(cut.csv_bytes, 0);
    CHECK_INT(cut.header_len, 0);

    k.n = 0;
    cut = plan(NULL, CSV4, 2, -1, &k);               /* no result.json: no rows */
    CHECK_INT(cut.rows, 0);
    CHECK_INT(cut.csv_bytes, 0);

    k.n = 0;
    cut = plan(JSON4, "", 2, -1, &k);                /* an empty progress.csv */
    CHECK_INT(cut.csv_bytes, 0);
    CHECK_INT(cut.header_len, 0);
}

/* keep() failing is out of memory: the plan fails. */
static void test_keep_failure(void)
{
    kept k = {.fail_at = 2};
    tc_result_cut cut;
    tc_error err;
    tc_error_init(&err);
    CHECK_INT(tc_result_cut_plan(JSON4, strlen(JSON4), CSV4, strlen(CSV4), 99, -1, keep_line, &k,
                                 &cut, &err), -1);
    CHECK_INT(err.code, TC_ERR_NOMEM);
}

int main(void)
{
    test_restart_at_each_point();
    test_torn_and_unreadable_lines();
    test_csv_shapes();
    test_keep_failure();
    TEST_MAIN_END();
}
