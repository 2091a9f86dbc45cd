"""Turns a compare.py results file into docs/benchmarks.md and a summary.

Every number written here is computed from the raw results file it is given:
medians, min and max over the measured runs (warm-ups left out), and ratios
from paired runs (the same round). Failed runs are counted and listed.
"""
import statistics

# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

LABELS = {
    "tunec": "tunec",
    "ray": "Ray Tune (defaults)",
    "ray-reuse": "Ray Tune (reuse_actors=True)",
    "optuna": "Optuna loop (RandomSampler, in-process)",
    "optuna-tpe": "Optuna TPESampler",
    "hyperopt-tpe": "Hyperopt tpe",
    "optuna-random": "Optuna RandomSampler",
    "tunec-random": "tunec random search (basic variant generator)",
    "import:tunec": "import tunec",
    "import:tunec+run": "import tunec, then resolve tune.run",
    "import:ray.tune": "import ray.tune",
    "import:optuna": "import optuna",
}


LABELS_BY_WORKLOAD = {
    "search-latency": {"tunec": "tunec TPESearch (defaults: multivariate)",
                       "tunec-uni": "tunec TPESearch(multivariate=False)"},
    "search-quality": {"tunec": "tunec TPESearch (defaults)"},
    "analysis-load": {"tunec": "tunec `ExperimentAnalysis` (tunec's directory)",
                      "ray": "Ray Tune `ExperimentAnalysis` (Ray's directory)",
                      "tunec-reads-ray": "tunec `Analysis` (Ray's directory)",
                      "tunec-cold": "tunec `ExperimentAnalysis`, cache off (tunec's directory)",
                      "tunec-reads-ray-cold": "tunec `Analysis`, cache off (Ray's directory)"},
}


def label(system, group=None):
    if group is not None:
        special = LABELS_BY_WORKLOAD.get(group["workload"], {})
        if system in special:
            return special[system]
    return LABELS.get(system, system)


def med(values):
    return statistics.median(values) if values else None


def quartiles(values):
    if len(values) < 2:
        return (values[0], values[0]) if values else (None, None)
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], q[2]


def fmt_s(value):
    """Seconds with a unit that keeps 3 significant digits readable."""
    if value is None:
        return "–"
    if abs(value) >= 1:
        return "{:.3g} s".format(value) if abs(value) < 100 else "{:.0f} s".format(value)
    if abs(value) >= 1e-3:
        return "{:.3g} ms".format(value * 1e3)
    return "{:.3g} µs".format(value * 1e6)


def fmt_num(value, digits=3):
    if value is None:
        return "–"
    if abs(value) >= 10 ** digits or abs(value) >= 1000:
        return "{:,.0f}".format(value)
    return "{:.{}g}".format(value, digits)


def fmt_ratio(values):
    if not values:
        return "–"
    return "{}× ({}–{})".format(fmt_num(med(values)), fmt_num(min(values)),
                                 fmt_num(max(values)))


def fmt_kb(kb):
    if kb is None:
        return "–"
    return "{:.1f} MB".format(kb / 1024) if abs(kb) >= 1024 else "{:.0f} KB".format(kb)


def by_system(group, rounds_key="rounds"):
    """{system: [record per measured round]} in the group's system order."""
    out = {s: [] for s in group["systems"]}
    for row in group[rounds_key]:
        for rec in row:
            out[rec["system"]].append(rec)
    return out


def values(records, metric):
    return [r["figures"][metric] for r in records if r["ok"] and
            r["figures"].get(metric) is not None]


def paired(group, peer, metric, invert=False):
    """peer/tunec per round (tunec/peer when invert) where both succeeded;
    tunec is the group's first system."""
    ratios = []
    base = group["systems"][0]
    for row in group["rounds"]:
        recs = {r["system"]: r for r in row}
        a, b = recs.get(base), recs.get(peer)
        if a and b and a["ok"] and b["ok"]:
            ta, tb = a["figures"].get(metric), b["figures"].get(metric)
            if ta and tb:
                ratios.append(ta / tb if invert else tb / ta)
    return ratios


