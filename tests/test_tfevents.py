"""TensorBoard event files from the C engine (log_tfevents.c, spec §10.5, §11.3).

A small C driver (DRIVER below) is built with the engine sources into a
temporary dir; it reads result lines on stdin, scans each with tc_scan_result
and appends tc_tfevents_result's records to an event file (a line "H <json>"
appends the hparams of tc_tfevents_hparams instead). The files are then read
by tensorboard's own readers:

* EventFileLoader (what TensorBoard loads, after its data_compat migration):
  tags, steps, scalar values and histogram tensors against a Python
  transcription of Ray 0.8's TBXLogger.on_result over numpy;
* LegacyEventFileLoader (the raw Event protos) against a file that the real
  tensorboardX SummaryWriter writes for the same results, when tensorboardX
  is installed: every field equal, sum_squares to rounding (numpy uses BLAS).

tensorboard and tensorboardX are not dependencies of tunec: without them
these tests skip.
"""

import glob
import json
import math
import os
import re
import struct
import subprocess

import numpy as np
import pytest
from engine_driver import build_driver
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

pytest.importorskip("tensorboard")
from tensorboard import data_compat  # noqa: E402
from tensorboard.backend.event_processing import event_file_loader  # noqa: E402
from tensorboard.compat.proto import summary_pb2  # noqa: E402
from tensorboard.plugins.hparams import plugin_data_pb2  # noqa: E402
from tensorboard.util import tensor_util  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SETTINGS = settings(max_examples=int(os.environ.get("TUNEC_TFEVENTS_EXAMPLES", "60")),
                    deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                          HealthCheck.function_scoped_fixture])
WALL0 = 1712345678.25
# TensorBoard's own migration casts huge bucket edges to float32.
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")

DRIVER = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tunec.h"

/* driver FILE PER_VALUE WALL0 < lines: line i is written at WALL0 + i. */
int main(int argc, char **argv)
{
    if (argc != 4)
        return 2;
    FILE *f = fopen(argv[1], "wb");
    tc_tfevents *w = tc_tfevents_new(atoi(argv[2]));
    double wall0 = strtod(argv[3], NULL);
    tc_scan s;
    tc_error err;
    tc_buf out, dump;
    tc_scan_init(&s);
    tc_error_init(&err);
    tc_buf_init(&out);
    tc_buf_init(&dump);
    if (!f || !w || tc_tfevents_header(&out, wall0) < 0)
        return 3;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long i = 0;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        while (n > 0 && line[n - 1] == '\n')
            line[--n] = '\0';
        if (line[0] == 'H') {
            json_t *params = tc_json_loads(line + 2, (size_t)n - 2, &err), *removed = NULL;
            if (!params || tc_tfevents_hparams(w, params, wall0 + i, &out, &removed, &err) < 0)
                goto fail;
            tc_buf_clear(&dump);
            if (removed)
                tc_json_dump(removed, &dump, TC_DUMP_COMPACT);
            printf("%s\n", removed ? dump.data : "null");
            json_decref(removed);
            json_decref(params);
        } else if (tc_scan_result(&s, line, (size_t)n, "config", &err) < 0 ||
                   tc_tfevents_result(w, &s, wall0 + i, &out, &err) < 0) {
            goto fail;
        }
        if (fwrite(out.data, 1, out.len, f) != out.len)
            return 4;
        tc_buf_clear(&out);
        i++;
    }
    fclose(f);
    free(line);
    tc_tfevents_free(w);
    tc_scan_free(&s);
    tc_buf_free(&out);
    tc_buf_free(&dump);
    return 0;
