"""``export_formats`` (spec §1.1, §6.3): when a class trainable's trial
stops (a stop condition, ``done``, a scheduler's STOP), Ray calls
``Trainable.export_model(export_formats)``, which writes into the trial
directory through the trainable's ``_export_model``.

The formats travel to the workers with the trainable itself: an experiment
with export formats sends a ``WithExport`` (the trainable and its formats)
where others send the bare trainable, so no new engine option is needed.
"""


class WithExport:
    """A trainable and the export formats of the experiment(s) using it."""

    def __init__(self, trainable, formats):
        self.trainable = trainable
        self.formats = tuple(formats)

    def __eq__(self, other):
        return isinstance(other, WithExport) and other.trainable == self.trainable and \
            other.formats == self.formats

    def __hash__(self):
        return hash((id(self.trainable), self.formats))

    def __repr__(self):
        return "WithExport({!r}, {!r})".format(self.trainable, list(self.formats))


def validate(formats):
    """The formats normalised as Ray does (stripped, lower case); TuneError
    for one Ray does not know."""
    if formats is None or (isinstance(formats, (list, tuple)) and not formats):
        return []
    from tunec.error import TuneError
    from tunec.trial import ExportFormat
    if isinstance(formats, str) or not isinstance(formats, (list, tuple)):
        raise TuneError("export_formats must be a list of format names, got {!r}".format(
            formats))
    formats = list(formats)
    ExportFormat.validate(formats)
    return formats


def with_formats(trainable, formats):
    """What to send to workers for `trainable`: itself, or a WithExport."""
    return WithExport(trainable, formats) if formats else trainable


def unwrap(entry):
    """(trainable, export formats) from what with_formats returned."""
    if isinstance(entry, WithExport):
        return entry.trainable, list(entry.formats)
    return entry, []
