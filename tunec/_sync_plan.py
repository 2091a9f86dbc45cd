"""When an experiment directory is synced to its remote copy (spec §15.6):
every ``sync_period`` seconds, after each new checkpoint when
``sync_on_checkpoint``, and once at the end (tried ``FINAL_TRIES`` times).

Syncs run on one background thread owned by ``ExperimentSync`` so a slow
upload never holds up the driver loop. A failing sync is logged and retried
with backoff; it never ends the run, and it only ever reads the local copy.
``download`` (resume="REMOTE", Tuner.restore of a URI) fills a staging
folder first and moves it in place only when complete.
"""
import os
import time

from tunec import _lazylog

logger = _lazylog.getLogger("tunec.syncer")

RETRY_TRIES = 3          # per periodic/checkpoint sync
FINAL_TRIES = 4
BACKOFF_S = 0.5          # first wait between tries; doubles each time


def plan(upload_dir, sync_config, sync_to_cloud, sync_on_checkpoint, storage_uri):
    """(remote root, Syncer, SyncConfig) from tune.run's arguments, or None
    when nothing is synced. Errors name the argument, before trials start."""
    if sync_config is None and upload_dir is None and storage_uri is None:
        return None      # nothing to sync: tunec.syncer (dataclasses, typing) stays unloaded
    from tunec import syncer as _syncer
    from tunec.syncer import SyncConfig
    if sync_config is not None and not isinstance(sync_config, SyncConfig):
        raise TypeError("sync_config must be a tune.SyncConfig, got {!r}".format(sync_config))
    config = sync_config or SyncConfig()
    if sync_config is None and not sync_on_checkpoint:
        config.sync_on_checkpoint = False
    remote = storage_uri or upload_dir or config.upload_dir
    if remote is None:
        return None
    remote = os.fspath(remote)
    where = ("storage_path" if storage_uri else "upload_dir" if upload_dir
             else "SyncConfig(upload_dir)")
    if sum(x is not None for x in (storage_uri, upload_dir, config.upload_dir)) > 1:
        raise ValueError("give one of storage_path (a URI), upload_dir and "
                         "SyncConfig(upload_dir), not several")
    if sync_to_cloud is not None:
        syncer = _syncer.make_syncer(sync_to_cloud, "sync_to_cloud", config.sync_timeout)
    else:
        syncer = _syncer.make_syncer(config.syncer, "SyncConfig(syncer)", config.sync_timeout)
    if syncer is None:
        return None
    if isinstance(syncer, _syncer._StorageSyncer):
        from tunec import _storage
        if not _storage.is_uri(remote):
            raise ValueError("{}={!r}: the default syncer needs a URI (s3://, gs://, "
                             "hdfs://, file://...); give a sync template or function for "
                             "anything else".format(where, remote))
        try:                               # pyarrow/fsspec missing or bad URI: fail now
            _storage.open_storage(remote)
        except (ImportError, ValueError) as exc:
            raise type(exc)("{}={!r}: {}".format(where, remote, exc)) from None
    return remote, syncer, config


def remote_dir(remote_root, name):
    from tunec import _storage
    if _storage.is_uri(remote_root):
        return _storage.join(remote_root, name)
    return os.path.join(remote_root, name)


def _with_retries(action, what, tries, stop=None):
    """Runs ``action`` until it succeeds, at most ``tries`` times; logs each
    failure; returns whether it succeeded."""
    delay = BACKOFF_S
    for attempt in range(1, tries + 1):
        try:
            if action() is not False:
                return True
            error = "the syncer returned False"
        except Exception as exc:    # noqa: B902 - a user syncer may raise anything
            error = "{}: {}".format(type(exc).__name__, exc)
        logger.warning("tunec: %s failed (try %d of %d): %s", what, attempt, tries, error)
        if attempt < tries:
            if stop is not None:
                if stop.wait(delay):
                    return False
            else:
                time.sleep(delay)
            delay *= 2
    return False


class ExperimentSync:
    """Uploads ``local_dir`` to ``remote`` in the background."""

    def __init__(self, local_dir, remote, syncer, config):
        self.local_dir = local_dir
        self.remote = remote
        self.syncer = syncer
        self.config = config
        self.syncs_done = 0           # successful uploads (tests watch this)
        import threading
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()  # one sync at a time: thread or final
        self._checkpoints = frozenset()     # (trial id, newest checkpoint) seen
        self._thread = threading.Thread(target=self._loop, name="tunec-sync", daemon=True)
        self._thread.start()

    def _sync_once(self, tries, stop):
        with self._lock:
            ok = _with_retries(lambda: self.syncer.sync_up(self.local_dir, self.remote),
                               "sync of {} to {}".format(self.local_dir, self.remote),
                               tries, stop)
            if ok:
                self.syncs_done += 1
            return ok

    def _loop(self):
        while not self._stop.is_set():
            self._wake.wait(self.config.sync_period)
            if self._stop.is_set():
                return
            self._wake.clear()
            if os.path.isdir(self.local_dir):
                self._sync_once(RETRY_TRIES, self._stop)

    def request(self):
        """Sync soon (a new checkpoint); never blocks."""
        self._wake.set()

    def saw_checkpoints(self, signature):
        """Called by the driver loop with something that changes when a
        trial saves a checkpoint; syncs when it changed."""
        if not self.config.sync_on_checkpoint:
            return
        seen = frozenset(entry for entry in signature if entry[1] != "None")
        if seen - self._checkpoints:
            self.request()
        self._checkpoints = seen

    def close(self):
        """Stops the thread, then the final sync (blocking, FINAL_TRIES).
        Returns whether it succeeded; never raises."""
        self._stop.set()
        self._wake.set()
        self._thread.join()
        ok = self._sync_once(FINAL_TRIES, None)
        if not ok:
            logger.error("tunec: the final sync of %s to %s failed; the local copy is "
                         "complete", self.local_dir, self.remote)
        return ok


def download(syncer, remote, local_dir):
    """resume="REMOTE": the remote experiment into ``local_dir``, through a
    staging folder so a failed download leaves the local copy as it was.
    Raises TuneError when nothing could be downloaded."""
    import shutil
    from tunec.error import TuneError
    parent = os.path.dirname(os.path.abspath(local_dir))
    os.makedirs(parent, exist_ok=True)
    staging = os.path.join(parent, ".{}.download.{}".format(os.path.basename(local_dir),
                                                              os.getpid()))
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    try:
        if not _with_retries(lambda: syncer.sync_down(remote, staging),
                             "download of {} to {}".format(remote, staging), FINAL_TRIES):
            raise TuneError("resume from {} failed: the download did not succeed (see the "
                            "log)".format(remote))
        if not os.listdir(staging):
            raise TuneError("resume from {}: nothing there to resume".format(remote))
        if os.path.isdir(local_dir):
            old = staging + ".old"
            os.replace(local_dir, old)
            os.replace(staging, local_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, local_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