fail:
    fprintf(stderr, "%s\n", err.text);
    return 1;
}
"""


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tfevents")
    src = tmp / "tfevents_driver.c"
    src.write_text(DRIVER)
    return build_driver(str(src), str(tmp / "tfevents_driver"))


def write_c(driver, path, lines, per_value=0):
    """Runs the driver; returns the event file's path and the hparams' removed params."""
    os.makedirs(path, exist_ok=True)
    file = os.path.join(path, "events.out.tfevents.c")
    text = "".join(line + "\n" for line in lines)
    proc = subprocess.run([driver, file, str(per_value), repr(WALL0)], input=text,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return file, [json.loads(x) for x in proc.stdout.splitlines()]


def dumps(result):
    return json.dumps(result)    # NaN / Infinity as Python writes them


def load(path):
    return list(event_file_loader.EventFileLoader(path).Load())


def load_raw(path):
    return list(event_file_loader.LegacyEventFileLoader(path).Load())


# --- the reference: Ray 0.8's TBXLogger over tensorboardX's helpers ----------

VALID_SUMMARY_TYPES = (int, float, np.float32, np.float64, np.int32, np.int64)
_INVALID_TAG_CHARACTERS = re.compile(r"[^-/\w\.]")


def clean_tag(name):          # tensorboardX.summary._clean_tag
    return _INVALID_TAG_CHARACTERS.sub("_", name).lstrip("/")


def flatten_dict(dt, delimiter="/"):   # ray.tune.utils.flatten_dict
    dt = dict(dt)
    while any(isinstance(v, dict) for v in dt.values()):
        remove, add = [], {}
        for key, value in dt.items():
            if isinstance(value, dict):
                for subkey, v in value.items():
                    add[delimiter.join([key, subkey])] = v
                remove.append(key)
        dt.update(add)
        for k in remove:
            del dt[k]
    return dt


def default_bins():           # SummaryWriter.default_bins
    v, buckets, neg = 1e-12, [], []
    while v < 1e20:
        buckets.append(v)
        neg.append(-v)
        v *= 1.1
    return neg[::-1] + [0] + buckets


BINS = default_bins()


def make_histogram(values):   # tensorboardX.summary.make_histogram (no max_bins)
    if values.size == 0:
        raise ValueError("The input has no element.")
    values = values.reshape(-1)
    counts, limits = np.histogram(values, bins=BINS)
    cum_counts = np.cumsum(np.greater(counts, 0))
    start, end = np.searchsorted(cum_counts, [0, cum_counts[-1] - 1], side="right")
    start, end = int(start), int(end) + 1
    counts = counts[start - 1:end] if start > 0 else np.concatenate([[0], counts[:end]])
    limits = limits[start:end + 1]
    if counts.size == 0 or limits.size == 0:
        raise ValueError("The histogram is empty, please file a bug report.")
    return summary_pb2.HistogramProto(
        min=values.min(), max=values.max(), num=len(values), sum=values.sum(),
        sum_squares=values.dot(values), bucket_limit=limits.tolist(), bucket=counts.tolist())


def histogram_of(value):      # add_histogram(tag, list): make_np, astype(float)
    with np.errstate(all="ignore"):
        arr = np.array(value)
        np.sum(arr)           # tensorboardX's check_nan: raises for strings, None
        return make_histogram(arr.astype(float))


def reference(result):
    """(step, [(tag, value)]) of TBXLogger.on_result: value is a float for a
    scalar, a HistogramProto for a list; and Ray's valid_result."""
    step = result.get("timesteps_total") or result["training_iteration"]
    tmp = dict(result)
    for k in ["config", "pid", "timestamp", "time_total_s", "training_iteration"]:
        tmp.pop(k, None)
    out, valid = [], {}
    for attr, value in flatten_dict(tmp).items():
        full = "/".join(["ray", "tune", attr])
        if type(value) in VALID_SUMMARY_TYPES and not np.isnan(value):
            valid[full] = value
            out.append((clean_tag(full), float(value)))
        elif type(value) == list and len(value) > 0:
            valid[full] = value
            try:
                out.append((clean_tag(full), histogram_of(value)))
            except (ValueError, TypeError):
                pass
    return int(step), out, valid


# --- comparison helpers ------------------------------------------------------

