"""Reading an experiment's state back for ``resume`` (spec §15.4).

An experiment directory holds, per session, ``experiment_state-<session>.json``
(a snapshot, replaced atomically) and ``experiment_state-<session>.journal``
(one JSON line per event since the session began: a trial started, changed
status, registered checkpoints), written through so that a killed driver
loses none of them. The latest session's snapshot plus its journal give every
trial's record; the engine matches them to the regenerated trials.
"""
import gc
import glob
import json
import logging
import os

from tunec.error import TuneError

logger = logging.getLogger("ray.tune.trial_runner")

_PREFIX = "experiment_state-"
# What a finished trial's final journal event carries besides its status.
_FINAL_KEYS = ("last_result", "metric_analysis", "n_results", "last_update_time")


def _sessions(exp_dir):
    names = set()
    for path in glob.glob(os.path.join(glob.escape(exp_dir), _PREFIX + "*")):
        base = os.path.basename(path)
        for ext in (".json", ".journal"):
            if base.endswith(ext):
                names.add(base[len(_PREFIX):-len(ext)])
    return sorted(names)


def has_state(exp_dir):
    return bool(_sessions(exp_dir))


def _read_journal(path):
    """The journal's events. A torn last line (the driver died while writing
    it) is dropped quietly; a damaged line before it (junk, a value that is
    not an event) is skipped with a warning naming the file and line."""
    events = []
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return events
    lines = data.split(b"\n")
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:
            event = None
        if isinstance(event, dict):
            events.append(event)
        elif number < len(lines) and any(rest.strip() for rest in lines[number:]):
            logger.warning("Experiment journal %s: skipped damaged line %d", path, number)
    return events


def _corrupt(path, why):
    return TuneError("Cannot resume: the experiment state {} is corrupt ({}).".format(path, why))


def _read_snapshot(path):
    """(runner_data, [record, ...]) of a snapshot; TuneError naming the file
    when it is not the JSON object tunec writes."""
    try:
        with open(path, "rb") as f:
            state = json.loads(f.read())
    except ValueError as e:   # bad JSON, bad UTF-8
        raise _corrupt(path, e) from None
    if not isinstance(state, dict):
        raise _corrupt(path, "not a JSON object")
    runner_data = state.get("runner_data") or {}
    checkpoints = state.get("checkpoints", [])
    if not isinstance(runner_data, dict) or not isinstance(checkpoints, list):
        raise _corrupt(path, "runner_data or checkpoints of the wrong type")
    entries = []
    for entry in checkpoints:
        if isinstance(entry, str):
            try:
                entry = json.loads(entry)
            except ValueError as e:
                raise _corrupt(path, e) from None
        if isinstance(entry, dict) and isinstance(entry.get("trial_id"), str):
            entries.append(entry)
    return runner_data, entries


def _checkpoint_records(entries, journal, trial_id):
    """The well-formed checkpoint records of a journal event. A damaged one
    is dropped with a warning; so is one that points outside its trial
    directory (retention deletes checkpoints, so a resume must never adopt
    a path like "../.." or "/etc" from a file it did not check)."""
    kept = []
    for entry in entries if isinstance(entries, list) else []:
        if (isinstance(entry, dict) and _inside(entry.get("dir")) and _inside(entry.get("path"))
                and isinstance(entry.get("iteration"), int)
                and not isinstance(entry.get("iteration"), bool)):
            kept.append(entry)
    if len(kept) != (len(entries) if isinstance(entries, list) else 0) or not isinstance(
            entries, list):
        logger.warning("Experiment journal %s: dropped damaged checkpoint records of trial %s",
                       journal, trial_id)
    return kept


def _inside(path):
    """A relative path that stays inside the directory it is relative to."""
    if not isinstance(path, str) or not path or "\0" in path or os.path.isabs(path):
        return False
    return ".." not in path.split(os.sep)


def load(exp_dir):
    """(records by trial id, runner_data) of the latest session in exp_dir."""
    # Reading a 100,000-trial state makes millions of dicts and lists that
    # all stay alive: each automatic collection would walk them all again
    # (about a third of the read). Nothing here makes a cycle.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _load(exp_dir)
    finally:
        if collecting:
            gc.enable()