def failures(group):
    out = []
    for key in ("setup",):
        for name, rec in (group.get(key) or {}).items():
            if not rec["ok"]:
                out.append(("setup: " + name, rec))
    for i, row in enumerate(group["warmup_round"]):
        for rec in row:
            if not rec["ok"]:
                out.append(("warm-up " + rec["system"], rec))
    for i, row in enumerate(group["rounds"]):
        for rec in row:
            if not rec["ok"]:
                out.append(("run {} {}".format(i + 1, rec["system"]), rec))
    return out


def ok_count(records):
    return "{}/{}".format(sum(1 for r in records if r["ok"]), len(records))


def groups_by_id(results):
    return {g["id"]: g for g in results["groups"]}


# --------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------

def table(header, rows):
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def timing_table(group, metric="wall_s", extra=()):
    """System, ok runs, median/min/max of `metric`, paired ratio, extras."""
    recs = by_system(group)
    higher = group["better"] == "higher"
    is_time = metric.endswith("_s") and not metric.endswith("per_s")
    show = fmt_s if is_time else fmt_num
    header = ["system", "runs ok", "median", "min", "max",
              "tunec advantage (paired: " + ("tunec/peer" if higher else "peer/tunec") + ")"]
    header += [h for h, _ in extra]
    rows = []
    for system, records in recs.items():
        vals = values(records, metric)
        # tunec's own variants (another entry point, another directory) are
        # not peers: no ratio against tunec for them.
        ratio = "–" if _is_tunec(system) else fmt_ratio(paired(group, system, metric, higher))
        row = [label(system, group), ok_count(records), show(med(vals)),
               show(min(vals) if vals else None), show(max(vals) if vals else None), ratio]
        row += [fn(records) for _, fn in extra]
        rows.append(row)
    return table(header, rows)


def _is_tunec(system):
    return system.startswith(("tunec", "import:tunec"))


def _med_fig(metric, fmt):
    return lambda records: fmt(med(values(records, metric)))


def _med_sum(metrics, fmt):
    """The median over runs of the sum of ``metrics`` in each run."""
    def fig(records):
        sums = [sum(r["figures"][m] for m in metrics) for r in records
                if r["ok"] and all(m in r["figures"] for m in metrics)]
        return fmt(med(sums))
    return fig


def _params_line(group):
    text = _params_text(group)
    return text + (" " + group["note"] if group.get("note") else "")


def _params_text(group):
    p = {k: v for k, v in group["params"].items() if k not in ("logging",)}
    w = group["warmup"]
    text = "Parameters: `{}`; {} measured runs per system after one warm-up round".format(
        p, group["runs"])
    if w != group["params"]:
        text += " (warm-up at `{}`)".format({k: v for k, v in w.items() if k != "logging"})
    if group["env"]:
        text += "; environment `{}` for the peers' runs".format(group["env"])
    return text + "."


def failure_block(group):
    fails = failures(group)
    if not fails:
        return ""
    lines = ["", "Failed runs (recorded, left out of the medians):", ""]
    for where, rec in fails:
        err = rec["error"].strip().splitlines()
        lines.append("- {}: `{}`".format(where, err[-1][:300] if err else "?"))
    return "\n".join(lines)


# --------------------------------------------------------------------------
# sections
# --------------------------------------------------------------------------

