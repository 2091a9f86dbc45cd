"""The parsed-column cache of ``ExperimentAnalysis(dir)`` (issue 12).

Loading an experiment parses every trial's result.json (1,000 trials x 100
results are 60 MB of text); loading it again, unchanged, need not.  After a
load from the experiment state, ``ExperimentAnalysis`` writes what the C
loader handed over -- the trial dicts and the column groups of
``_tunec.load_trials_grouped`` -- next to the state file, as
``.tunec-analysis-cache``, and a later load of the same directory takes it
instead of the files when nothing it was made from changed.  ``Analysis(dir)``
does the same with the trial dirs its walk finds (``_tunec.trial_dirs``,
done at every load) in ``.tunec-analysis-cache-walk``.  The key:

- the state file (size, mtime), and the ``_tunec`` extension file (size,
  mtime: another build may type columns differently);
- per trial dir, the (size, mtime) of params.json, result.json and
  progress.csv, taken *before* the load it records, so a file written during
  that load makes the next one miss rather than hit stale data.

A cache that is missing, unreadable, of another version or out of date is
ignored (and replaced); one that cannot be written (a read-only directory)
is not written; nor is one of trial dirs that are not all next to the state
file (where relocation could later pick another dir).  Object columns are
stored as codes into their distinct objects (``_tunec.object_codes``),
which is what makes reading one cheap; numeric columns as the loader's
blocks (one 2-D array per dtype), so a frame made from a cached load takes
them without a copy, as one made from a fresh load does; string columns as
the loader's offsets and bytes ("str_columns"), as they are.
``TUNEC_ANALYSIS_CACHE=0`` turns the cache off.  The file is a pickle, read
only from the experiment directory it describes (as params.pkl is).
"""
import os
import pickle

CACHE_NAME = ".tunec-analysis-cache"
WALK_CACHE_NAME = ".tunec-analysis-cache-walk"   # Analysis(dir): the dirs a walk finds
_VERSION = 3   # 2: the numeric columns stored as their blocks; 3: string columns as bytes
_TRIAL_FILES = ("params.json", "result.json", "progress.csv")


def enabled():
    return os.environ.get("TUNEC_ANALYSIS_CACHE", "1").strip().lower() not in ("0", "false",
                                                                               "no", "off")


def _stat_key(path):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns)


def files_signature(paths):
    """The (size, mtime) of each trial dir's result files, in order, as
    bytes (``_tunec.files_signature``: the stat calls without the GIL)."""
    from tunec import _tunec
    return _tunec.files_signature(paths, _TRIAL_FILES)


def _state_key(experiment_dir, state_path):
    # The extension's own file too: a rebuilt loader may type columns
    # differently, so its caches are not taken.
    # Without a state file (Analysis(dir)) the key is the directory alone.
    from tunec import _tunec
    if state_path is None:
        return (os.path.abspath(experiment_dir), None, None, _stat_key(_tunec.__file__))
    return (os.path.abspath(experiment_dir), os.path.abspath(state_path), _stat_key(state_path),
            _stat_key(_tunec.__file__))


def _file_name(experiment_dir, state_path):
    return os.path.join(experiment_dir, CACHE_NAME if state_path else WALK_CACHE_NAME)


def _cacheable(experiment_dir, state_path, paths, signature):
    """Whether a load of ``paths`` may be cached. From a state file: every
    trial dir is one next to it and exists (then relocation, which prefers
    such a dir, picks the same ones while the signature holds). From a walk:
    always (the walk that gave ``paths`` is done at every load)."""
    import numpy as np
    if state_path is None:
        return True
    # Relocated logdirs are os.path.join(experiment_dir, name): compared as text.
    dirname = os.path.dirname
    if any(dirname(p) != experiment_dir for p in paths):
        return False
    sizes = np.frombuffer(signature, dtype=np.int64)[0::2].reshape(len(paths), -1)
    return bool((sizes >= 0).any(axis=1).all())


