"""Process setup that must happen before the first QApplication.

``opencv-python`` ships its own Qt plugins and, on import, points ``QT_QPA_PLATFORM_PLUGIN_PATH`` (and the font
dir) at them; PySide6 then loads OpenCV's plugin build and fails ("could not load the Qt platform plugin").
We import cv2 here, deliberately first, and drop exactly the variables that point into its package.
"""

from __future__ import annotations

import os
from pathlib import Path

_OPENCV_QT_VARIABLES = ("QT_QPA_PLATFORM_PLUGIN_PATH", "QT_QPA_FONTDIR")


def drop_opencv_qt_paths() -> list[str]:
    """Import cv2 and remove the Qt variables it set to its own folder; returns the names removed."""
    import cv2

    cv2_dir = Path(cv2.__file__).resolve().parent
    removed = []
    for name in _OPENCV_QT_VARIABLES:
        value = os.environ.get(name)
        if value and Path(value).resolve().is_relative_to(cv2_dir):
            del os.environ[name]
            removed.append(name)
    return removed


def allow_large_images(megabytes: int = 1024) -> None:
    """Qt 6 refuses images over 256 MB by default; long strip scans can be larger."""
    from PySide6.QtGui import QImageReader

    QImageReader.setAllocationLimit(megabytes)
