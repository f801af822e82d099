"""What this machine can run on: camera indices that open, and torch devices. Slow probes: call off the GUI thread."""

from __future__ import annotations

import importlib.util


def probe_cameras(max_index: int = 4, open_timeout_ms: int = 1500) -> list[int]:
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
