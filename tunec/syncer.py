"""``tune.SyncConfig`` and the syncers (spec §15.6): how an experiment
directory reaches ``upload_dir`` / a ``storage_path`` URI.

A syncer is one of:
* a template string with ``{source}`` and ``{target}`` (run by the shell,
  paths shell-quoted) — Ray 0.8's ``sync_to_cloud``;
* a function ``fn(source, target)``;
* a ``Syncer`` subclass instance (Ray 2.x: ``sync_up``/``sync_down``/``delete``);
* ``"auto"`` (the default): pyarrow.fs or fsspec for a URI (tunec/_storage.py).
``None`` turns syncing off. When and how often is tunec/_sync_plan.py's job.
"""
import dataclasses
import os
from typing import Any, Optional

from tunec.error import TuneError

DEFAULT_SYNC_PERIOD = 300      # seconds; Ray's SYNC_PERIOD / TUNE_CLOUD_SYNC_S


def _default_period():
    return float(os.environ.get("TUNE_CLOUD_SYNC_S", DEFAULT_SYNC_PERIOD))


@dataclasses.dataclass
class SyncConfig:
    """Ray 1.x/2.x ``SyncConfig``. ``sync_artifacts`` is accepted: on one
    machine trial artifacts are inside the experiment directory and go up
    with it."""

    upload_dir: Optional[str] = None
    syncer: Any = "auto"
    sync_period: float = dataclasses.field(default_factory=_default_period)
    sync_timeout: float = 1800
    sync_on_checkpoint: bool = True
    sync_artifacts: bool = False
    sync_to_driver: Any = None

    def __post_init__(self):
        if self.upload_dir is not None and not isinstance(self.upload_dir, (str, os.PathLike)):
            raise TypeError("SyncConfig(upload_dir=...): expected a str, got {!r}".format(
                self.upload_dir))
        for name in ("sync_period", "sync_timeout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError("SyncConfig({}=...): expected a positive number of seconds, "
                                 "got {!r}".format(name, value))
        # Checked here, before any trial starts.
        make_syncer(self.syncer, "SyncConfig(syncer)", self.sync_timeout)


class Syncer:
    """Ray 2.x syncer interface: subclass and pass an instance as
    ``SyncConfig(syncer=...)``. Each method returns True on success; raising
    counts as a failure (logged and retried, never fatal to the run)."""

    def __init__(self, sync_period=DEFAULT_SYNC_PERIOD):
        self.sync_period = sync_period

    def sync_up(self, local_dir, remote_dir, exclude=None):
        raise NotImplementedError

    def sync_down(self, remote_dir, local_dir, exclude=None):
        raise NotImplementedError

    def delete(self, remote_dir):
        raise NotImplementedError

    def wait(self):
        """Waits for an asynchronous sync; tunec's syncs are synchronous
        (they run on tunec's own sync thread)."""

    def retry(self):
        raise NotImplementedError


class _CommandSyncer(Syncer):
    """A shell template: ``aws s3 sync {source} {target}``."""

    def __init__(self, template, timeout):
        super().__init__()
        self.template = template
        self.timeout = timeout

    def _run(self, source, target):
        import shlex
        import subprocess
        command = self.template.format(source=shlex.quote(source), target=shlex.quote(target))
        proc = subprocess.run(command, shell=True, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=self.timeout)
        if proc.returncode != 0:
            raise TuneError("Sync error ({}): {}".format(
                proc.returncode, proc.stderr.decode(errors="replace").strip()))
        return True

    def sync_up(self, local_dir, remote_dir, exclude=None):
        return self._run(local_dir, remote_dir)

    def sync_down(self, remote_dir, local_dir, exclude=None):
        return self._run(remote_dir, local_dir)

    def delete(self, remote_dir):
        raise TuneError("a sync template cannot delete {}".format(remote_dir))


class _FunctionSyncer(Syncer):
    """``fn(source, target)``."""

    def __init__(self, function):
        super().__init__()
        self.function = function

    def sync_up(self, local_dir, remote_dir, exclude=None):
        self.function(local_dir, remote_dir)
        return True

    def sync_down(self, remote_dir, local_dir, exclude=None):
        self.function(remote_dir, local_dir)
        return True

    def delete(self, remote_dir):
        raise TuneError("a sync function cannot delete {}".format(remote_dir))


class _StorageSyncer(Syncer):
    """pyarrow.fs / fsspec. Uploads only files whose size or mtime changed
    since the last successful upload, so a periodic sync of a long run does
    not resend every checkpoint."""

    def __init__(self):
        super().__init__()
        self._sent = {}          # (remote_dir, rel) -> (size, mtime_ns)

    def sync_up(self, local_dir, remote_dir, exclude=None):
        from tunec import _storage
        storage = _storage.open_storage(remote_dir)
        for dirpath, _, files in os.walk(local_dir):
            for name in files:
                if ".tmp." in name:
                    continue        # tunec's own half-written files (atomic replace)
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, local_dir).replace(os.sep, "/")
                try:
                    st = os.stat(path)
                except FileNotFoundError:
                    continue        # removed meanwhile (an old checkpoint)
                stamp = (st.st_size, st.st_mtime_ns)
                if self._sent.get((remote_dir, rel)) == stamp:
                    continue
                storage.upload(path, rel)
                self._sent[(remote_dir, rel)] = stamp
        return True

    def sync_down(self, remote_dir, local_dir, exclude=None):
        from tunec import _storage
        storage = _storage.open_storage(remote_dir)
        if not storage.exists():
            raise TuneError("nothing to download at {}".format(remote_dir))
        storage.download_tree(local_dir)
        return True

    def delete(self, remote_dir):
        from tunec import _storage
        _storage.open_storage(remote_dir).delete_tree()
        return True


def make_syncer(syncer, where, timeout=1800):
    """The Syncer for a user's ``syncer``/``sync_to_cloud`` value, or None
    (syncing off). Errors name ``where``."""
    if syncer is None:
        return None
    if isinstance(syncer, Syncer):
        return syncer
    if isinstance(syncer, str):
        if syncer == "auto":
            return _StorageSyncer()
        for field in ("{source}", "{target}"):
            if field not in syncer:
                raise ValueError("{}: Sync template missing '{}'.".format(where, field))
        return _CommandSyncer(syncer, timeout)
    if callable(syncer):
        return _FunctionSyncer(syncer)
    raise TypeError("{}: expected 'auto', a template with {{source}} and {{target}}, a "
                    "function (source, target) or a tune.syncer.Syncer, got {!r}".format(
                        where, syncer))
