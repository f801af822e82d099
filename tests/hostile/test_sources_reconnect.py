"""Live sources against real sockets on 127.0.0.1: a closed port is "cannot connect", a camera that served frames
and went away is "connection lost", and ``max_reconnects`` bounds a run of failures, not a source's lifetime."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator

import pytest
from helpers.local_streams import MjpegCamera, closed_port

from grace_core.errors import SourceError
from grace_core.sources import SourceState, StreamSource

FAST = {"backoff_initial": 0.05, "backoff_max": 0.05, "open_timeout": 2.0, "read_timeout": 2.0}


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return bool(predicate())


@pytest.fixture
def streams() -> Iterator[Callable[..., StreamSource]]:
    made: list[StreamSource] = []

    def make(url: str, **options: object) -> StreamSource:
        source = StreamSource(url, **{**FAST, **options})  # type: ignore[arg-type]
        made.append(source)
        return source

    yield make
    for source in made:
        source.close()


@pytest.fixture
def cameras() -> Iterator[Callable[..., MjpegCamera]]:
    made: list[MjpegCamera] = []

    def make(**options: object) -> MjpegCamera:
        made.append(MjpegCamera(**options))  # type: ignore[arg-type]
        return made[-1]

    yield make
    for camera in made:
        camera.stop()


def drain(source: StreamSource, timeout: float = 15.0) -> tuple[int, SourceError | None]:
    """Read until the source fails or ``timeout``: (frames read, the error it failed with)."""
    frames, deadline = 0, time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            frames += source.read(timeout=0.2) is not None
        except SourceError as error:
            return frames, error
    return frames, None


def test_a_closed_port_is_cannot_connect_and_gives_up(streams, caplog):
    caplog.set_level(logging.INFO, logger="grace_core")
    source = streams(f"rtsp://127.0.0.1:{closed_port()}/line1", max_reconnects=2)
    started = time.monotonic()
    frames, error = drain(source)
    assert error is not None, "a source that never connects must give up when max_reconnects is set"
    assert time.monotonic() - started < 10
    assert frames == 0 and not source.got_frames and source.state is SourceState.FAILED
    assert source.stats()["reconnects"] == 2
    message = str(error)
    assert "cannot connect" in message and "connection lost" not in message.lower()
    assert "2 reconnect attempt(s)" in message
    logged = " | ".join(record.getMessage() for record in caplog.records)
    assert "cannot connect" in logged and "connection lost" not in logged.lower()


def test_a_closed_port_without_a_limit_keeps_retrying(streams):
    source = streams(f"rtsp://127.0.0.1:{closed_port()}/line1")
    assert wait_until(lambda: source.stats()["reconnects"] >= 12)  # past grace detect's default of 10
    assert source.state is SourceState.RECONNECTING and not source.got_frames
    assert source.read(timeout=0.05) is None  # no error: still trying


def test_a_camera_that_goes_away_is_connection_lost(streams, cameras, caplog):
    caplog.set_level(logging.INFO, logger="grace_core")
    camera = cameras(frames_per_connection=5, max_connections=1)
    source = streams(camera.url(), max_reconnects=2)
    frames, error = drain(source)
    assert error is not None and frames >= 1 and source.got_frames
    message = str(error)
    assert "connection lost" in message and "cannot connect" not in message
    assert "2 reconnect attempt(s)" in message
    logged = " | ".join(record.getMessage() for record in caplog.records)
    assert "connection lost" in logged and "cannot connect" not in logged


def test_max_reconnects_counts_failures_since_the_last_frame(streams, cameras):
    """A link that drops and comes back at once, again and again, is healthy: one reconnect allowed in a row must
    not end a source that has already recovered from many drops."""
    camera = cameras(frames_per_connection=5)  # every connection hangs up after 5 frames; reconnects succeed
    source = streams(camera.url(), max_reconnects=1)
    frames = 0
    deadline = time.monotonic() + 30
    while camera.requests < 5 and time.monotonic() < deadline:
        frames += source.read(timeout=0.2) is not None  # raises SourceError if the source gave up
    assert camera.requests >= 5 and frames >= 4
    assert source.stats()["reconnects"] >= 4 and source.state is not SourceState.FAILED
