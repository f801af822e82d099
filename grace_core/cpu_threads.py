"""OpenMP's wait policy for inference processes: threads that sleep at a barrier instead of spinning.

PyTorch's CPU kernels run on GNU OpenMP, whose worker threads spin at the end of every parallel region, waiting for
the next one. On an idle machine that saves a wake-up; on an inspection PC whose cores are shared — a training run
beside the live view, a second station, the GUI itself — a spinning thread holds a core that the one thread still
working needs, and every layer waits for the scheduler. Measured on a 2-core machine, the shipped GRACE-n at 224 with
a 2-thread training beside it: 1.5 frames/s with 2 spinning threads against 15.3 with ``OMP_WAIT_POLICY=PASSIVE``
(``benchmarks/inference_threads.py`` measures both, idle and loaded, side by side).

OpenMP reads the variable once, when the library loads, so it must be set before torch is imported: the entry points
(``grace``, ``grace-inspect``) call :func:`prefer_passive_openmp` first. A value the user set is kept.
"""

from __future__ import annotations

import logging
import os
import sys

log = logging.getLogger(__name__)

WAIT_POLICY = "OMP_WAIT_POLICY"


def prefer_passive_openmp() -> bool:
    """Make this process's OpenMP threads sleep when idle, unless the user chose a policy or torch (hence OpenMP)
    is already loaded, when it would have no effect. Returns whether the policy was set here; child processes
    (training workers) inherit it."""
    if WAIT_POLICY in os.environ:
        return False
    if "torch" in sys.modules:
        log.debug("torch is already loaded: %s left as it was", WAIT_POLICY)
        return False
    os.environ[WAIT_POLICY] = "PASSIVE"
    return True
