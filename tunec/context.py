"""``tune.get_context()`` / ``train.get_context()`` (Ray 2.x ``TuneContext``).

The context of the trial running in this process: its id, name, directory,
resources and experiment. A trial is one process in tunec, so the
distributed-training ranks Ray Train adds answer as for a single worker.
"""
from tunec import session as _session

__all__ = ["TuneContext", "get_context"]


class TuneContext(_session.TuneContext):
    """Read inside a trial; each method raises outside one, naming itself."""

    def get_trial_resources(self):
        """The trial's request as a ``PlacementGroupFactory`` (Ray 2.x)."""
        from tunec.placement_groups import PlacementGroupFactory
        raw = _session.get_trial_resources() or {}
        head = {"CPU": raw.get("cpu", 1), "GPU": raw.get("gpu", 0)}
        head.update(raw.get("custom_resources") or {})
        bundles = [head]
        extra = {"CPU": raw.get("extra_cpu", 0), "GPU": raw.get("extra_gpu", 0)}
        extra.update(raw.get("extra_custom_resources") or {})
        if any(extra.values()):
            bundles.append(extra)
        return PlacementGroupFactory(bundles)

    def get_metadata(self):
        return {}

    # Ray Train's ranks: one trial is one worker here.
    def get_world_size(self):
        return 1

    def get_world_rank(self):
        return 0

    def get_local_rank(self):
        return 0

    def get_local_world_size(self):
        return 1

    def get_node_rank(self):
        return 0


def get_context():
    return TuneContext()