def sec_trivial(results):
    g = groups_by_id(results)
    out = ["## trivial-trials", "",
           "The whole `tune.run` of N trials of a function that reports once and returns "
           "(ray#11004: Ray Tune 22.7 s, Optuna 0.1 s for 100 trials). `ray.init` is done "
           "before the clock starts (its time is shown separately); tunec has no cluster to "
           "start. Optuna runs the same search (uniform x) as its in-process loop with "
           "`RandomSampler`, one trial at a time, no process isolation.", ""]
    for gid in ("trivial-20", "trivial-100", "trivial-1000"):
        if gid not in g:
            continue
        grp = g[gid]
        out += ["### " + grp["title"], "", _params_line(grp), "",
                timing_table(grp, "wall_s", extra=[
                    ("trials/s (median)", _med_fig("trials_per_s", fmt_num)),
                    ("ray.init (not in wall)", lambda r: fmt_s(med(values(r, "ray_init_s")))
                     if values(r, "ray_init_s") and max(values(r, "ray_init_s")) > 0
                     else "–"),
                    ("driver peak RSS", _med_fig("driver_peak_rss_kb", fmt_kb))]),
                failure_block(grp), ""]
    return out


def sec_bookkeeping(results):
    g = groups_by_id(results).get("bookkeeping")
    if not g:
        return []
    recs = by_system(g)
    ideal = med(values(recs["tunec"], "ideal_s")) or \
        g["params"]["n"] * g["params"]["sleep_time"] / results["machine"]["cpus"]
    rows = []
    for system, records in recs.items():
        ov = values(records, "overhead_pct")
        wall = values(records, "wall_s")
        rows.append([label(system), ok_count(records),
                     "{:+.1f} %".format(med(ov)) if ov else "–",
                     "{:+.1f} %".format(min(ov)) if ov else "–",
                     "{:+.1f} %".format(max(ov)) if ov else "–",
                     fmt_s(med(wall)),
                     "–" if system == "tunec" else fmt_ratio(paired(g, system, "wall_s"))])
    return ["## bookkeeping", "",
            "Ray's bookkeeping-overhead release workload (10,000 trials of 1 s on 16 CPUs; "
            "Ray's own figure +14 %) scaled to this machine: each trial reports once and "
            "sleeps 1 s, all CPUs busy. Overhead is the wall time over the ideal "
            "N × 1 s / CPUs = {}.".format(fmt_s(ideal)), "", _params_line(g), "",
            table(["system", "runs ok", "overhead median", "min", "max", "wall median",
                   "wall ratio (paired: peer/tunec)"], rows), failure_block(g), ""]


def sec_throughput(results):
    g = groups_by_id(results)
    out = ["## result-throughput", "",
           "One trial per CPU, each reporting for a fixed time: 4 s in a tight loop, or 2 s "
           "paced at 50 results/s. Results per second through the driver = results the driver recorded "
           "(each trial's last `training_iteration`) / wall time of the whole `tune.run`. "
           "Logging off: tunec `loggers=[]` (no result.json/progress.csv); Ray "
           "`TUNE_DISABLE_AUTO_CALLBACK_LOGGERS=1` (its own switch, as in its "
           "result-throughput release test). With as many trials as CPUs no actor is ever "
           "reused, so Ray runs with its defaults. Ray's docs quote about 570–1,000 "
           "results/s on one node with logging.", ""]
    for gid in [k for k in g if k.startswith("throughput-")]:
        grp = g[gid]
        extra = [("wall median", _med_fig("wall_s", fmt_s))]
        if grp["params"].get("rate"):
            extra.append(("overhead over ideal 2 s",
                          lambda r: "{:+.0f} %".format(med(values(r, "overhead_pct")))
                          if values(r, "overhead_pct") else "–"))
        out += ["### " + grp["title"], "", _params_line(grp), "",
                timing_table(grp, "results_per_s", extra=extra), failure_block(grp), ""]
    return out


