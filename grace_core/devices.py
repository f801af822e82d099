"""What this machine can run on: cameras that open, and torch devices. Slow probes: call off the GUI thread."""

from __future__ import annotations

import importlib.util
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from grace_core.sources.genicam import GenICamCamera

log = logging.getLogger(__name__)


def probe_cameras(
    max_index: int = 4, open_timeout_ms: int = 1500, genicam_device_class: str | None = None
) -> list[int | GenICamCamera]:
    """Indices ``0..max_index-1`` of OpenCV cameras that open and deliver a frame, then the GenICam cameras pylon
    finds (when pypylon is installed; ``genicam_device_class`` limits them to one transport layer)."""
    return [*probe_opencv_cameras(max_index, open_timeout_ms), *probe_genicam_cameras(genicam_device_class)]


def probe_genicam_cameras(device_class: str | None = None) -> list[GenICamCamera]:
    """The GenICam cameras pylon sees (serial, model); [] without pypylon or when pylon fails (logged)."""
    from grace_core.sources.genicam import PylonMissing, list_cameras

    try:
        return list_cameras(device_class)
    except PylonMissing:
        return []
    except Exception:  # a broken transport layer must not hide the OpenCV cameras
        log.warning("listing GenICam cameras failed", exc_info=True)
        return []


def probe_opencv_cameras(max_index: int = 4, open_timeout_ms: int = 1500) -> list[int]:
    """Indices ``0..max_index-1`` of cameras that open and deliver a frame."""
    import cv2

    found = []
    for index in range(max_index):
        capture = cv2.VideoCapture(index, cv2.CAP_ANY, [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, open_timeout_ms])
        try:
            if capture.isOpened() and capture.read()[0]:
                found.append(index)
        finally:
            capture.release()
    return found


def torch_devices() -> list[str]:
    """``["cpu"]`` plus ``cuda:N`` for each GPU torch can use (``[]`` when torch is not installed: runtime builds)."""
    if importlib.util.find_spec("torch") is None:
        return []
    import torch

    return ["cpu"] + [f"cuda:{i}" for i in range(torch.cuda.device_count() if torch.cuda.is_available() else 0)]
