"""Value types shared across the core: what a frame source hands to an engine.

Kept free of heavy imports (numpy only) so any layer can use them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True, eq=False)
class Frame:
    """One captured image.

    ``image`` is BGR uint8 H×W×3. ``index`` counts frames per source in capture order (a live source's gaps are
    dropped frames). ``timestamp`` is ``time.time()`` at capture. ``meta`` holds source-specific facts, e.g. the
    demo's ``stem`` or a folder image's ``path``. Compared by identity (``eq=False``): numpy arrays have no
    single truth value.
    """

    image: np.ndarray
    index: int
    timestamp: float
    source_id: str
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the image."""
        return int(self.image.shape[1]), int(self.image.shape[0])
