"""``HyperBandForBOHB`` (spec §8.3, last paragraph)."""
from tunec.schedulers.hyperband import HyperBandScheduler


class HyperBandForBOHB(HyperBandScheduler):
    """HyperBand as used with ``TuneBOHB`` (spec §8.3).

    Same arguments as :class:`HyperBandScheduler`; tunec runs it with the same
    engine rule (``_tunec_kind`` "hyperband").
    """