def f32(x):
    with np.errstate(all="ignore"):
        return np.float32(x).tobytes()


def f64(x):
    return struct.pack("<d", x)


def same_extreme(a, b):
    """Bit-equal, both NaN, or 0.0 against -0.0: numpy's vectorised min/max
    picks either zero on a tie (log_tfevents.c's known differences)."""
    return f64(a) == f64(b) or (math.isnan(a) and math.isnan(b)) or a == b == 0


def same_histo(got, want):
    assert same_extreme(got.min, want.min)
    assert same_extreme(got.max, want.max)
    assert got.num == want.num
    assert f64(got.sum) == f64(want.sum) or (math.isnan(got.sum) and math.isnan(want.sum)) \
        or got.sum == want.sum == 0
    a, b = got.sum_squares, want.sum_squares
    assert (math.isnan(a) and math.isnan(b)) or a == b or abs(a - b) <= 1e-12 * abs(b)
    assert [f64(x) for x in got.bucket_limit] == [f64(float(x)) for x in want.bucket_limit]
    assert list(got.bucket) == list(want.bucket)


def result_events(events):
    """Drops the file_version event; groups values per wall time."""
    assert events[0].file_version == "brain.Event:2"
    assert events[0].wall_time == WALL0
    return events[1:]


# --- strategies --------------------------------------------------------------

# Key characters: ASCII, and non-ASCII ones on both sides of \w whose class
# log_tfevents.c knows exactly (see its header comment).
KEY_CHARS = st.sampled_from(list("abcxyz_ABZ019 -.()%,:'@#") +
                            ["é", "ß", "中", "я", "ª", "²", "×", "÷", "\u00a0", "–", "“", "€",
                             "→", "■", "✓", "😀", "µ"])
KEYS = st.text(KEY_CHARS, min_size=1, max_size=6)
NUMBERS = st.one_of(st.integers(-2 ** 53, 2 ** 53), st.floats(width=64),
                    st.floats(-1e6, 1e6), st.sampled_from([0, 0.0, -0.0, 1e-13, 1e19, -1e25]),
                    st.sampled_from(BINS))    # exactly on an edge
NUMERIC_LISTS = st.one_of(
    st.lists(NUMBERS, min_size=1, max_size=30),
    st.lists(st.sampled_from([0, 0.0, -0.0, 1.5, -1.5]), min_size=2, max_size=4),   # ties
    st.lists(st.one_of(NUMBERS, st.booleans()), min_size=1, max_size=5),
    st.integers(1, 3).flatmap(lambda w: st.lists(st.lists(NUMBERS, min_size=w, max_size=w),
                                                  min_size=1, max_size=4)),
)
ODD_LISTS = st.one_of(
    st.just([]), st.just([[]]), st.just([[], []]), st.just([[1, 2], [3]]), st.just([1, [2]]),
    st.lists(st.one_of(NUMBERS, st.none(), st.text("ab", min_size=1, max_size=2)),
             min_size=1, max_size=4),
    st.just([float("inf")]), st.just([float("nan")]), st.just([{"a": 1}]),
)
LEAVES = st.one_of(NUMBERS, st.booleans(), st.none(), st.text("abc", max_size=3),
                   NUMERIC_LISTS, ODD_LISTS)
RESULT_BODY = st.dictionaries(KEYS, st.one_of(LEAVES, st.dictionaries(KEYS, LEAVES, max_size=3)),
                              max_size=8)
STEPS = st.fixed_dictionaries(
    {"training_iteration": st.integers(0, 10 ** 6)},
    optional={"timesteps_total": st.one_of(st.none(), st.integers(-10, 10 ** 9),
                                           st.floats(-1e6, 1e6)),
              "pid": st.integers(1, 99999), "timestamp": st.integers(0, 2 ** 31),
              "time_total_s": st.floats(0, 1e4), "config": st.just({"lr": 0.5, "n": [1, 2]}),
              "done": st.booleans()})


