"""Column groups of the C loader (``_tunec.load_*_grouped``,
src/ext/analysis_groups.c): trials with the same column layout share one
array per column, each trial a run of rows.

pandas is expensive per DataFrame built from arrays (it checks and blocks
every column), cheap per slice of a frame it already has.  So a layout's
rows become one frame, built once, and a trial's frame is a slice of it with
its own 0..n-1 index -- the same columns, dtypes and values as a frame built
from that trial's arrays alone, sharing the memory.
"""
from tunec.analysis._trial_data import require_pandas


class Layout:
    """One group: ``columns`` (in order), ``int_columns``, ``data``
    ({name: array over every trial of the group}) and ``rows``."""

    __slots__ = ("columns", "int_columns", "rows", "_data", "_strings", "_blocks", "_frame")

    def __init__(self, raw):
        self.columns = raw["columns"]
        self.int_columns = frozenset(raw["int_columns"])
        self.rows = raw["rows"]
        self._data = raw["data"]
        # Columns of nothing but strings, as Arrow's offsets and bytes
        # (src/ext/analysis_strings.c): made arrays on first use of data.
        self._strings = raw.get("str_columns") or None
        # The numeric columns as pandas blocks (C: analysis_groups.c's
        # new_group); absent in a group read back from the cache.
        self._blocks = raw.get("blocks")
        self._frame = None

    @property
    def data(self):
        """{name: array}: NumPy arrays, and for the string columns pandas'
        own ``str`` array over the loader's bytes where pandas keeps
        strings that way (see _string_arrays)."""
        if self._strings is not None:
            made = _string_arrays(self._strings)
            self._strings = None
            self._data = {name: made[name] if name in made else self._data[name]
                          for name in self.columns}
        return self._data

    def views(self, start, rows):
        """{name: view of the trial's rows}."""
        stop = start + rows
        return {name: values[start:stop] for name, values in self.data.items()}

    def frame(self):
        """Every row of the layout as one DataFrame, built once, its columns
        of one dtype in one block (see _consolidated)."""
        if self._frame is None:
            pd = require_pandas()
            frame = _frame_from_blocks(pd, self) if self._blocks else None
            self._blocks = None
            if frame is None:
                frame = pd.DataFrame(self.data, columns=self.columns, copy=False)
                frame = _consolidated(frame, self.data)
            self._frame = frame
            _release_free_memory()
        return self._frame

    def trial_frame(self, start, rows):
        """The trial's rows as a DataFrame indexed 0..rows-1."""
        pd = require_pandas()
        big = self.frame()
        index = pd.RangeIndex(rows)
        return _slice(pd, big, start, rows, index)


def _string_arrays(strings):
    """{name: array} of the loader's string columns ({name: (offsets,
    bytes)}): where pandas is imported and keeps ``str`` columns in Arrow
    (pandas 3 with pyarrow), pandas' ``ArrowStringArray`` over those very
    buffers -- the column pandas would make from the strings, without a
    Python object per cell or a copy; otherwise an object array of str,
    a repeated string one object (as pandas before 3 keeps them, and as
    the frame's constructor then types them)."""
    from tunec import _tunec
    make = _arrow_strings()
    if make is not None:
        try:
            return {name: make(offsets, data) for name, (offsets, data) in strings.items()}
        except Exception:   # an Arrow or pandas that does not take them: objects
            pass
    return {name: _tunec.strings_to_objects(offsets, data)
            for name, (offsets, data) in strings.items()}


def _arrow_strings():
    """A maker of pandas' Arrow-backed str array from (offsets, bytes), or
    None where pandas is not imported (it is not imported for this) or
    would not make str columns that way."""
    import sys
    pd = sys.modules.get("pandas")
    if pd is None:
        return None
    try:
        dtype = pd.Series(["a"]).dtype   # what pandas makes of strings
        if getattr(dtype, "storage", None) != "pyarrow":
            return None
        import pyarrow as pa
        array_cls = pd.arrays.ArrowStringArray
        large_string = pa.large_string()
    except Exception:   # no pyarrow, an older pandas
        return None

    def make(offsets, data):
        arr = pa.Array.from_buffers(large_string, len(offsets) - 1,
                                    [None, pa.py_buffer(offsets), pa.py_buffer(data)])
        return array_cls(pa.chunked_array([arr]), dtype=dtype)
    return make


def _release_free_memory():
    """Hands back what making the frame freed: the heap's free pages (the
    arrays the blocks copied, pandas' temporaries) and, when pandas made
    its str columns with pyarrow, the pages pyarrow's pool keeps for reuse
    (about 7 MB after 1,000 x 100 rows).  pyarrow is not imported here."""
    import sys
    from tunec import _tunec
    _tunec.release_free_memory()
    pa = sys.modules.get("pyarrow")
    if pa is not None:
        try:
            pa.default_memory_pool().release_unused()
        except Exception:   # an older pyarrow, another pool: nothing to hand back
            pass