def sec_analysis(results):
    g = groups_by_id(results)
    out = ["## analysis-load", "",
           "Loading an experiment directory and building `dataframe()` (one row per trial) "
           "and every trial's frame (`trial_dataframes`), in a fresh process; importing the "
           "package and pandas is not timed. tunec and Ray each load the directory they "
           "wrote (`ExperimentAnalysis(dir)`); tunec's `Analysis(dir)` also loads Ray's. "
           "Ray's `ExperimentAnalysis` reads every trial's results when constructed. "
           "tunec's `ExperimentAnalysis(dir)` and `Analysis(dir)` keep a parsed-column cache "
           "in the directory, written by the warm-up round's load, so their timed runs are "
           "repeated loads of an unchanged experiment; \"cache off\" is the same load with "
           "`TUNEC_ANALYSIS_CACHE=0` (every file parsed, as a first load does).", ""]
    for gid in ("analysis-load-100", "analysis-load-1000"):
        if gid not in g:
            continue
        grp = g[gid]
        setup = grp.get("setup") or {}
        writes = "; ".join("{} wrote it in {}".format(
            label("ray-reuse" if k == "ray" else k),
            fmt_s(r["figures"]["wall_s"]) if r["ok"] else "FAILED")
            for k, r in setup.items())
        out += ["### " + grp["title"], "", _params_line(grp) + (" Untimed set-up: " + writes
                                                                + "." if writes else ""), "",
                timing_table(grp, "wall_s", extra=[
                    ("construct + dataframe()", _med_sum(("construct_s", "dataframe_s"),
                                                          fmt_s)),
                    ("construct", _med_fig("construct_s", fmt_s)),
                    ("dataframe()", _med_fig("dataframe_s", fmt_s)),
                    ("trial_dataframes", _med_fig("trial_dataframes_s", fmt_s)),
                    ("CPU, whole load", _med_fig("cpu_s", fmt_s)),
                    ("CPU, construct + dataframe()", _med_fig("construct_dataframe_cpu_s",
                                                              fmt_s))]),
                failure_block(grp), ""]
        for system, what in (("tunec-reads-ray", ""), ("tunec-reads-ray-cold", ", cache off")):
            same = same_dir_ratio(grp, system)
            if same:
                out += ["The same directory (Ray's): Ray's load time / tunec `Analysis` load "
                        "time{}, paired: {}.".format(what, fmt_ratio(same)), ""]
    out.append("Ray's 1,000 × 100 directory is not written: Ray's time to write one grows "
               "with the number of trials and results (its 100 × 100 set-up time is above), "
               "and the suite has to stay within about half an hour; the 100 × 100 table is "
               "the side-by-side comparison.")
    out.append("")
    return out


def same_dir_ratio(group, system="tunec-reads-ray", metric="wall_s"):
    """Ray's time / tunec's (``system``) time loading Ray's directory, per round."""
    out = []
    for row in group["rounds"]:
        recs = {r["system"]: r for r in row}
        a, b = recs.get(system), recs.get("ray")
        if a and b and a["ok"] and b["ok"] and metric in a["figures"] and metric in b["figures"]:
            out.append(b["figures"][metric] / a["figures"][metric])
    return out