def _load(exp_dir):
    sessions = _sessions(exp_dir)
    if not sessions:
        raise ValueError("Called resume when no checkpoint exists in local directory.")
    session = sessions[-1]
    records, runner_data = {}, {}
    snapshot = os.path.join(exp_dir, _PREFIX + session + ".json")
    if os.path.exists(snapshot):
        runner_data, entries = _read_snapshot(snapshot)
        for entry in entries:
            records[entry["trial_id"]] = entry
    journal = os.path.join(exp_dir, _PREFIX + session + ".journal")
    for event in _read_journal(journal):
        kind = event.get("event")
        if not isinstance(event.get("trial_id", ""), str):
            continue   # not a line tunec wrote
        if kind == "start":
            record = event.get("record")
            if (isinstance(record, dict) and isinstance(record.get("trial_id"), str)
                    and isinstance(record.get("config", {}), dict)):
                earlier = records.get(record["trial_id"], {})
                merged = dict(earlier, **record)
                # A start record holds no results yet: a later snapshot's or
                # final event's results stay (they come after it).
                for key in _FINAL_KEYS:
                    if key in earlier:
                        merged[key] = earlier[key]
                records[record["trial_id"]] = merged
        elif kind == "status" and event.get("trial_id") in records:
            rec = records[event["trial_id"]]
            for key in ("status", "num_failures", "error_msg", "error_file"):
                rec[key] = event.get(key)
            # A final status carries the trial's last result and metric
            # analysis: the engine keeps them, without reading its files.
            if isinstance(event.get("last_result"), dict) and isinstance(
                    event.get("metric_analysis"), dict):
                for key in _FINAL_KEYS:
                    rec[key] = event.get(key)
        elif kind == "checkpoint" and event.get("trial_id") in records:
            records[event["trial_id"]]["tunec_checkpoints"] = _checkpoint_records(
                event.get("checkpoints"), journal, event["trial_id"])
        elif kind == "reconfig" and event.get("trial_id") in records:
            # A scheduler gave the trial a new config and tag (PBT, replay).
            rec = records[event["trial_id"]]
            rec["tunec_current_config"] = event.get("config")
            rec["experiment_tag"] = event.get("experiment_tag")
    if not records and not runner_data:
        raise TuneError("The experiment state in {} holds no trials.".format(exp_dir))
    for record in records.values():
        _relocate(record, exp_dir)
    return records, runner_data


def _relocate(record, exp_dir):
    """A moved or copied experiment: trial directories are found by name
    next to the state file (checkpoint paths are relative to them already).
    A copy resumes into its own trial directories, never into the original's
    while that still exists."""
    logdir = record.get("logdir")
    if isinstance(logdir, str) and logdir:
        moved = os.path.join(exp_dir, os.path.basename(os.path.normpath(logdir)))
        # In place (the usual case) nothing would change: no stat per trial.
        if moved == logdir and not record.get("error_file"):
            pass
        elif os.path.isdir(moved):
            record["logdir"] = moved
            if record.get("error_file"):
                record["error_file"] = os.path.join(moved, "error.txt")
    record["local_dir"] = exp_dir


def recorded_seeds(runner_data):
    """{experiment name: seed} of the session being resumed."""
    tunec_data = (runner_data or {}).get("tunec")
    exps = tunec_data.get("experiments") if isinstance(tunec_data, dict) else None
    if not isinstance(exps, list):
        return {}
    return {e.get("name"): e.get("seed") for e in exps
            if isinstance(e, dict) and isinstance(e.get("name"), str)}


def mode(resume, resume_unfinished, resume_errored, restart_errored):
    """Normalises Ray's resume spellings: (resume?, unfinished, resume_errored,
    restart_errored). "AUTO" resumes only when a state exists (decided by the
    caller)."""
    if resume in (False, None):
        return False, True, False, False
    text = str(resume).upper() if not isinstance(resume, bool) else "LOCAL"
    if text == "ERRORED_ONLY":
        return True, False, False, True
    base, _, extra = text.partition("+")
    if extra == "RESTART_ERRORED":
        restart_errored = True
    elif extra == "RESTART_ERRORED_ONLY":
        return True, False, False, True
    elif extra == "RESUME_ERRORED":
        resume_errored = True
    elif extra:
        raise ValueError("resume={!r}: unknown option {!r}".format(resume, extra))
    if base not in ("LOCAL", "TRUE", "PROMPT", "AUTO", "REMOTE"):
        raise ValueError("resume_type {!r} is not one of [True, 'LOCAL', 'REMOTE', 'PROMPT', "
                         "'AUTO', 'ERRORED_ONLY']".format(resume))
    return True, resume_unfinished, resume_errored, restart_errored