def make_results(bodies, steps):
    out = []
    for body, step in zip(bodies, steps):
        r = {k: v for k, v in body.items() if k not in step}
        r.update(step)
        out.append(r)
    return out


RESULTS = st.integers(1, 4).flatmap(
    lambda n: st.tuples(st.lists(RESULT_BODY, min_size=n, max_size=n),
                        st.lists(STEPS, min_size=n, max_size=n))).map(lambda t: make_results(*t))


def unique_tags(results):
    """Keys that clean to the same tag ("a b", "a(b") log twice under one tag;
    matching those values up is left out of the random tests."""
    for result in results:
        tags = [tag for tag, _ in reference(result)[1]]
        if len(set(tags)) != len(tags):
            return False
    return True


# --- tests -------------------------------------------------------------------

@SETTINGS
@given(RESULTS, st.booleans())
def test_event_file_loader_reads_what_tbx_logger_writes(driver, tmp_path_factory, results,
                                                        per_value):
    assume(unique_tags(results))
    path, _ = write_c(driver, str(tmp_path_factory.mktemp("run")), [dumps(r) for r in results],
                      int(per_value))
    events = result_events(load(path))
    raw = result_events(load_raw(path))
    got = {}    # wall time -> [(step, Value)]
    for e, r in zip(events, raw):
        assert e.step == r.step and e.wall_time == r.wall_time
        for v, rv in zip(e.summary.value, r.summary.value):
            got.setdefault(e.wall_time, []).append((e.step, v, rv))
    for i, result in enumerate(results):
        step, want, _ = reference(result)
        have = got.pop(WALL0 + i, [])
        if per_value:
            assert len(have) == len(want)
        assert sorted(v.tag for _, v, _ in have) == sorted(tag for tag, _ in want)
        by_tag = {v.tag: (s, v, rv) for s, v, rv in have}
        for tag, value in want:
            s, v, rv = by_tag[tag]
            assert s == step
            if isinstance(value, float):
                # TensorBoard's view: a float32 scalar tensor of the scalars plugin.
                assert v.metadata.plugin_data.plugin_name == "scalars"
                assert f32(tensor_util.make_ndarray(v.tensor).item()) == f32(value)
                assert f32(rv.simple_value) == f32(value)
            else:
                assert v.metadata.plugin_data.plugin_name == "histograms"
                same_histo(rv.histo, value)
                expect = data_compat.migrate_value(summary_pb2.Summary.Value(tag=tag, histo=value))
                a = tensor_util.make_ndarray(v.tensor)
                b = tensor_util.make_ndarray(expect.tensor)
                assert a.shape == b.shape
                assert np.array_equal(a[:, 2], b[:, 2])
                assert np.allclose(a[:, :2], b[:, :2], equal_nan=True, rtol=0, atol=0)
    assert not got, "events for results that log nothing"


def tbx_write(path, results, params):
    """Ray 0.8's TBXLogger (on_result, then close) through tensorboardX."""
    from tensorboardX import SummaryWriter
    from tensorboardX.summary import hparams

    writer = SummaryWriter(path, flush_secs=30)
    last_result = None
    for i, result in enumerate(results):
        step = result.get("timesteps_total") or result["training_iteration"]
        tmp = dict(result)
        for k in ["config", "pid", "timestamp", "time_total_s", "training_iteration"]:
            tmp.pop(k, None)
        valid = {}
        for attr, value in flatten_dict(tmp).items():
            full = "/".join(["ray", "tune", attr])
            if type(value) in VALID_SUMMARY_TYPES and not np.isnan(value):
                valid[full] = value
                writer.add_scalar(full, value, global_step=step, walltime=WALL0 + i)
            elif type(value) == list and len(value) > 0:
                valid[full] = value
                try:
                    with np.errstate(all="ignore"):
                        writer.add_histogram(full, value, global_step=step, walltime=WALL0 + i)
                except (ValueError, TypeError):
                    pass
        last_result = valid
    if params is not None and params and last_result:
        scrubbed = {k: v for k, v in flatten_dict(last_result).items()
                    if type(v) in VALID_SUMMARY_TYPES}
        flat_params = flatten_dict(params)
        kept = {k: v for k, v in flat_params.items()
                if isinstance(v, (str, bool, int, float, list))}
        for summary in hparams(hparam_dict=kept, metric_dict=scrubbed):
            writer.file_writer.add_summary(summary, walltime=WALL0 + len(results))
    writer.close()
    (file,) = glob.glob(os.path.join(path, "events.out.tfevents.*"))
    return file