def sec_search(results):
    g = groups_by_id(results)
    out = ["## search", "",
           "tunec's searcher here is `TPESearch` with its defaults (the engine's TPE, "
           "multivariate), called through its Python API as a user calls it; tunec's random "
           "search (the basic variant generator, sampled in C) is the control. Latency is "
           "the time to produce one 8-parameter configuration given N completed trials of "
           "random configurations (Optuna: `study.ask()` plus 8 `suggest_float`; Hyperopt: "
           "one `tpe.suggest`; tunec: one `TPESearch.suggest`, multivariate (the default) and "
           "univariate, the previous suggestion "
           "completed between two timed ones, and one "
           "`tunec.sample.generate_variants(space, 1)` for random search, which does not "
           "depend on N). Each run takes the median of 20 suggestions after one warm-up "
           "suggestion. The TPE core alone, without the Python layer, is timed in \"Search "
           "quality and latency: the native TPE\" above.", ""]
    for past in (100, 1000):
        grp = g.get("search-latency-{}".format(past))
        if not grp:
            continue
        out += ["### " + grp["title"], "", _params_line(grp), "",
                timing_table(grp, "latency_median_s", extra=[
                    ("per config in a batch of 1,000",
                     lambda r: fmt_s(med(values(r, "batch_per_config_s")))
                     if values(r, "batch_per_config_s") else "–")]),
                failure_block(grp), ""]
    quality = [g[k] for k in sorted(g) if k.startswith("search-quality-")]
    if quality:
        out += ["### search quality", "",
                "Best value after 100 evaluations (minimisation), over seeds 0–19: median "
                "and quartiles, and the median gap to the known minimum f*, each search run one "
                "evaluation at a time in-process. The random searches (tunec's and Optuna's) "
                "are the controls.", ""]
        rows = []
        fstar = {"branin": 0.397887, "hartmann6": -3.32237, "rosenbrock6": 0.0}
        for grp in quality:
            problem = grp["params"]["problem"]
            for rec in grp["rounds"][0]:
                if not rec["ok"]:
                    rows.append([problem, label(rec["system"], grp), "FAILED", "", "", "", ""])
                    continue
                best = rec["figures"]["best"]
                q1, q3 = quartiles(best)
                secs = rec["figures"]["seconds_per_search"]
                rows.append([problem + " (f* = {})".format(fstar[problem]),
                             label(rec["system"], grp), fmt_num(med(best), 4),
                             "{} – {}".format(fmt_num(q1, 4), fmt_num(q3, 4)),
                             fmt_num(med(best) - fstar[problem], 3),
                             str(len(best)), fmt_s(med(secs))])
        out += [table(["problem", "searcher", "median best", "quartiles", "median gap to f*",
                       "seeds", "time per search (median)"], rows)]
        for grp in quality:
            out.append(failure_block(grp))
        out.append("")
    return out


def memory_slopes(results):
    """Driver RSS growth per 1,000 completed trials, from fresh-process runs
    at two sizes paired by round: tunec 1,000 vs 3,000, Ray 20 vs 100 (with
    actor reuse), Optuna 100 vs 1,000."""
    g = groups_by_id(results)
    specs = [("tunec", "trivial-1000", "memory-3000", "tunec"),
             ("ray-reuse", "trivial-20", "trivial-100", "ray-reuse"),
             ("optuna", "trivial-100", "trivial-1000", "optuna")]
    out = []
    for system, small_id, big_id, sys_key in specs:
        small, big = g.get(small_id), g.get(big_id)
        if not small or not big or sys_key not in small["systems"] or \
                sys_key not in big["systems"]:
            continue
        n1, n2 = small["params"]["n"], big["params"]["n"]
        slopes = {"driver_peak_rss_kb": [], "driver_rss_after_kb": []}
        peaks = {n1: [], n2: []}
        for ra, rb in zip(small["rounds"], big["rounds"]):
            a = next((r for r in ra if r["system"] == sys_key), None)
            b = next((r for r in rb if r["system"] == sys_key), None)
            if not (a and b and a["ok"] and b["ok"]):
                continue
            peaks[n1].append(a["figures"]["driver_peak_rss_kb"])
            peaks[n2].append(b["figures"]["driver_peak_rss_kb"])
            for key in slopes:
                slopes[key].append((b["figures"][key] - a["figures"][key]) * 1000.0 /
                                   (n2 - n1))
        out.append({"system": system, "n1": n1, "n2": n2,
                    "peak_n1_kb": med(peaks[n1]), "peak_n2_kb": med(peaks[n2]),
                    "peak_slope_kb": med(slopes["driver_peak_rss_kb"]),
                    "after_slope_kb": med(slopes["driver_rss_after_kb"]),
                    "pairs": len(slopes["driver_peak_rss_kb"])})
    return out


