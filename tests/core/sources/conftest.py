"""Fakes for the frame-source tests: a simulated camera the tests can break, stall, resize and bring back."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from helpers.fake_camera import FakeDevice

from grace_core.sources import LiveSource


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll ``predicate`` until true or ``timeout``; returns its last value (assert on it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return bool(predicate())


@pytest.fixture
def device() -> FakeDevice:
    return FakeDevice()


@pytest.fixture
def live(device: FakeDevice) -> Iterator[Callable[..., LiveSource]]:
    """Make LiveSources on ``device`` with fast backoff; all are closed at teardown."""
    made: list[LiveSource] = []

    def make(**options: object) -> LiveSource:
        options = {"backoff_initial": 0.01, "backoff_max": 0.05, "source_id": "fake", **options}
        source = LiveSource(device.factory, **options)  # type: ignore[arg-type]
        made.append(source)
        return source

    yield make
    for source in made:
        source.close()


@pytest.fixture
def until() -> Callable[..., bool]:
    return wait_until
