"""Keep Python's cyclic garbage collector out of a takeover's way.

A full (generation 2) collection walks every tracked object. Right after start-up the
daemon holds ~50,000 of them (trio, pyroute2, cryptography, the engine's tables, the
configuration), nearly all of which live until the daemon exits, and one full collection
of them takes ~30 ms on this machine class. It comes about once a minute as allocations
add up, whenever that is: measured in bench/failover.py, a takeover that met one put the
cluster IP up 47 ms after the decision instead of 5. `gc.freeze()` (the use the Python
documentation gives for it, besides copy-on-write before fork) moves everything alive at
that point into a permanent generation that collections skip, so a later full collection
walks only what was allocated since, and a steady daemon's idle CPU loses those walks
too. Cycles among frozen objects are never collected; start-up leaves none worth it.
"""

from __future__ import annotations

import gc


def freeze_start_up_objects() -> int:
    """Collect once, then exempt every surviving object from later collections.

    Call it once, when start-up is done and the main loop is about to run. Returns how
    many objects were frozen.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