def sec_footprint(results):
    g = groups_by_id(results)
    out = ["## footprint", ""]
    grp = g.get("import")
    if grp:
        out += ["### import time", "",
                "`import X` timed inside a fresh interpreter (interpreter start-up not "
                "included). `import tunec` loads names lazily, so the second tunec row also "
                "resolves `tunec.run` (what `tune.run(...)` costs on first use).", "",
                _params_line(grp), "", timing_table(grp, "import_s"), failure_block(grp), ""]
    slopes = memory_slopes(results)
    if slopes:
        rows = []
        for s in slopes:
            per_trial = s["peak_slope_kb"] / 1000 if s["peak_slope_kb"] is not None else None
            rows.append([label(s["system"]), "{} → {}".format(s["n1"], s["n2"]),
                         fmt_kb(s["peak_n1_kb"]), fmt_kb(s["peak_n2_kb"]),
                         fmt_kb(s["peak_slope_kb"]),
                         "{:.2f} KB".format(per_trial) if per_trial is not None else "–",
                         fmt_kb(s["after_slope_kb"]), str(s["pairs"])])
        out += ["### driver memory", "",
                "Peak RSS (VmHWM) of the driver process alone, from the trivial-trials runs "
                "(fresh process each) at two sizes, paired by round; growth = difference / "
                "trials added. The returned analysis object is alive when measured, as in a "
                "user's script. Ray's raylet, GCS and workers and tunec's workers are other "
                "processes and not counted. Ray is measured between 20 and 100 trials (with "
                "actor reuse), the sizes it runs in this suite.", "",
                table(["system", "trials", "peak RSS (small)", "peak RSS (large)",
                       "peak growth per 1,000 trials", "per trial",
                       "post-run RSS growth per 1,000", "pairs"], rows), ""]
    return out


# --------------------------------------------------------------------------
# headline and targets
# --------------------------------------------------------------------------