def hparams_content(value):
    assert value.metadata.plugin_data.plugin_name == "hparams"
    return plugin_data_pb2.HParamsPluginData.FromString(value.metadata.plugin_data.content)


def assert_same_events(mine, theirs):
    """Equal Event protos, up to the order of values within one result."""
    key = lambda e: (e.wall_time, [v.tag for v in e.summary.value])   # noqa: E731
    mine, theirs = sorted(mine, key=key), sorted(theirs, key=key)
    assert len(mine) == len(theirs)
    for a, b in zip(mine, theirs):
        assert (a.wall_time, a.step, a.WhichOneof("what")) == (b.wall_time, b.step,
                                                                b.WhichOneof("what"))
        assert len(a.summary.value) == len(b.summary.value) == 1
        va, vb = a.summary.value[0], b.summary.value[0]
        assert va.tag == vb.tag and va.WhichOneof("value") == vb.WhichOneof("value")
        if va.HasField("histo"):
            same_histo(va.histo, vb.histo)
        elif va.WhichOneof("value") == "simple_value":
            assert f32(va.simple_value) == f32(vb.simple_value)
            assert va == vb
        else:
            # The hparams: equal plugin data (its map compares unordered).
            assert hparams_content(va) == hparams_content(vb)


@SETTINGS
@given(RESULTS)
def test_same_events_as_tensorboardx(driver, tmp_path_factory, results):
    pytest.importorskip("tensorboardX")
    assume(unique_tags(results))
    base = str(tmp_path_factory.mktemp("cmp"))
    params = {"lr": 0.01, "act": "relu", "deep": {"on": True, "n": 3}, "sizes": [1, 2],
              "nothing": None, "inf": float("inf")}
    lines = [dumps(r) for r in results] + ["H " + json.dumps(params)]
    mine, removed = write_c(driver, os.path.join(base, "c"), lines, per_value=1)
    theirs = tbx_write(os.path.join(base, "tbx"), results, params)
    assert_same_events(result_events(load_raw(mine)), load_raw(theirs)[1:])
    _, _, valid = reference(results[-1])
    assert removed == ([{"nothing": None}] if valid else [None])


def test_hparams_read_by_tensorboard(driver, tmp_path):
    from tensorboard.plugins.hparams import metadata

    results = [{"loss": 0.5, "acc": float("nan"), "h": [1, 2], "training_iteration": 1},
               {"loss": 0.25, "m": 3, "training_iteration": 2}]
    params = {"lr": 0.1, "opt": "adam", "nest": {"on": False, "k": 2}, "layers": [64, 64],
              "gone": None}
    path, removed = write_c(driver, str(tmp_path), [dumps(r) for r in results]
                            + ["H " + json.dumps(params)])
    assert removed == [{"gone": None}]
    events = load(path)
    exp, ssi, sei = events[-3:]
    for e in events[-3:]:
        assert e.wall_time == WALL0 + 2 and e.step == 0
    v = exp.summary.value[0]
    assert v.tag == metadata.EXPERIMENT_TAG
    experiment = metadata.parse_experiment_plugin_data(v.metadata.plugin_data.content)
    assert [(h.name, h.type) for h in experiment.hparam_infos] == [
        ("lr", 3), ("opt", 1), ("layers", 0), ("nest/on", 2), ("nest/k", 3)]
    assert [m.name.tag for m in experiment.metric_infos] == ["ray/tune/loss", "ray/tune/m"]
    v = ssi.summary.value[0]
    assert v.tag == metadata.SESSION_START_INFO_TAG
    start = metadata.parse_session_start_info_plugin_data(v.metadata.plugin_data.content)
    assert dict(start.hparams)["lr"].number_value == 0.1
    assert dict(start.hparams)["opt"].string_value == "adam"
    assert dict(start.hparams)["nest/on"].WhichOneof("kind") == "bool_value"
    assert not dict(start.hparams)["nest/on"].bool_value
    assert dict(start.hparams)["nest/k"].number_value == 2
    assert "layers" not in start.hparams
    v = sei.summary.value[0]
    assert v.tag == metadata.SESSION_END_INFO_TAG
    end = metadata.parse_session_end_info_plugin_data(v.metadata.plugin_data.content)
    assert end.status == 1


