"""``ray.tune.durable_trainable.DurableTrainable`` (0.8): a Trainable whose
checkpoints are also uploaded to ``remote_checkpoint_dir``
(``<upload_dir>/<experiment>/<trial>``) as soon as they are saved, and
downloaded from there when a restore finds no local copy.

Inside tune.run the remote directory comes from the run's ``upload_dir`` /
``storage_path`` URI: the driver writes it into the experiment directory
(``REMOTE_FILE``, tunec/_run.py) before trials start, and the worker reads it
beside its trial directory. Uploads go through pyarrow.fs / fsspec
(tunec/_storage.py); a plain path is copied to as a directory.
"""
import os

from tunec.trainable import Trainable

REMOTE_FILE = ".tunec_remote_dir"


class DurableTrainable(Trainable):
    """Ray's signature: ``DurableTrainable(remote_checkpoint_dir, config,
    logger_creator)``. tunec's workers construct trainables with the config
    first, so a dict in the first place is taken as the config."""

    def __init__(self, remote_checkpoint_dir=None, *args, **kwargs):
        if isinstance(remote_checkpoint_dir, dict) or (
                remote_checkpoint_dir is None and not args and "config" not in kwargs):
            args = (remote_checkpoint_dir,) + args
            remote_checkpoint_dir = None
        super().__init__(*args, **kwargs)
        self.remote_checkpoint_dir = remote_checkpoint_dir or self._run_remote_dir()

    def _run_remote_dir(self):
        """``<remote experiment dir>/<trial dir name>`` when this trial runs
        in a synced experiment, else None (a plain Trainable)."""
        logdir = self.logdir.rstrip(os.sep)
        try:
            with open(os.path.join(os.path.dirname(logdir), REMOTE_FILE)) as f:
                remote_exp = f.read().strip()
        except OSError:
            return None
        return _join(remote_exp, os.path.basename(logdir)) if remote_exp else None

    def save(self, checkpoint_dir=None):
        path = super().save(checkpoint_dir)
        if self.remote_checkpoint_dir:
            self._upload(path)
        return path

    def restore(self, checkpoint_path):
        if self.remote_checkpoint_dir and not os.path.exists(checkpoint_path):
            self._download(checkpoint_path)
        return super().restore(checkpoint_path)

    def _checkpoint_dir_of(self, path):
        """The ``checkpoint_<n>`` directory holding ``path``, relative to the
        logdir, and its local absolute path."""
        rel = os.path.relpath(path, self.logdir)
        top = rel.split(os.sep)[0]
        return top, os.path.join(self.logdir, top)

    def _upload(self, path):
        top, local = self._checkpoint_dir_of(path)
        storage = _open(self._storage_path(local))
        for dirpath, _, files in os.walk(local):
            for name in files:
                file_path = os.path.join(dirpath, name)
                storage.upload(file_path,
                               os.path.relpath(file_path, local).replace(os.sep, "/"))

    def _download(self, path):
        top, local = self._checkpoint_dir_of(path)
        os.makedirs(local, exist_ok=True)
        _open(self._storage_path(local)).download_tree(local)

    def _storage_path(self, local_path):
        rel_local_path = os.path.relpath(local_path, self.logdir)
        return _join(self.remote_checkpoint_dir, rel_local_path.replace(os.sep, "/"))


def _join(remote, rel):
    from tunec import _storage
    if _storage.is_uri(remote):
        return _storage.join(remote, rel)
    return os.path.join(remote, rel)


def _open(remote):
    from tunec import _storage
    if _storage.is_uri(remote):
        return _storage.open_storage(remote)
    return _storage._LocalStorage(remote)
