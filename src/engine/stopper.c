/* stopper.c — the stop dict (spec §7.1, §18.14): Trial.should_stop.
 *
 * A trial stops when result["done"] is truthy, or when any criterion holds:
 * result[key] >= threshold, criteria checked in the dict's order, the first
 * satisfied one ends the check. Keys may be "/" paths into the nested result
 * (tc_json_path_get), matching Ray 0.8.5+, which checks the flattened result.
 *
 * Errors mirror Ray's:
 *   - a key absent from the result: TuneError "Stopping criteria k not
 *     provided in result {...}." (the result shown flattened, as Ray's is,
 *     in Python's dict repr, cut when long);
 *   - a dict threshold: ValueError "Stopping criteria is now flattened...";
 *   - a non-number threshold: ValueError naming the key (caught before any
 *     trial starts by tc_stop_validate; Ray only failed at the comparison);
 *   - a result value that is not a number: TypeError with Python's text for
 *     `value >= threshold`.
 * Booleans compare as 0 / 1 and NaN compares false, as in Python.
 */
#include <string.h>
#include "tunec.h"

/* Room kept for the result text in an error message (tc_error.text is
 * 1024 bytes; the rest is the sentence and the key). */
#define RESULT_TEXT_MAX 700

static const char flattened_msg[] =
    "Stopping criteria is now flattened by default. Use forward slashes to nest values "
    "`key1/key2/key3`.";

/* Python's type name of a JSON value (for TypeError texts). */
static const char *py_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "dict";
    case JSON_ARRAY: return "list";
    case JSON_STRING: return tc_json_is_bigint(v) ? "int" : tc_json_is_nonfinite(v) ? "float" : "str";
    case JSON_INTEGER: return "int";
    case JSON_REAL: return "float";
    case JSON_TRUE:
    case JSON_FALSE: return "bool";
    case JSON_NULL: return "NoneType";
    }
    return "object";
}

/* A number in Python's sense: int, float (markers too) or bool. */
static int py_number(const json_t *v, double *out)
{
    if (json_is_boolean(v)) {
        *out = json_is_true(v) ? 1.0 : 0.0;
        return 1;
    }
    return tc_json_number(v, out);
}

/* Python truthiness of a JSON value. */
static int py_truthy(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return json_object_size(v) > 0;
    case JSON_ARRAY: return json_array_size(v) > 0;
    case JSON_STRING: return json_string_length(v) > 0;
    case JSON_INTEGER: return json_integer_value(v) != 0;
    case JSON_REAL: return json_real_value(v) != 0.0;
    case JSON_TRUE: return 1;
    default: return 0;
    }
}

/* Appends repr(value), cut to max bytes at a UTF-8 boundary, with "...". */
static int short_repr(const json_t *v, size_t max, tc_buf *out)
{
    if (tc_py_repr(v, out) < 0)
        return -1;
    if (out->len > max) {
        size_t cut = max;
        while (cut > 0 && ((unsigned char)out->data[cut] & 0xC0) == 0x80)
            cut--;
        out->len = cut;
        out->data[cut] = '\0';
        return tc_buf_puts(out, "...");
    }
    return 0;
}

/* criteria borrowed */
int tc_stop_validate(const json_t *criteria, tc_error *err)
{
    const char *key;
    json_t *value;
    double d;
    if (!criteria || json_is_null(criteria))
        return 0;
    if (!json_is_object(criteria))
        return tc_error_set(err, TC_ERR_VALUE, "Invalid stop criteria: expected a dict, got %s",
                            py_type_name(criteria));
    json_object_foreach((json_t *)criteria, key, value) {
        if (json_is_object(value))
            return tc_error_set(err, TC_ERR_VALUE, "%s", flattened_msg);
        if (!py_number(value, &d)) {
            tc_buf text;
            tc_buf_init(&text);
            short_repr(value, 200, &text);
            tc_error_set(err, TC_ERR_VALUE,
                         "Invalid stop criteria: the threshold of stop[\"%s\"] must be a number, "
                         "got %s (%s)", key, text.data ? text.data : "?", py_type_name(value));
            tc_buf_free(&text);
            return -1;
        }
    }
    return 0;
}

static int missing_key(const char *key, const json_t *result, tc_error *err)
{
    tc_buf text;
    tc_buf_init(&text);
    json_t *flat = tc_flatten(result, "/", NULL);
    if (!flat || short_repr(flat, RESULT_TEXT_MAX, &text) < 0)
        tc_error_set(err, TC_ERR_TUNE, "Stopping criteria %s not provided in result.", key);
    else
        tc_error_set(err, TC_ERR_TUNE, "Stopping criteria %s not provided in result %s.", key,
                     text.data);
    json_decref(flat);
    tc_buf_free(&text);
    return -1;
}

/* criteria and result borrowed */
int tc_stop_check(const json_t *criteria, const json_t *result, int *stop, tc_error *err)
{
    const char *key;
    json_t *threshold;
    *stop = 0;
    if (!json_is_object(result))
        return tc_error_set(err, TC_ERR_TYPE, "a result must be a dict, got %s",
                            result ? py_type_name(result) : "nothing");
    json_t *done = json_object_get(result, "done");
    if (done && py_truthy(done)) {
        *stop = 1;
        return 0;
    }
    if (!criteria || json_is_null(criteria))
        return 0;
    if (!json_is_object(criteria))
        return tc_stop_validate(criteria, err);
    json_object_foreach((json_t *)criteria, key, threshold) {
        json_t *value = tc_json_path_get(result, key);
        double v, t;
        if (!value)
            return missing_key(key, result, err);
        if (json_is_object(threshold))
            return tc_error_set(err, TC_ERR_VALUE, "%s", flattened_msg);
        if (!py_number(threshold, &t))
            return tc_stop_validate(criteria, err);
        if (!py_number(value, &v))
            return tc_error_set(err, TC_ERR_TYPE,
                                "'>=' not supported between instances of '%s' and '%s' "
                                "(stopping criteria %s)",
                                py_type_name(value), py_type_name(threshold), key);
        int reached;
        if (json_is_integer(value) && json_is_integer(threshold))
            reached = json_integer_value(value) >= json_integer_value(threshold);  /* exact */
        else
            reached = v >= t;
        if (reached) {
            *stop = 1;
            return 0;
        }
    }
    return 0;
}
