"""``tune.Trainable``: the class API (spec §2) in both spellings —
``_setup/_train/_save/_restore/_stop/_log_result`` (0.8) and
``setup/step/save_checkpoint/load_checkpoint/cleanup/log_result`` (0.8.6+).

Under ``tune.run`` the worker drives the instance: it calls the step method
and hands the raw dict to the C session, which does the auto-filling of
``train()`` (spec §2.2). ``train()`` itself is for standalone use and goes
through the same C code.
"""
import os
import time

from tunec.result import DEFAULT_RESULTS_DIR

_worker_context = None   # set by the worker around construction (_execute.py)


def _overrides(instance, name):
    return getattr(type(instance), name, None) is not getattr(Trainable, name, None)


class Trainable:
    """Base class for class-API trainables."""

    def __init__(self, config=None, logger_creator=None):
        from tunec import _tunec
        self.config = dict(config or {})
        self.config.pop("__trial_info__", None)
        context = _worker_context
        if context is not None:
            self._session = context.session
            self._logdir = context.logdir
            self._trial_name = context.trial_name
            self._trial_id = context.trial_id
        else:
            self._session = _tunec.Session(-1)
            self._session.begin(0, os.urandom(16).hex())
            import tempfile
            os.makedirs(DEFAULT_RESULTS_DIR, exist_ok=True)
            prefix = "{}_{}".format(type(self).__name__, time.strftime("%Y-%m-%d_%H-%M-%S"))
            self._logdir = tempfile.mkdtemp(prefix=prefix, dir=DEFAULT_RESULTS_DIR)
            self._trial_name = None
            self._trial_id = None
        self._restored = False
        start = time.time()
        import copy   # not at import: tune.run's way to its first trial needs no copy
        self._call_setup(copy.deepcopy(self.config))
        self._setup_time = time.time() - start

    # -- the two spellings ------------------------------------------------
    def _call_setup(self, config):
        if _overrides(self, "setup"):
            self.setup(config)
        else:
            self._setup(config)

    def _call_step(self):
        result = self.step() if _overrides(self, "step") else self._train()
        if not isinstance(result, dict):
            raise TypeError("{}.step()/_train() must return a dict, got {}".format(
                type(self).__name__, type(result).__name__))
        return result

    def _call_stop(self):
        if _overrides(self, "cleanup"):
            self.cleanup()
        else:
            self._stop()

    def _log_hook(self):
        """The user's log_result/_log_result, or None when not overridden."""
        if _overrides(self, "log_result"):
            return self.log_result
        if _overrides(self, "_log_result"):
            return self._log_result
        return None

    # -- public API -------------------------------------------------------
    def train(self):
        """Runs one step and returns the auto-filled result (spec §2.2)."""
        self._session.mark()
        result = self._session.fill(self._call_step())
        hook = self._log_hook()
        if hook is not None:
            hook(result)
        return result

    def stop(self):
        self._call_stop()

    # -- checkpoints (spec §2.3) ----------------------------------------------
    def save(self, checkpoint_dir=None):
        """Saves into ``<checkpoint_dir or logdir>/checkpoint_<iteration>`` and
        returns the checkpoint path (a file for dict checkpoints)."""
        import pickle
        from tunec.checkpoint import make_dir, write_metadata
        directory = make_dir(checkpoint_dir or self._logdir,
                             "checkpoint_{}".format(self.iteration))
        new_api = _overrides(self, "save_checkpoint")
        saved = self.save_checkpoint(directory) if new_api else self._save(directory)
        if isinstance(saved, (str, os.PathLike)):
            from tunec.checkpoint import within
            path = within(saved, directory)
            if path is None:
                raise ValueError(
                    "The returned checkpoint path must be within the given checkpoint dir "
                    "{}: {}".format(directory, saved))
            as_dict = False
        elif isinstance(saved, dict):
            path = os.path.join(directory, "checkpoint")
            with open(path, "wb") as f:
                pickle.dump(saved, f)
            as_dict = True
        elif saved is None and new_api:
            path, as_dict = directory, False      # 2.x: the files are in the directory
        else:
            raise ValueError("Returned unexpected type {}. Expected str or dict.".format(
                type(saved).__name__))
        write_metadata(path, self._session.counters(), as_dict)
        return path

    def restore(self, checkpoint_path):
        """Restores a checkpoint made by save(): counters from its metadata,
        then the user's _restore/load_checkpoint with the dict or the path."""
        import pickle
        from tunec.checkpoint import restore_counters
        meta = restore_counters(self._session, checkpoint_path)
        arg = checkpoint_path
        if meta and meta.get("saved_as_dict"):
            with open(checkpoint_path, "rb") as f:
                arg = pickle.load(f)
            arg["tune_checkpoint_path"] = checkpoint_path
        if _overrides(self, "load_checkpoint"):
            self.load_checkpoint(arg)
        else:
            self._restore(arg)
        self._restored = True

    def save_to_object(self):
        """The checkpoint as bytes (Ray's in-memory checkpoint): saved into
        a temporary directory in the logdir, packed, the directory removed."""
        import shutil
        import tempfile
        tmpdir = tempfile.mkdtemp("save_to_object", dir=self.logdir)
        try:
            return TrainableUtil.pickle_checkpoint(self.save(tmpdir))
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)

    def restore_from_object(self, obj):
        """Restores from save_to_object's bytes."""
        import shutil
        import tempfile
        tmpdir = tempfile.mkdtemp("restore_from_object", dir=self.logdir)
        try:
            self.restore(TrainableUtil.create_from_pickle(obj, tmpdir))
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)

    def export_model(self, export_formats, export_dir=None):
        """Exports the model in `export_formats` (Ray 0.8), into the trial's
        logdir unless `export_dir` is given; returns ``_export_model``'s
        dict of format -> exported path."""
        if isinstance(export_formats, str):
            export_formats = [export_formats]
        return self._export_model(list(export_formats), export_dir or self.logdir)

    def delete_checkpoint(self, checkpoint_path):
        import shutil
        directory = checkpoint_path
        while os.path.basename(directory) and not os.path.basename(directory).startswith(
                "checkpoint_"):
            directory = os.path.dirname(directory)
        shutil.rmtree(directory or checkpoint_path, ignore_errors=True)

    def reset(self, new_config, logdir=None, trial_name=None, trial_id=None):
        """Reuse for another trial (reuse_actors, spec §2.4)."""
        self.config = dict(new_config)
        if logdir is not None:
            self._logdir = logdir
        self._trial_name, self._trial_id = trial_name, trial_id
        import copy
        return self.reset_config(copy.deepcopy(self.config))

    def get_config(self):
        return self.config

    @property
    def logdir(self):
        return os.path.join(self._logdir, "")

    @property
    def trial_name(self):
        return self._trial_name

    @property
    def trial_id(self):
        return self._trial_id

    @property
    def iteration(self):
        return self._session.iteration

    training_iteration = iteration

    def get_current_ip(self):
        import socket
        return socket.gethostbyname(socket.gethostname())

    def reset_config(self, new_config):
        return False

    @classmethod
    def default_resource_request(cls, config):
        return None

    @classmethod
    def resource_help(cls, config):
        return ""

    # -- hooks users override (0.8 names, then 0.8.6+ names) --------------
    def _setup(self, config):
        pass

    def _train(self):
        raise NotImplementedError("Subclasses of Trainable must implement step() or _train()")

    def _stop(self):
        pass

    def _log_result(self, result):
        pass

    def _export_model(self, export_formats, export_dir):
        return {}

    def _save(self, tmp_checkpoint_dir):
        raise NotImplementedError("{} cannot checkpoint: implement save_checkpoint() (or "
                                  "_save())".format(type(self).__name__))

    def _restore(self, checkpoint):
        raise NotImplementedError("{} cannot restore: implement load_checkpoint() (or "
                                  "_restore())".format(type(self).__name__))

    def save_checkpoint(self, checkpoint_dir):
        return self._save(checkpoint_dir)

    def load_checkpoint(self, checkpoint):
        return self._restore(checkpoint)

    def setup(self, config):
        self._setup(config)

    def step(self):
        return self._train()

    def cleanup(self):
        self._stop()

    def log_result(self, result):
        pass


