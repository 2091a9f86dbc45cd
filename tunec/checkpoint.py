"""Checkpoints seen from inside a trainable (spec §2.3, §3.3, §3.4, §16).

The worker writes checkpoints into the trial's directory and tells the driver
(a CHECKPOINT frame with paths relative to the logdir); the driver's engine
keeps the list, applies ``keep_checkpoints_num`` and deletes what it drops.

- Class trainables: ``Trainable.save()`` / ``restore()`` (``_save``/``_restore`` or
  ``save_checkpoint``/``load_checkpoint``), in ``checkpoint_<iteration>/`` with
  an ``.is_checkpoint`` marker and a ``.tune_metadata`` pickle, as Ray 0.8.
- Function trainables (0.8.7-1.x): ``with tune.checkpoint_dir(step) as d:``,
  and the ``checkpoint_dir`` argument on restore.
- Function trainables (2.x): ``tune.report(metrics, checkpoint=Checkpoint.from_directory(d))``
  and ``tune.get_checkpoint()``.
"""
import contextlib
import os

from tunec import session as _session_mod

METADATA = ".tune_metadata"
MARKER = ".is_checkpoint"


def metadata_path(path):
    """Where a checkpoint's metadata lives: inside a directory checkpoint,
    beside a file checkpoint (Ray: ``<path>.tune_metadata``)."""
    if os.path.isdir(path):
        return os.path.join(path, METADATA)
    return path + METADATA


def write_metadata(path, counters, saved_as_dict):
    from tunec._version import __version__
    meta = {
        "experiment_id": counters["experiment_id"],
        "iteration": counters["iteration"],
        "timesteps_total": counters["timesteps_total"],
        "time_total": counters["time_total"],
        "episodes_total": counters["episodes_total"],
        "saved_as_dict": saved_as_dict,
        "ray_version": "tunec-" + __version__,
    }
    target = metadata_path(path)
    tmp = target + ".tmp"
    import pickle   # not at import: pickle.py brings re and struct to every worker
    with open(tmp, "wb") as f:
        pickle.dump(meta, f)
    os.replace(tmp, target)


def read_metadata(path):
    import pickle
    with open(metadata_path(path), "rb") as f:
        return pickle.load(f)


def restore_counters(session, path):
    """Sets the session's counters from a checkpoint's metadata (a checkpoint
    without one, e.g. a hand-made restore= directory, starts counting at 0)."""
    import pickle
    try:
        meta = read_metadata(path)
    except (OSError, pickle.UnpicklingError, EOFError):
        return None
    session.set_counters(meta.get("iteration") or 0, meta.get("time_total") or 0.0,
                         meta.get("timesteps_total"), meta.get("episodes_total"),
                         meta.get("experiment_id"))
    return meta


def within(path, directory):
    """`path` spelled under `directory` when it lies inside it (or is it),
    else None. Symlinks are followed for the test only: a trial's cwd is
    its logdir with symlinks resolved (os.getcwd()), so a path a trainable
    builds from it must still be recognised, and it is given back under the
    logdir's own spelling, which is what trial.checkpoint.value, the
    experiment state and restore= use."""
    path = os.path.abspath(os.fspath(path))
    directory = os.path.abspath(directory)
    if path == directory or path.startswith(os.path.join(directory, "")):
        return path
    rel = os.path.relpath(os.path.realpath(path), os.path.realpath(directory))
    if rel == os.curdir:
        return directory
    if rel == os.pardir or rel.startswith(os.pardir + os.sep):
        return None
    return os.path.join(directory, rel)


def make_dir(base, name):
    path = os.path.join(base, name)
    os.makedirs(path, exist_ok=True)
    open(os.path.join(path, MARKER), "a").close()
    return path


def announce(context, directory, path, transient=False):
    """Tells the driver about a checkpoint saved at the current iteration.
    transient: saved only because the driver asked (a scheduler's pause,
    PBT); the driver deletes it once a newer one exists."""
    import json
    from tunec import _tunec
    session = context.session
    rel_dir = os.path.relpath(directory, context.logdir)
    rel_path = os.path.relpath(path, context.logdir)
    # run_reports: how many results this run sent before the checkpoint; the
    # driver places it among the logged rows with it (training_iteration is
    # the user's to set, so it cannot say which rows a restart keeps).
    message = {"dir": rel_dir, "path": rel_path, "iteration": session.iteration,
               "run_reports": session.run_reports}
    if transient:
        message["transient"] = True
    payload = json.dumps(message).encode()
    session.send(_tunec.MSG_CHECKPOINT, context.attempt, payload)


# -- function API -------------------------------------------------------------

