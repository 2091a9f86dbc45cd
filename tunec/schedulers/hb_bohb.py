"""``HyperBandForBOHB`` (spec §8.3, last paragraph; Ray's hb_bohb.py)."""
from tunec.schedulers.hyperband import HyperBandScheduler


class HyperBandForBOHB(HyperBandScheduler):
    """Extends HyperBand early stopping for BOHB (spec §8.3; use with ``TuneBOHB``).

    The engine runs the HyperBand core (src/engine/sched_hyperband.c) with
    Ray's three BOHB changes:

    1. Trials are placed so that the bracket with the largest size is filled
       first.
    2. A trial at its milestone is paused even when its bracket is not
       filled (or another of its trials is still running), so BOHB can put
       new trials into the training; the searcher hears ``on_pause`` and
       ``on_unpause``, and each result that reaches a milestone carries
       ``result["hyperband_info"]["budget"]`` (the milestone) for the
       searcher, which fits its model per budget.
    3. When no trial is PENDING and none is RUNNING, each bracket with
       paused trials is processed as it stands (halved; the survivors
       unpaused).

    Same arguments as :class:`HyperBandScheduler`. Like Ray's, it has no
    save/restore of its own.
    """

    def _tunec_params(self):
        params = super(HyperBandForBOHB, self)._tunec_params()
        params["bohb"] = True
        return params
