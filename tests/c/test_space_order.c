/* test_space_order.c — BasicVariantGenerator's order options in the space
 * expansion: points_to_evaluate (merged over the config, expanded first,
 * one repetition each, a missing key named) and shuffle (a seeded
 * permutation of every variant, the same for the same seed, tags keep the
 * generation numbers). */
#include <stdlib.h>
#include "tunec.h"
#include "tc_test.h"

static json_t *J(const char *text)
{
    char *t = strdup(text);
    for (char *p = t; *p; p++)
        if (*p == '\'')
            *p = '"';
    json_error_t e;
    json_t *v = json_loads(t, JSON_DECODE_ANY, &e);
    if (!v)
        fprintf(stderr, "bad test JSON: %s: %s\n", t, e.text);
    free(t);
    return v;
}

/* The tags of every variant, joined by ' '. */
static void all_tags(const char *spec_text, long num_samples, uint64_t seed, char *out,
                     size_t cap)
{
    json_t *spec = J(spec_text);
    tc_error err;
    tc_error_init(&err);
    tc_space *s = tc_space_new(spec, num_samples, seed, &err);
    json_decref(spec);
    out[0] = '\0';
    CHECK(s != NULL);
    if (!s) {
        fprintf(stderr, "%s\n", err.text);
        return;
    }
    tc_variant v;
    while (tc_space_next(s, NULL, NULL, &v, &err) == 1) {
        size_t len = strlen(out);
        snprintf(out + len, cap - len, "%s%s", len ? " " : "", v.tag);
        tc_variant_clear(&v);
    }
    tc_space_free(s);
}

static void test_points_first(void)
{
    char tags[512];
    /* Two points, num_samples 3: the points, then one generated repetition. */
    all_tags("{'config': {'a': {'grid_search': [1, 2]}, 'b': 5},"
             " 'points_to_evaluate': [{'a': 9}, {'b': 7}]}", 3, 1, tags, sizeof tags);
    /* the first point fixes a (no vars left), the second leaves a's grid open */
    CHECK_STR(tags, "0 1_a=1 2_a=2 3_a=1 4_a=2");
    /* More points than num_samples: all points run, nothing generated. */
    all_tags("{'config': {'a': {'grid_search': [1, 2]}},"
             " 'points_to_evaluate': [{'a': 3}, {'a': 4}]}", 1, 1, tags, sizeof tags);
    CHECK_STR(tags, "0 1");

    /* The merged config: nested dicts merged key by key, a domain replaced. */
    json_t *spec = J("{'config': {'opt': {'lr': {'$tunec': 'domain', 'kind': 'uniform',"
                     " 'lower': 0, 'upper': 1}, 'mom': 0.9}},"
                     " 'points_to_evaluate': [{'opt': {'lr': 0.25}}]}");
    tc_error err;
    tc_error_init(&err);
    tc_space *s = tc_space_new(spec, 2, 7, &err);
    tc_variant v;
    CHECK(s && tc_space_next(s, NULL, NULL, &v, &err) == 1);
    CHECK(json_real_value(json_object_get(json_object_get(v.config, "opt"), "lr")) == 0.25);
    CHECK(json_real_value(json_object_get(json_object_get(v.config, "opt"), "mom")) == 0.9);
    CHECK_STR(v.tag, "0");
    tc_variant_clear(&v);
    CHECK(tc_space_next(s, NULL, NULL, &v, &err) == 1);    /* then a sampled one */
    double lr = json_real_value(json_object_get(json_object_get(v.config, "opt"), "lr"));
    CHECK(lr >= 0 && lr < 1 && lr != 0.25);
    CHECK(strncmp(v.tag, "1_lr=", 5) == 0);
    tc_variant_clear(&v);
    CHECK(tc_space_next(s, NULL, NULL, &v, &err) == 0);
    tc_space_free(s);
    json_decref(spec);

    /* A key the config lacks: an error naming it, before any variant. */
    spec = J("{'config': {'a': 1}, 'points_to_evaluate': [{'a': 2}, {'opt': {'b': 1}}]}");
    tc_error_init(&err);
    s = tc_space_new(spec, 1, 1, &err);
    CHECK(s == NULL);
    CHECK(strstr(err.text, "points_to_evaluate[1]") != NULL);
    CHECK(strstr(err.text, "config[\"opt\"]") != NULL);
    tc_space_free(s);
    json_decref(spec);
}

static void test_shuffle(void)
{
    const char *spec = "{'config': {'a': {'grid_search': [0, 1, 2, 3, 4, 5, 6, 7]}},"
                       " 'shuffle': true}";
    char first[512], again[512], other[512], plain[512];
    all_tags(spec, 2, 42, first, sizeof first);
    all_tags(spec, 2, 42, again, sizeof again);
    all_tags(spec, 2, 43, other, sizeof other);
    all_tags("{'config': {'a': {'grid_search': [0, 1, 2, 3, 4, 5, 6, 7]}}}", 2, 42, plain,
             sizeof plain);
    CHECK_STR(first, again);                  /* the seed gives the order */
    CHECK(strcmp(first, other) != 0);
    CHECK(strcmp(first, plain) != 0);         /* 16! orders: not the identity */
    /* The same variants, each once: sorted tags equal the plain ones. */
    int seen[16] = {0}, n = 0;
    for (char *p = first; *p; ) {
        long index = strtol(p, &p, 10);
        CHECK(index >= 0 && index < 16);
        if (index >= 0 && index < 16)
            seen[index]++;
        n++;
        while (*p && *p != ' ')
            p++;
        while (*p == ' ')
            p++;
    }
    CHECK_INT(n, 16);
    for (int i = 0; i < 16; i++)
        CHECK_INT(seen[i], 1);
    /* Points are shuffled with the rest. */
    all_tags("{'config': {'a': {'grid_search': [0, 1, 2]}}, 'shuffle': true,"
             " 'points_to_evaluate': [{'a': 9}]}", 3, 5, first, sizeof first);
    int spaces = 0;
    for (const char *p = first; *p; p++)
        spaces += *p == ' ';
    CHECK_INT(spaces, 6);                     /* the point, then 2 repetitions of 3 */
    CHECK(strstr(first, "1_a=0") && strstr(first, "3_a=2"));

    /* Unbounded num_samples cannot be shuffled. */
    json_t *s_spec = J(spec);
    tc_error err;
    tc_error_init(&err);
    tc_space *s = tc_space_new(s_spec, -1, 1, &err);
    CHECK(s == NULL);
    CHECK(strstr(err.text, "shuffle") != NULL);
    json_decref(s_spec);

    /* A space freed before all shuffled variants were taken frees them. */
    s_spec = J(spec);
    s = tc_space_new(s_spec, 2, 1, &err);
    tc_variant v;
    CHECK(s && tc_space_next(s, NULL, NULL, &v, &err) == 1);
    tc_variant_clear(&v);
    tc_space_free(s);
    json_decref(s_spec);
}

int main(void)
{
    test_points_first();
    test_shuffle();
    TEST_MAIN_END();
}