@contextlib.contextmanager
def checkpoint_dir(step):
    """``with tune.checkpoint_dir(step=...) as d:`` — a directory to write the
    function's state into; it becomes the trial's checkpoint together with the
    next ``tune.report`` (0.8.7-1.x semantics)."""
    if step is None:
        raise ValueError("checkpoint_dir(step) must be provided - got None.")
    context = _session_mod._session
    if context is None:
        yield os.path.abspath("./")
        return
    path = make_dir(context.logdir, "checkpoint_{}".format(step))
    yield path
    context.pending_checkpoint = path


def make_checkpoint_dir(step=None):
    """0.8.6: creates ``<logdir>/checkpoint_<step>`` and returns it."""
    context = _session_mod._get("make_checkpoint_dir()")
    step = context.session.iteration if step is None else step
    return make_dir(context.logdir, "checkpoint_{}".format(step))


def save_checkpoint(path):
    """0.8.6: marks `path` (inside a make_checkpoint_dir directory) as the
    checkpoint of the next report."""
    context = _session_mod._get("save_checkpoint()")
    inside = within(path, context.logdir)
    if inside is None or inside == os.path.abspath(context.logdir):
        raise ValueError("save_checkpoint: {} is not inside the trial directory {}".format(
            path, context.logdir))
    context.pending_checkpoint = inside


def flush_pending(context):
    """Registers the checkpoint the function wrote since its last report."""
    path = getattr(context, "pending_checkpoint", None)
    if path is None:
        return
    context.pending_checkpoint = None
    directory = path
    while os.path.dirname(directory) != context.logdir.rstrip(os.sep) and \
            os.path.dirname(directory) != directory:
        directory = os.path.dirname(directory)
    write_metadata(path, context.session.counters(), saved_as_dict=False)
    announce(context, directory, path)


class Checkpoint:
    """A checkpoint directory (Ray 2.x ``ray.tune.Checkpoint``)."""

    def __init__(self, path):
        self.path = os.fspath(path)

    @classmethod
    def from_directory(cls, path):
        if not os.path.isdir(path):
            raise ValueError("Checkpoint.from_directory: {} is not a directory".format(path))
        return cls(os.path.abspath(path))

    def to_directory(self, path=None):
        import shutil
        import tempfile
        path = path or tempfile.mkdtemp(prefix="checkpoint_")
        shutil.copytree(self.path, path, dirs_exist_ok=True)
        return path

    @contextlib.contextmanager
    def as_directory(self):
        yield self.path

    def __repr__(self):
        return "Checkpoint(path={!r})".format(self.path)


def get_checkpoint():
    """The checkpoint this trial was restored from, or None (2.x)."""
    context = _session_mod._session
    if context is None or not getattr(context, "restore_path", None):
        return None
    return Checkpoint(context.restore_path)


def report_with_checkpoint(metrics, checkpoint):
    """2.x ``tune.report(metrics, checkpoint=...)``: the directory is copied
    into the trial's ``checkpoint_<iteration>`` and registered with this
    result."""
    context = _session_mod._get("tune.report(checkpoint=...)")
    if not isinstance(checkpoint, Checkpoint):
        raise TypeError("checkpoint must be a tune.Checkpoint, got {!r}".format(checkpoint))
    import shutil
    target = make_dir(context.logdir, "checkpoint_{:06d}".format(context.session.iteration + 1))
    if os.path.abspath(checkpoint.path) != target:
        shutil.copytree(checkpoint.path, target, dirs_exist_ok=True)
    context.pending_checkpoint = target
    _session_mod._report(metrics)


class CheckpointConfig:
    """Ray 2.x ``CheckpointConfig``, accepted by ``tune.run(checkpoint_config=...)``."""

    def __init__(self, num_to_keep=None, checkpoint_score_attribute=None,
                 checkpoint_score_order="max", checkpoint_frequency=0, checkpoint_at_end=None):
        if num_to_keep is not None and (not isinstance(num_to_keep, int) or num_to_keep < 1):
            raise ValueError("num_to_keep must be a positive int or None, got {!r}".format(
                num_to_keep))
        if checkpoint_score_order not in ("max", "min"):
            raise ValueError("checkpoint_score_order must be 'max' or 'min', got {!r}".format(
                checkpoint_score_order))
        if not isinstance(checkpoint_frequency, int) or checkpoint_frequency < 0:
            raise ValueError("checkpoint_frequency must be an int >= 0, got {!r}".format(
                checkpoint_frequency))
        self.num_to_keep = num_to_keep
        self.checkpoint_score_attribute = checkpoint_score_attribute
        self.checkpoint_score_order = checkpoint_score_order
        self.checkpoint_frequency = checkpoint_frequency
        self.checkpoint_at_end = checkpoint_at_end

    def score_attr(self):
        """The 0.8 spelling: "min-<attr>" when lower is better."""
        if self.checkpoint_score_attribute is None:
            return None
        prefix = "min-" if self.checkpoint_score_order == "min" else ""
        return prefix + self.checkpoint_score_attribute