class TrainableUtil:
    """Checkpoint file helpers of Ray 0.8/1.x (``TrainableUtil``), on the
    layout tunec writes: ``checkpoint_<n>/`` with a ``.is_checkpoint``
    marker and ``.tune_metadata`` beside (or inside) the checkpoint."""

    @staticmethod
    def process_checkpoint(checkpoint, parent_dir, trainable_state):
        """What _save returned (a path within parent_dir, or a dict that is
        pickled there) plus its metadata file; returns the checkpoint path."""
        import pickle
        saved_as_dict = False
        if isinstance(checkpoint, str):
            if not checkpoint.startswith(parent_dir):
                raise ValueError("The returned checkpoint path must be within the given "
                                 "checkpoint dir {}: {}".format(parent_dir, checkpoint))
            checkpoint_path = checkpoint
            if os.path.isdir(checkpoint_path):
                checkpoint_path = os.path.join(checkpoint_path, "")
        elif isinstance(checkpoint, dict):
            saved_as_dict = True
            checkpoint_path = os.path.join(parent_dir, "checkpoint")
            with open(checkpoint_path, "wb") as f:
                pickle.dump(checkpoint, f)
        else:
            raise ValueError("Returned unexpected type {}. Expected str or dict.".format(
                type(checkpoint)))
        with open(checkpoint_path + ".tune_metadata", "wb") as f:
            trainable_state["saved_as_dict"] = saved_as_dict
            pickle.dump(trainable_state, f)
        return checkpoint_path

    @staticmethod
    def pickle_checkpoint(checkpoint_path):
        """Every file of the checkpoint's directory, pickled with its name."""
        import pickle
        checkpoint_dir = TrainableUtil.find_checkpoint_dir(checkpoint_path)
        data = {}
        for basedir, _, file_names in os.walk(checkpoint_dir):
            for file_name in file_names:
                path = os.path.join(basedir, file_name)
                with open(path, "rb") as f:
                    data[os.path.relpath(path, checkpoint_dir)] = f.read()
        name = os.path.relpath(os.path.normpath(checkpoint_path), checkpoint_dir)
        name += os.path.sep if os.path.isdir(checkpoint_path) else ""
        return pickle.dumps({"checkpoint_name": name, "data": data})

    @staticmethod
    def checkpoint_to_object(checkpoint_path):
        return TrainableUtil.pickle_checkpoint(checkpoint_path)

    @staticmethod
    def find_checkpoint_dir(checkpoint_path):
        """The directory holding the .is_checkpoint marker at or above the
        path (FileNotFoundError if none)."""
        if not os.path.exists(checkpoint_path):
            raise FileNotFoundError("Path does not exist", checkpoint_path)
        if os.path.isdir(checkpoint_path):
            checkpoint_dir = checkpoint_path
        else:
            checkpoint_dir = os.path.dirname(checkpoint_path)
        while checkpoint_dir != os.path.dirname(checkpoint_dir):
            if os.path.exists(os.path.join(checkpoint_dir, ".is_checkpoint")):
                break
            checkpoint_dir = os.path.dirname(checkpoint_dir)
        else:
            raise FileNotFoundError("Checkpoint directory not found for {}".format(
                checkpoint_path))
        return checkpoint_dir

    @staticmethod
    def find_rel_checkpoint_dir(logdir, checkpoint_path):
        """The checkpoint directory relative to the trial's logdir."""
        parent = os.path.dirname(checkpoint_path)
        relpath = os.path.relpath(parent, os.path.expanduser(logdir))
        if relpath.startswith("../"):
            raise FileNotFoundError("Checkpoint directory not found for {}".format(
                checkpoint_path))
        return relpath

    @staticmethod
    def make_checkpoint_dir(checkpoint_dir, index=None, override=False):
        """``<checkpoint_dir>/checkpoint_<index>`` with its marker (index
        None: ``checkpoint``); override: empty it first."""
        import shutil
        suffix = "checkpoint" if index is None else "checkpoint_{}".format(index)
        checkpoint_dir = os.path.join(checkpoint_dir, suffix)
        if override and os.path.exists(checkpoint_dir):
            shutil.rmtree(checkpoint_dir)
        os.makedirs(checkpoint_dir, exist_ok=True)
        TrainableUtil.mark_as_checkpoint_dir(checkpoint_dir)
        return checkpoint_dir

    @staticmethod
    def mark_as_checkpoint_dir(checkpoint_dir):
        open(os.path.join(checkpoint_dir, ".is_checkpoint"), "a").close()

    @staticmethod
    def create_from_pickle(obj, tmpdir):
        """Unpacks pickle_checkpoint's bytes into tmpdir; the checkpoint path."""
        import pickle
        info = pickle.loads(obj)
        checkpoint_path = os.path.join(tmpdir, info["checkpoint_name"])
        for relpath_name, file_contents in info["data"].items():
            path = os.path.join(tmpdir, relpath_name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(file_contents)
        return checkpoint_path

    @staticmethod
    def get_checkpoints_paths(logdir):
        """A DataFrame of (training_iteration, chkpt_path) for the
        checkpoint_* directories of a trial's logdir."""
        import glob
        import pandas as pd
        iter_chkpt_pairs = []
        for marker_path in glob.glob(os.path.join(logdir, "checkpoint_*/.is_checkpoint")):
            chkpt_dir = os.path.dirname(marker_path)
            metadata_file = glob.glob(os.path.join(chkpt_dir, "*.tune_metadata"))
            if not metadata_file and os.path.exists(os.path.join(chkpt_dir, ".tune_metadata")):
                metadata_file = [os.path.join(chkpt_dir, ".tune_metadata")]
            if len(metadata_file) != 1:
                raise ValueError("{} has zero or more than one tune_metadata.".format(chkpt_dir))
            chkpt_path = metadata_file[0][:-len(".tune_metadata")]
            chkpt_iter = int(chkpt_dir[chkpt_dir.rfind("_") + 1:])
            iter_chkpt_pairs.append([chkpt_iter, chkpt_path])
        return pd.DataFrame(iter_chkpt_pairs, columns=["training_iteration", "chkpt_path"])
