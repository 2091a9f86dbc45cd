"""``tunec.utils`` (``ray.tune.utils``): dict helpers, pinned objects and the
save/restore and serialization checks of Ray's ``utils/util.py``."""
from tunec.utils.util import (deep_update, diagnose_serialization, flatten_dict,
                              get_pinned_object, merge_dicts, pin_in_object_store,
                              unflatten_dict, validate_save_restore, wait_for_gpu,
                              warn_if_slow)

__all__ = ["deep_update", "diagnose_serialization", "flatten_dict", "get_pinned_object",
           "merge_dicts", "pin_in_object_store", "unflatten_dict", "validate_save_restore",
           "wait_for_gpu", "warn_if_slow"]