def headline(results):
    """[(what, measured text, target text, met: bool or None)]."""
    g = groups_by_id(results)
    rows = []

    def ratio(gid, peer, metric="wall_s", invert=False):
        grp = g.get(gid)
        if not grp or peer not in grp["systems"]:
            return None
        r = paired(grp, peer, metric, invert)
        return med(r) if r else None

    r = ratio("trivial-100", "ray-reuse")
    rows.append(("trivial-trials, 100: Ray (reuse_actors) time / tunec time",
                 fmt_num(r) + "×" if r else "–", "≥ 30×", r is not None and r >= 30))
    r = ratio("trivial-20", "ray")
    rows.append(("trivial-trials, 20: Ray (defaults) time / tunec time",
                 fmt_num(r) + "×" if r else "–", "–", None))
    r = ratio("trivial-20", "ray-reuse")
    rows.append(("trivial-trials, 20: Ray (reuse_actors) time / tunec time",
                 fmt_num(r) + "×" if r else "–", "≥ 20×", r is not None and r >= 20))
    for gid in ("trivial-100", "trivial-1000"):
        r = ratio(gid, "optuna")
        inv = 1 / r if r else None
        rows.append(("trivial-trials, {}: tunec time / Optuna loop time".format(
            gid.split("-")[1]), fmt_num(inv) + "×" if inv else "–", "≤ 5×",
            inv is not None and inv <= 5))
    grp = g.get("bookkeeping")
    if grp:
        ov = values(by_system(grp)["tunec"], "overhead_pct")
        m = med(ov)
        rows.append(("bookkeeping: tunec overhead over ideal",
                     "{:+.1f} %".format(m) if m is not None else "–", "≤ 2 %",
                     m is not None and m <= 2))
        for peer in RAY_SYSTEMS:
            if peer in grp["systems"]:
                ov = values(by_system(grp)[peer], "overhead_pct")
                m = med(ov)
                rows.append(("bookkeeping: {} overhead over ideal".format(label(peer)),
                             "{:+.1f} %".format(m) if m is not None else "–", "–", None))
    for gid, what in (("throughput-tight-log", "tight loop, logging on"),
                      ("throughput-tight-nolog", "tight loop, logging off"),
                      ("throughput-50-log", "50 results/s, logging on")):
        r = ratio(gid, "ray", "results_per_s", invert=True)
        grp = g.get(gid)
        tv = med(values(by_system(grp)["tunec"], "results_per_s")) if grp else None
        rv = med(values(by_system(grp)["ray"], "results_per_s")) if grp else None
        rows.append(("result-throughput, {}: tunec / Ray results/s ({} vs {} results/s)".format(
            what, fmt_num(tv), fmt_num(rv)), fmt_num(r) + "×" if r else "–",
            "≥ 100×" if gid == "throughput-tight-log" else "–",
            (r is not None and r >= 100) if gid == "throughput-tight-log" else None))
    r = ratio("analysis-load-100", "ray")
    rows.append(("analysis-load, 100 × 100: Ray time / tunec time, each loading its own "
                 "directory", fmt_num(r) + "×" if r else "–", "–", None))
    grp = g.get("analysis-load-100")
    same = med(same_dir_ratio(grp)) if grp else None
    # issue 12's loader targets: >= 10x Ray on Ray's directory (tunec's
    # Analysis(dir): its ExperimentAnalysis cannot read Ray 2.x's state), and
    # ExperimentAnalysis(dir) + dataframe() of 1,000 x 100, cached and cold.
    rows.append(("analysis-load, 100 × 100: Ray time / tunec time, both loading Ray's directory",
                 fmt_num(same) + "×" if same else "–", "≥ 10×",
                 (same >= 10) if same else None))
    for system, what in (("tunec-reads-ray", ""), ("tunec-reads-ray-cold", ", tunec's cache off")):
        for metric, kind in (("wall_s", "time"), ("cpu_s", "CPU time")):
            if system == "tunec-reads-ray" and metric == "wall_s":
                continue   # the row above
            r = med(same_dir_ratio(grp, system, metric)) if grp else None
            if r:
                name = ("analysis-load, 100 × 100: Ray {} / tunec {}, both loading Ray's "
                        "directory{}".format(kind, kind, what))
                rows.append((name, fmt_num(r) + "×", "–", None))
    grp = g.get("analysis-load-1000")
    for system, what in (("tunec", ""), ("tunec-cold", ", cache off")):
        recs = by_system(grp).get(system) if grp else None
        sums = [r["figures"]["construct_s"] + r["figures"]["dataframe_s"]
                for r in recs or () if r["ok"]]
        if sums:
            m = med(sums)
            rows.append(("analysis-load, 1,000 × 100: tunec `ExperimentAnalysis(dir)` + "
                         "`dataframe()`{}".format(what), fmt_s(m), "≤ 100 ms", m <= 0.1))
        cpu = med(values(recs or [], "construct_dataframe_cpu_s"))
        if cpu is not None:
            rows.append(("analysis-load, 1,000 × 100: the same, CPU time{}".format(what),
                         fmt_s(cpu), "≤ 100 ms", cpu <= 0.1))
    for peer in ("optuna-tpe", "hyperopt-tpe"):
        r = ratio("search-latency-1000", peer, "latency_median_s")
        rows.append(("suggestion latency after 1,000 trials: {} / tunec TPESearch".format(
            label(peer)), fmt_num(r) + "×" if r else "–", "–", None))
    grp = g.get("search-latency-1000")
    for system, what in (("tunec", "TPESearch (multivariate)"),
                         ("tunec-uni", "TPESearch(multivariate=False)")):
        recs = by_system(grp).get(system) if grp else None
        m = med(values(recs or [], "latency_median_s"))
        if m is not None:
            rows.append(("suggestion latency after 1,000 trials × 8 parameters: tunec " + what,
                         fmt_s(m), "≤ 100 µs", m <= 100e-6))
    grp = g.get("import")
    if grp:
        recs = by_system(grp)
        for system in grp["systems"]:
            m = med(values(recs[system], "import_s"))
            target = "≤ 100 ms" if system == "import:tunec" else "–"
            rows.append((label(system), fmt_s(m), target,
                         (m is not None and m <= 0.1) if system == "import:tunec" else None))
    for s in memory_slopes(results):
        per = s["peak_slope_kb"] / 1000 if s["peak_slope_kb"] is not None else None
        rows.append(("driver peak-RSS growth per completed trial, {} ({} → {} trials)".format(
            label(s["system"]), s["n1"], s["n2"]),
            "{:.2f} KB".format(per) if per is not None else "–",
            "≤ 2 KB" if s["system"] == "tunec" else "–",
            (per is not None and per <= 2) if s["system"] == "tunec" else None))
    return rows


