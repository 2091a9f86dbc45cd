"""Reading an experiment's state back for ``resume`` (spec §15.4).

An experiment directory holds, per session, ``experiment_state-<session>.json``
(a snapshot, replaced atomically) and ``experiment_state-<session>.journal``
(one JSON line per event since the session began: a trial started, changed
status, registered checkpoints), written through so that a killed driver
loses none of them. The latest session's snapshot plus its journal give every
trial's record; the engine matches them to the regenerated trials.
"""
import glob
import json
import os

from tunec.error import TuneError

_PREFIX = "experiment_state-"


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
    events = []
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return events
    for line in data.split(b"\n"):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:
            break   # a torn last line: the driver died while writing it
        if isinstance(event, dict):   # anything else is not ours: skipped
            events.append(event)
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


def load(exp_dir):
    """(records by trial id, runner_data) of the latest session in exp_dir."""
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
    for event in _read_journal(os.path.join(exp_dir, _PREFIX + session + ".journal")):
        kind = event.get("event")
        if not isinstance(event.get("trial_id", ""), str):
            continue   # not a line tunec wrote
        if kind == "start":
            record = event.get("record")
            if isinstance(record, dict) and isinstance(record.get("trial_id"), str):
                records[record["trial_id"]] = dict(records.get(record["trial_id"], {}), **record)
        elif kind == "status" and event.get("trial_id") in records:
            rec = records[event["trial_id"]]
            for key in ("status", "num_failures", "error_msg", "error_file"):
                rec[key] = event.get(key)
        elif kind == "checkpoint" and event.get("trial_id") in records:
            records[event["trial_id"]]["tunec_checkpoints"] = event.get("checkpoints") or []
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
    next to the state file (checkpoint paths are relative to them already)."""
    logdir = record.get("logdir")
    if isinstance(logdir, str) and logdir and not os.path.isdir(logdir):
        moved = os.path.join(exp_dir, os.path.basename(os.path.normpath(logdir)))
        if os.path.isdir(moved):
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
