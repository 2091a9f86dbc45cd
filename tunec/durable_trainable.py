"""``ray.tune.durable_trainable.DurableTrainable`` (0.8): a Trainable whose
checkpoints are also uploaded to ``remote_checkpoint_dir`` (under
``upload_dir``). tunec has no syncing yet: without a remote directory it is a
plain Trainable; with one, saving raises, naming upload_dir, rather than
keeping checkpoints only locally while the user expects them uploaded."""
from tunec.trainable import Trainable


class DurableTrainable(Trainable):
    """Ray's signature: ``DurableTrainable(remote_checkpoint_dir, config,
    logger_creator)``. tunec's workers construct trainables with the config
    first, so a dict in the first place is taken as the config."""

    def __init__(self, remote_checkpoint_dir=None, *args, **kwargs):
        if isinstance(remote_checkpoint_dir, dict) or (
                remote_checkpoint_dir is None and not args and "config" not in kwargs):
            args = (remote_checkpoint_dir,) + args
            remote_checkpoint_dir = None
        self.remote_checkpoint_dir = remote_checkpoint_dir
        super().__init__(*args, **kwargs)

    def save(self, checkpoint_dir=None):
        path = super().save(checkpoint_dir)
        if self.remote_checkpoint_dir:
            self._upload(path)
        return path

    def restore(self, checkpoint_path):
        if self.remote_checkpoint_dir:
            self._download(checkpoint_path)
        return super().restore(checkpoint_path)

    def _upload(self, path):
        raise NotImplementedError(
            "DurableTrainable: uploading checkpoints to upload_dir (remote_checkpoint_dir={!r}) "
            "is not supported by this tunec release: syncing does not exist yet".format(
                self.remote_checkpoint_dir))

    def _download(self, path):
        raise NotImplementedError(
            "DurableTrainable: restoring from upload_dir (remote_checkpoint_dir={!r}) is not "
            "supported by this tunec release: syncing does not exist yet".format(
                self.remote_checkpoint_dir))

    def _storage_path(self, local_path):
        import os
        rel_local_path = os.path.relpath(local_path, self.logdir)
        return os.path.join(self.remote_checkpoint_dir, rel_local_path)
