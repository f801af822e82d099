"""A cancel request that carries its reason; safe to set from a signal handler or another thread."""

from __future__ import annotations

import threading


class CancelRequest(threading.Event):
    """A ``threading.Event`` with the reason of the first request (reported by the training loop, not the setter)."""

    def __init__(self) -> None:
        super().__init__()
        self.reason = ""

    def request(self, reason: str) -> None:
        if not self.is_set():
            self.reason = reason
        self.set()
