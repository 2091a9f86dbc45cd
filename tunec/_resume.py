"""Reading an experiment's state back for ``resume`` (spec §15.4).

An experiment directory holds, per session, ``experiment_state-<session>.json``
(a snapshot, replaced atomically) and ``experiment_state-<session>.journal``
(one JSON line per event since the session began: a trial started, changed
status, registered checkpoints), written through so that a killed driver
loses none of them. The latest session's snapshot plus its journal give every
trial's record; the engine matches them to the regenerated trials. The files
are read by the engine (src/engine/state_read.c: the merge rules are there).
"""
import os
from collections.abc import Mapping

from tunec import _lazylog, _tunec
from tunec.error import TuneError

logger = _lazylog.getLogger("ray.tune.trial_runner")

_PREFIX = "experiment_state-"


def _sessions(exp_dir):
    names = set()
    import glob
    for path in glob.glob(os.path.join(glob.escape(exp_dir), _PREFIX + "*")):
        base = os.path.basename(path)
        for ext in (".json", ".journal"):
            if base.endswith(ext):
                names.add(base[len(_PREFIX):-len(ext)])
    return sorted(names)


def has_state(exp_dir):
    return bool(_sessions(exp_dir))


class ResumeState(Mapping):
    """The state of the session being resumed, as the engine's reader indexed
    it (src/engine/state_read.c, without the GIL): trial ids and where their
    snapshot entry and journal events are in the state files, which stay
    open and are read back a record at a time (src/ext/state_ext.c).
    ``tune.run`` hands it to the engine, which parses each record
    only when its trial is regenerated; reading a 100,000-trial state builds
    no Python object per trial. As a mapping it builds every record (for
    tests and tools)."""

    def __init__(self, handle):
        self.handle = handle
        self._built = None

    def _records(self):
        if self._built is None:
            self._built = _tunec.state_records(self.handle)
        return self._built

    def __len__(self):
        return _tunec.state_count(self.handle) if self._built is None else len(self._built)

    def __getitem__(self, trial_id):
        return self._records()[trial_id]

    def __iter__(self):
        return iter(self._records())


def load(exp_dir):
    """(state, runner_data) of the latest session in exp_dir: a ResumeState
    (the records by trial id) and the snapshot's runner_data dict. TuneError
    naming the file for a corrupt snapshot; a damaged journal line or
    checkpoint record is skipped with a warning (a torn last line quietly)."""
    sessions = _sessions(exp_dir)
    if not sessions:
        raise ValueError("Called resume when no checkpoint exists in local directory.")
    base = os.path.join(exp_dir, _PREFIX + sessions[-1])
    handle, runner_data, warnings = _tunec.read_state(base + ".json", base + ".journal", exp_dir)
    for text in warnings:
        logger.warning("%s", text)
    state = ResumeState(handle)
    if not len(state) and not runner_data:
        raise TuneError("The experiment state in {} holds no trials.".format(exp_dir))
    return state, runner_data


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