class Cache:
    """A cache file read back: ``logdirs`` (the state's, relocated) and the
    loader output, valid while ``files_signature(paths)`` is unchanged."""

    def __init__(self, entry, experiment_dir, state_path):
        self.logdirs = entry["logdirs"]
        self._entry = entry
        self._experiment_dir = experiment_dir
        self._state_path = state_path

    def loaded(self, paths):
        """``(raws, groups, stats)`` as the loader gave them for ``paths``,
        or None when those are not the paths it holds or a file changed.
        Once only: the arrays go to the caller, who may change them."""
        entry, self._entry = self._entry, None
        if entry is None or entry["paths"] != paths:
            return None
        signature = files_signature(paths)
        if entry["signature"] != signature or not _cacheable(
                self._experiment_dir, self._state_path, paths, signature):
            return None
        return entry["raws"], [_thaw_group(g) for g in entry["groups"]], entry["stats"]


def read(experiment_dir, state_path):
    """The cache of this experiment state (of ``experiment_dir``'s walk
    when ``state_path`` is None), or None."""
    path = _file_name(experiment_dir, state_path)
    try:
        with open(path, "rb") as f:
            entry = pickle.load(f)
        if (not isinstance(entry, dict) or entry.get("version") != _VERSION or
                entry.get("state") != _state_key(experiment_dir, state_path)):
            return None
        return Cache(entry, experiment_dir, state_path)
    except Exception:   # absent, damaged, truncated, or from another tunec: not used
        return None


def write(experiment_dir, state_path, logdirs, paths, signature, raws, groups, stats):
    """Records a load (``signature`` taken before it); best effort."""
    if not paths or not _cacheable(experiment_dir, state_path, paths, signature):
        return
    from tunec import _tunec
    path = _file_name(experiment_dir, state_path)
    tmp = "{}.{}.tmp".format(path, os.getpid())
    try:
        entry = {"version": _VERSION, "state": _state_key(experiment_dir, state_path),
                 "logdirs": logdirs, "paths": paths, "signature": signature, "raws": raws,
                 "stats": stats, "groups": [_freeze_group(_tunec, g) for g in groups]}
        with open(tmp, "wb") as f:
            pickle.dump(entry, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except Exception:   # read-only or full disk, an unpicklable cell: no cache
        try:
            os.unlink(tmp)
        except OSError:
            pass


def through(experiment_dir, state_path, logdirs, paths, load, cache=None):
    """The loader output for ``paths``: from the cache (``cache``, else the
    file's) when it holds them unchanged, else ``load(paths)``, recorded."""
    if cache is None:
        cache = read(experiment_dir, state_path)
    loaded = cache.loaded(paths) if cache is not None else None
    if loaded is None:
        signature = files_signature(paths)
        loaded = load(paths)
        write(experiment_dir, state_path, logdirs, paths, signature, *loaded)
    return loaded


def _freeze_group(_tunec, group):
    """The group as the file keeps it: object columns as codes, numeric
    columns as rows of their blocks (the 2-D arrays of the loader, stored
    once; a reference in "data"), other arrays as they are."""
    import numpy as np
    blocks = group.get("blocks") or []
    columns = group["columns"]
    in_block = {}
    for b, (_, locs) in enumerate(blocks):
        for row, pos in enumerate(locs):
            in_block[columns[pos]] = (b, row)
    data = {}
    for name, values in group["data"].items():
        if name in in_block:
            data[name] = ("block",) + in_block[name]
        elif values.dtype == object:
            codes, uniques = _tunec.object_codes(values)
            data[name] = ("codes", codes, uniques)
        else:
            data[name] = np.ascontiguousarray(values)
    frozen = dict(group)
    frozen["blocks"] = [(np.ascontiguousarray(values), list(locs)) for values, locs in blocks]
    frozen["data"] = data
    return frozen


def _thaw_group(frozen):
    import numpy as np
    blocks = frozen.get("blocks") or []
    data = {}
    for name, values in frozen["data"].items():
        if isinstance(values, tuple) and values[0] == "block":
            _, b, row = values
            data[name] = blocks[b][0][row]   # a view: the frame takes the block as it is
        elif isinstance(values, tuple):
            _, codes, uniques = values
            table = np.empty(len(uniques), dtype=object)
            for i, value in enumerate(uniques):   # element-wise: a list stays one cell
                table[i] = value
            data[name] = table.take(codes)
        else:
            data[name] = values
    group = dict(frozen)
    group["data"] = data
    return group
