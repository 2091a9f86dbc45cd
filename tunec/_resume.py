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
import logging
import os

from tunec.error import TuneError

logger = logging.getLogger("ray.tune.trial_runner")

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


def _read_snapshot(path):
    """(trial records, runner_data) of a snapshot. A damaged snapshot is
    passed over with a warning: the journal beside it holds every trial's
    start record, so the resume goes on from it (or fails naming both)."""
    records, runner_data = {}, {}
    try:
        with open(path, encoding="utf-8") as f:
            state = json.load(f)
    except (OSError, ValueError) as e:      # JSON and UTF-8 errors are ValueErrors
        logger.warning("Experiment state %s is unreadable (%s); resuming from its journal",
                       path, e)
        return records, runner_data, False
    if not isinstance(state, dict) or not isinstance(state.get("checkpoints", []), list):
        logger.warning("Experiment state %s is not an experiment state; resuming from its "
                       "journal", path)
        return records, runner_data, False
    runner_data = state.get("runner_data")
    runner_data = runner_data if isinstance(runner_data, dict) else {}
    for entry in state.get("checkpoints", []):
        if isinstance(entry, str):
            try:
                entry = json.loads(entry)
            except ValueError:
                entry = None
        if _is_record(entry):
            records[entry["trial_id"]] = entry
        else:
            logger.warning("Experiment state %s: skipped a damaged trial entry", path)
    return records, runner_data, True


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


def _is_record(entry):
    return (isinstance(entry, dict) and isinstance(entry.get("trial_id"), str)
            and isinstance(entry.get("logdir", ""), (str, type(None)))
            and isinstance(entry.get("config", {}), dict))


def load(exp_dir):
    """(records by trial id, runner_data) of the latest session in exp_dir."""
    sessions = _sessions(exp_dir)
    if not sessions:
        raise ValueError("Called resume when no checkpoint exists in local directory.")
    session = sessions[-1]
    records, runner_data, snapshot_ok = {}, {}, True
    snapshot = os.path.join(exp_dir, _PREFIX + session + ".json")
    if os.path.exists(snapshot):
        records, runner_data, snapshot_ok = _read_snapshot(snapshot)
    journal = os.path.join(exp_dir, _PREFIX + session + ".journal")
    for event in _read_journal(journal):
        kind = event.get("event")
        trial_id = event.get("trial_id")
        if kind == "start":
            record = event.get("record")
            if _is_record(record):
                records[record["trial_id"]] = dict(records.get(record["trial_id"], {}), **record)
        elif not isinstance(trial_id, str) or trial_id not in records:
            continue
        elif kind == "status":
            rec = records[trial_id]
            for key in ("status", "num_failures", "error_msg", "error_file"):
                rec[key] = event.get(key)
        elif kind == "checkpoint":
            records[trial_id]["tunec_checkpoints"] = _checkpoint_records(
                event.get("checkpoints"), journal, trial_id)
        elif kind == "reconfig":
            # A scheduler gave the trial a new config and tag (PBT, replay).
            rec = records[trial_id]
            rec["tunec_current_config"] = event.get("config")
            rec["experiment_tag"] = event.get("experiment_tag")
    if not records and not runner_data:
        if not snapshot_ok:
            raise TuneError("Cannot resume: the experiment state {} is damaged and its journal "
                            "{} holds no trials.".format(snapshot, journal))
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
    if logdir:
        moved = os.path.join(exp_dir, os.path.basename(os.path.normpath(logdir)))
        if os.path.isdir(moved):
            record["logdir"] = moved
            if record.get("error_file"):
                record["error_file"] = os.path.join(moved, "error.txt")
    record["local_dir"] = exp_dir


def recorded_seeds(runner_data):
    """{experiment name: seed} of the session being resumed."""
    exps = ((runner_data or {}).get("tunec") or {}).get("experiments") or []
    return {e.get("name"): e.get("seed") for e in exps if isinstance(e, dict)}


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