def _frame_from_blocks(pd, layout):
    """The layout's frame with its numeric blocks taken as they are (the
    C loader made them in pandas' block shape): no copy of the numbers, so
    the load's peak does not hold them twice.  The other columns go through
    the DataFrame constructor, which types them as it would in one frame
    of every column (pandas 3 makes its str columns there).  None where
    pandas has no ``create_dataframe_from_blocks`` (before 2.3)."""
    try:
        from pandas.api.internals import create_dataframe_from_blocks
    except ImportError:
        return None
    import numpy as np
    blocks = [(values, np.asarray(locs, dtype=np.intp)) for values, locs in layout._blocks]
    taken = set()
    for _, locs in layout._blocks:
        taken.update(locs)
    positions = [i for i in range(len(layout.columns)) if i not in taken]
    if positions:
        names = [layout.columns[i] for i in positions]
        rest = pd.DataFrame({name: layout.data[name] for name in names}, columns=names,
                            copy=False)
        try:
            rest_blocks = [(block.values, block.mgr_locs.as_array)
                           for block in rest._mgr.blocks]
        except AttributeError:
            return None
        where = np.asarray(positions, dtype=np.intp)
        blocks.extend((values, where[locs]) for values, locs in rest_blocks)
    return create_dataframe_from_blocks(blocks, index=pd.RangeIndex(layout.rows),
                                        columns=pd.Index(layout.columns))


def _consolidated(frame, data):
    """``frame`` with its numeric and boolean columns in one block per dtype
    (one copy of them), and ``data``'s arrays for those columns replaced by
    views of the blocks, so the separate arrays are let go.  A trial's frame
    is a slice of every block: 1,000 trials of 20 columns slice 3 numeric
    blocks each instead of 14 (a third of trial_dataframes' time).  The
    frame as it is when pandas has no such step."""
    try:
        frame._consolidate_inplace()
        blocks = frame._mgr.blocks
        placements = [(block, block.mgr_locs.as_array) for block in blocks]
    except AttributeError:
        return frame
    columns = frame.columns
    for block, locs in placements:
        values = block.values
        if getattr(values, "ndim", 1) != 2 or getattr(values, "dtype", None) == object:
            continue
        for row, loc in enumerate(locs):
            name = columns[loc]
            if name in data and data[name].dtype == values.dtype:
                data[name] = values[row]
    return frame


def _slice(pd, big, start, rows, index):
    # The block manager's slice is several times cheaper than .iloc (no
    # indexer checks, no copy tracking); pandas before 2.1 has no _from_mgr.
    global _mgr_slices
    if _mgr_slices:
        try:
            mgr = big._mgr.get_slice(slice(start, start + rows), axis=1)
            mgr.set_axis(1, index)
            return pd.DataFrame._from_mgr(mgr, axes=mgr.axes)
        except (AttributeError, TypeError):
            _mgr_slices = False
    frame = big.iloc[start:start + rows].copy(deep=False)
    frame.index = index
    return frame


_mgr_slices = True


def picked_rows_frame(pd, picked, configs):
    """``Analysis.dataframe()`` built column by column: one row per
    ``(logdir, trial, row index)`` of ``picked``, then the ``config/<key>``
    columns of ``configs`` ({logdir: {key: value}}) and ``logdir`` -- the
    frame ``pd.DataFrame(list of row dicts)`` gives, without a dict and a
    Python object per cell.  None when the trials do not share one layout
    (or a config key repeats a result column): the caller then builds it
    from row dicts."""
    if not picked:
        return None
    layout = picked[0][1].layout
    if layout is None or any(trial.layout is not layout for _, trial, _ in picked):
        return None
    import numpy as np
    result_names = set(layout.columns)
    # The column order pandas gives a list of dicts: first appearance, row
    # by row -- the result columns, the first row's config keys, logdir,
    # then config keys that only later rows have.
    order = list(layout.columns)
    seen = set(order)
    for i, (path, _, _) in enumerate(picked):
        for key in configs.get(path, ()):
            if key in result_names or key == "logdir":
                return None
            if key not in seen:
                seen.add(key)
                order.append(key)
        if i == 0:
            if "logdir" in seen:
                return None
            seen.add("logdir")
            order.append("logdir")
    index = np.fromiter((trial.start + row for _, trial, row in picked), dtype=np.intp,
                        count=len(picked))
    columns = {}
    for name in layout.columns:
        values = layout.data[name][index]
        # An object column is typed from its values, as pandas types cells
        # of row dicts (a column of ints in these rows becomes int64).
        columns[name] = list(values) if values.dtype == object else values
    config_keys = [key for key in order if key not in result_names and key != "logdir"]
    if config_keys:
        config_frame = pd.DataFrame([configs.get(path, {}) for path, _, _ in picked],
                                    columns=config_keys)
        for key in config_keys:
            columns[key] = config_frame[key]._values
    columns["logdir"] = [path for path, _, _ in picked]
    return pd.DataFrame({name: columns[name] for name in order}, columns=order)
