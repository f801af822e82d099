"""A simulated camera the tests can break, stall, resize and bring back (core source tests and GUI tests)."""

from __future__ import annotations

import threading
import time
import weakref

import cv2
import numpy as np

STALL_READ_TIMEOUT = 0.3  # a stalled fake read gives up after this, like FFmpeg's read timeout


class FakeDevice:
    """One simulated camera; every capture its ``factory`` opens reads from it. Tests flip the attributes."""

    def __init__(self, shape: tuple[int, int, int] = (48, 64, 3), delay: float = 0.002, fps: float = 25.0) -> None:
        self.shape = shape
        self.delay = delay  # seconds per read
        self.fps = fps
        self.online = True  # False: captures open closed
        self.broken = False  # True: reads fail at once
        self.running = threading.Event()  # cleared: reads block (a stall) until set or STALL_READ_TIMEOUT
        self.running.set()
        self.gate = threading.Event()  # cleared: the factory blocks (to observe CONNECTING)
        self.gate.set()
        self.opens = 0
        self.produced: list[weakref.ref[np.ndarray]] = []
        self.captures: list[FakeCapture] = []

    def factory(self) -> FakeCapture:
        self.opens += 1
        self.gate.wait(5)
        capture = FakeCapture(self, opened=self.online)
        self.captures.append(capture)
        return capture

    def alive_images(self) -> int:
        return sum(ref() is not None for ref in self.produced)


class FakeCapture:
    def __init__(self, device: FakeDevice, opened: bool) -> None:
        self.device = device
        self.opened = opened
        self.released = False

    def isOpened(self) -> bool:  # OpenCV's name
        return self.opened and not self.released

    def read(self) -> tuple[bool, np.ndarray | None]:
        device = self.device
        time.sleep(device.delay)
        if not device.running.wait(STALL_READ_TIMEOUT) or not self.isOpened() or device.broken:
            return False, None
        image = np.full(device.shape, len(device.produced) % 256, np.uint8)
        device.produced.append(weakref.ref(image))
        return True, image

    def release(self) -> None:
        self.released = True

    def get(self, prop: int) -> float:
        return self.device.fps if prop == cv2.CAP_PROP_FPS else 0.0
