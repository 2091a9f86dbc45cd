/* flatten.c — "/"-joined views of nested results (Ray's flatten_dict, spec
 * §10.4, §11.3) and "/"-path lookups into the nested form (spec §7.1).
 *
 * Ray's flatten_dict repeats one pass until no dict is left: each pass
 * removes every dict-valued key and appends its children, joined with the
 * delimiter, at the end. The resulting key order is therefore breadth first:
 * all top-level non-dict values in order, then the non-dict values one level
 * down (in parent order, then child order), and so on. It matters because
 * progress.csv's header is that order. Lists are values, not flattened; an
 * empty dict disappears.
 *
 * tc_flatten_walk produces that order without building anything: one
 * depth-first walk per level, emitting only the leaves at that level (the
 * depth-first order restricted to one level is the breadth-first order).
 * Results are shallow (one or two levels), so the repeated walks are cheap.
 *
 * Known difference (keys that themselves contain the delimiter): when a
 * produced key equals an existing one, the later value replaces the earlier
 * in its position, as dict.update does; Ray additionally loses a value when
 * the clash is with a dict that is being expanded in the same pass. Real
 * results do not produce such clashes.
 */
#include <string.h>
#include "tunec.h"

#define FLATTEN_MAX_DEPTH 2048

/* Emits the non-dict leaves exactly `target` levels below obj. Sets *deeper
 * when a non-empty dict sits at the target level (another pass is needed).
 * keybuf holds the prefix (key_len bytes) on entry and on return. */
static int walk_level(const json_t *obj, int level, int target, const char *delim,
                      size_t delim_len, const char *skip_key, tc_buf *keybuf,
                      tc_flatten_fn fn, void *ctx, int *deeper)
{
    const char *key;
    size_t key_len;
    json_t *value;
    size_t prefix_len = keybuf->len;

    json_object_keylen_foreach((json_t *)obj, key, key_len, value) {
        if (level == 0 && skip_key && strlen(skip_key) == key_len &&
            memcmp(key, skip_key, key_len) == 0)
            continue;
        int is_dict = json_is_object(value);
        if (level == target && is_dict) {
            if (json_object_size(value) > 0)
                *deeper = 1;
            continue;
        }
        if (level < target && !is_dict)
            continue;
        keybuf->len = prefix_len;
        if ((level > 0 && tc_buf_append(keybuf, delim, delim_len) < 0) ||
            tc_buf_append(keybuf, key, key_len) < 0)
            return -1;
        int rc = level == target
                     ? fn(ctx, keybuf->data, keybuf->len, value)
                     : walk_level(value, level + 1, target, delim, delim_len, NULL, keybuf,
                                  fn, ctx, deeper);
        if (rc < 0)
            return -1;
    }
    keybuf->len = prefix_len;
    if (keybuf->data)
        keybuf->data[prefix_len] = '\0';
    return 0;
}

/* obj borrowed; values passed to fn are borrowed. */
int tc_flatten_walk(const json_t *obj, const char *delim, const char *skip_key, tc_buf *keybuf,
                    tc_flatten_fn fn, void *ctx)
{
    if (!json_is_object(obj))
        return -1;
    size_t delim_len = strlen(delim);
    for (int target = 0; target < FLATTEN_MAX_DEPTH; target++) {
        int deeper = 0;
        tc_buf_clear(keybuf);
        if (walk_level(obj, 0, target, delim, delim_len, skip_key, keybuf, fn, ctx, &deeper) < 0)
            return -1;
        if (!deeper)
            return 0;
    }
    return -1;  /* nested deeper than any parsed JSON can be */
}

static int set_flat(void *ctx, const char *key, size_t key_len, json_t *value)
{
    return json_object_setn(ctx, key, key_len, value);  /* incref: borrowed into the copy */
}

/* new; obj borrowed, the values are shared (incref'd), not copied. */
json_t *tc_flatten(const json_t *obj, const char *delim, const char *skip_key)
{
    tc_buf key;
    json_t *out = json_object();
    tc_buf_init(&key);
    if (out && tc_flatten_walk(obj, delim, skip_key, &key, set_flat, out) < 0) {
        json_decref(out);
        out = NULL;
    }
    tc_buf_free(&key);
    return out;
}

static json_t *path_get(const json_t *obj, const char *path, size_t len, int depth)
{
    if (!json_is_object(obj) || depth > FLATTEN_MAX_DEPTH)
        return NULL;
    json_t *v = json_object_getn(obj, path, len);
    if (v)
        return v;
    /* Keys may contain "/" themselves: try every split, shortest head first. */
    for (size_t i = 0; i < len; i++) {
        if (path[i] != '/')
            continue;
        json_t *child = json_object_getn(obj, path, i);
        if (json_is_object(child)) {
            v = path_get(child, path + i + 1, len - i - 1, depth + 1);
            if (v)
                return v;
        }
    }
    return NULL;
}

/* borrowed, or NULL; obj borrowed */
json_t *tc_json_path_get(const json_t *obj, const char *path)
{
    if (!obj || !path)
        return NULL;
    return path_get(obj, path, strlen(path), 0);
}
