"""A local camera by index (USB, built-in, a GigE/USB3 camera with a DirectShow/V4L2 driver).

The index is always an ``int``: OpenCV treats a string, even "0", as a file name or URL (DESIGN pitfall 6).
"""

from __future__ import annotations

from typing import Any

import cv2

from grace_core.errors import SourceError
from grace_core.sources.live import CaptureFactory, LiveSource
from grace_core.sources.types import CaptureLike


class CameraSource(LiveSource):
    """Camera ``index`` through OpenCV ``backend`` (``cv2.CAP_ANY``; ``cv2.CAP_DSHOW`` often opens faster on
    Windows). ``size`` asks the driver for a (width, height); the frames tell what it really delivers.
    Other keyword options go to :class:`LiveSource`.
    """

    def __init__(
        self,
        index: int,
        *,
        backend: int = cv2.CAP_ANY,
        size: tuple[int, int] | None = None,
        capture_factory: CaptureFactory | None = None,
        **options: Any,
    ) -> None:
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"camera index must be an int, got {index!r} ({type(index).__name__})")
        if index < 0:
            raise SourceError(f"camera:{index}: a camera index is 0 or more (0 is usually the built-in camera).")
        self.index = index
        self.backend = backend
        self.requested_size = size
        self.hint = f"check that camera {index} is connected and not in use by another program"
        options.setdefault("source_id", f"camera:{index}")
        options.setdefault("description", f"Camera {index}")
        super().__init__(capture_factory or self._open_capture, **options)

    def _open_capture(self) -> CaptureLike:
        capture = cv2.VideoCapture(self.index, self.backend)
        if self.requested_size is not None and capture.isOpened():
            width, height = self.requested_size
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        return capture