def test_unicode_tag_cleaning(driver, tmp_path):
    """Every code point whose \\w class log_tfevents.c claims to know (ASCII,
    Latin-1 and the symbol blocks it treats as non-word) is cleaned as
    Python's re does, and common letters of other scripts are kept."""
    points = list(range(0x20, 0x100)) + list(range(0x2000, 0x2070)) + \
        list(range(0x20a0, 0x20d0)) + list(range(0x2190, 0x2460)) + \
        list(range(0x2500, 0x2776)) + list(range(0x2794, 0x2c00)) + \
        list(range(0x1f300, 0x1fb00, 7)) + [ord(c) for c in "ŁΩжאب中あ한ऄ"]
    points = [p for p in points if chr(p) not in '"\\/']
    result = {"k" + chr(p): 1 for p in points}
    result["training_iteration"] = 1
    path, _ = write_c(driver, str(tmp_path), [json.dumps(result)])
    (event,) = result_events(load(path))
    got = [v.tag for v in event.summary.value]
    want = [clean_tag("ray/tune/k" + chr(p)) for p in points]
    bad = [(hex(p), g, w) for p, g, w in zip(points, got, want) if g != w]
    assert len(got) == len(want) and not bad


def test_large_histogram_sum_is_numpys(driver, tmp_path):
    """numpy sums a list pairwise; the C side reproduces it bit for bit."""
    rng = np.random.default_rng(7)
    values = (rng.standard_normal(20000) * 10.0 ** rng.integers(-8, 8, 20000)).tolist()
    path, _ = write_c(driver, str(tmp_path), [json.dumps({"h": values, "training_iteration": 3})])
    (event,) = result_events(load_raw(path))
    same_histo(event.summary.value[0].histo, histogram_of(values))


def test_one_event_per_result_and_per_value(driver, tmp_path):
    result = {"a": 1, "b": {"c": 2.5}, "h": [1, 2, 3], "s": "x", "training_iteration": 4}
    one, _ = write_c(driver, str(tmp_path / "one"), [json.dumps(result)], per_value=0)
    each, _ = write_c(driver, str(tmp_path / "each"), [json.dumps(result)], per_value=1)
    (event,) = result_events(load_raw(one))
    assert [v.tag for v in event.summary.value] == ["ray/tune/a", "ray/tune/b/c", "ray/tune/h"]
    events = result_events(load_raw(each))
    assert [[v.tag for v in e.summary.value] for e in events] == [
        ["ray/tune/a"], ["ray/tune/b/c"], ["ray/tune/h"]]
    assert {e.step for e in events} == {event.step} == {4}


def test_nothing_loggable_writes_only_the_header(driver, tmp_path):
    lines = [json.dumps({"done": True, "s": "x", "n": float("nan"), "l": [],
                         "training_iteration": 1}),
             "H " + json.dumps({"lr": 0.1})]
    path, removed = write_c(driver, str(tmp_path), lines)
    events = load(path)
    assert len(events) == 1 and events[0].file_version == "brain.Event:2"
    assert removed == [None]