RAY_SYSTEMS = ("ray", "ray-reuse")


def sec_headline(results):
    rows = [[what, measured, target,
             "" if met is None else ("met" if met else "**missed**")]
            for what, measured, target, met in headline(results)]
    return ["## Headline (medians of paired ratios; targets from issues 5, 10 and 12)", "",
            table(["figure", "measured", "target", ""], rows), ""]


def sec_machine(results, source):
    m = results["machine"]
    v = m["versions"]
    return ["## Machine and versions", "",
            "- {} CPUs ({}), {} GiB memory, Linux {}, Python {}".format(
                m["cpus"], m["cpu_model"], m["memory_gib"], m["kernel"], m["python"]),
            "- " + ", ".join("{} {}".format(k, v[k]) for k in v if v[k]),
            "- tunec at commit {}{}".format(m["tunec_commit"] or "?",
                                            " (with uncommitted changes)"
                                            if m["tunec_tree_dirty"] else ""),
            "- run started {}, took {:.0f} s; raw results: `{}`".format(
                results["started"], results.get("total_s", 0), source),
            "- 1-minute load average when runs started: {} (other work on this shared "
            "machine; 1 would be one CPU busy)".format(_load_text(results)), ""]


def _load_text(results):
    loads = [r["loadavg_before"] for g in results["groups"]
             for rows in (g["warmup_round"], g["rounds"]) for row in rows for r in row
             if "loadavg_before" in r]
    if not loads:
        return "not recorded"
    return "median {:.2f}, min {:.2f}, max {:.2f}".format(med(loads), min(loads), max(loads))


GENERATED_BEGIN = "<!-- Everything below this line is generated by benchmarks/compare.py"
GENERATED_END = "<!-- End of the part generated by benchmarks/compare.py. -->"


def _kept_parts(header_path, docs_path):
    """(head, tail): the hand-written text before and after the generated
    part of docs_path as it stands (sections other tools and people keep
    there: tpe_quality.py's, the start-up and Ray cluster sections); the
    header file alone where the docs have no generated part yet."""
    try:
        with open(docs_path) as f:
            text = f.read()
    except FileNotFoundError:
        text = ""
    if GENERATED_BEGIN not in text:
        with open(header_path) as f:
            return f.read().rstrip() + "\n\n", ""
    head, rest = text.split(GENERATED_BEGIN, 1)
    tail = rest.split(GENERATED_END, 1)[1].strip() if GENERATED_END in rest else ""
    return head.rstrip() + "\n\n", tail


def write_docs(results, source, header_path, docs_path):
    head, tail = _kept_parts(header_path, docs_path)
    body = []
    body += [GENERATED_BEGIN + " from {}; do not edit by hand. -->".format(source), ""]
    body += sec_machine(results, source)
    body += sec_headline(results)
    for sec in (sec_trivial, sec_bookkeeping, sec_throughput, sec_analysis, sec_search,
                sec_footprint):
        body += sec(results)
    body += ["", GENERATED_END, ""]
    if tail:
        body += [tail]
    text = head + "\n".join(line for line in body if line is not None).rstrip() + "\n"
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    with open(docs_path, "w") as f:
        f.write(text)


def summary(results):
    lines = ["headline figures:"]
    for what, measured, target, met in headline(results):
        flag = "" if met is None else ("  [met]" if met else "  [MISSED]")
        lines.append("  {}: {}{}{}".format(what, measured,
                                           "  (target {})".format(target)
                                           if target != "–" else "", flag))
    nfail = sum(len(failures(g)) for g in results["groups"])
    lines.append("failed runs: {}".format(nfail))
    return "\n".join(lines)
