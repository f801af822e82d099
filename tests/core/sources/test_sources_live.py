"""Live sources with a fake capture: connect, drop, stall, resize, latest-frame-wins, close, give up."""

from __future__ import annotations

import gc
import threading
import time
from itertools import islice

import pytest

from grace_core.errors import SourceError
from grace_core.sources import SourceState
from grace_core.sources.live import backoff_delays, sane_fps

S = SourceState


def reader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("grace-source-reader")]


def test_fails_to_open_then_recovers(device, live, until):
    device.online = False
    device.gate.clear()  # hold the first open so CONNECTING can be seen
    source = live()
    assert until(lambda: device.opens == 1)
    assert source.state is S.CONNECTING
    device.gate.set()
    assert until(lambda: source.state is S.RECONNECTING)
    device.online = True
    assert until(lambda: source.state is S.LIVE)
    frame = source.read(timeout=2)
    assert frame is not None and frame.image.shape == (48, 64, 3) and frame.source_id == "fake"
    assert source.stats()["reconnects"] >= 1
    assert source.info.live and source.info.fps == 25.0 and source.info.size == (64, 48)


def test_stream_that_drops_midway_recovers(device, live, until):
    source = live()
    assert source.read(timeout=2) is not None
    device.broken = True
    assert until(lambda: source.state in {S.RECONNECTING, S.STALE})
    source.read(timeout=0)  # drain a frame captured before the drop
    started = time.monotonic()
    assert source.read(timeout=0.1) is None  # no frame, no hang
    assert time.monotonic() - started < 3
    device.broken = False
    assert until(lambda: source.state is S.LIVE)
    assert source.read(timeout=2) is not None
    assert source.stats()["reconnects"] >= 1


def test_a_stalled_read_turns_stale_then_live(device, live, until):
    source = live(stale_after=0.1)
    assert source.read(timeout=2) is not None
    device.running.clear()
    assert until(lambda: source.state is S.STALE)
    assert source.seconds_since_last_frame > 0.1
    device.running.set()
    assert until(lambda: source.state is S.LIVE)
    assert source.read(timeout=2) is not None


def test_frame_size_change_after_reconnect(device, live, until):
    source = live()
    assert source.read(timeout=2).image.shape == (48, 64, 3)
    device.broken = True
    assert until(lambda: source.state is S.RECONNECTING)
    device.shape = (60, 80, 3)
    device.broken = False

    def new_shape_arrives() -> bool:
        frame = source.read(timeout=0.1)
        return frame is not None and frame.image.shape == (60, 80, 3)

    assert until(new_shape_arrives)
    assert source.info.size == (80, 60)


def test_latest_frame_wins_with_a_slow_consumer(device, live, until):
    device.delay = 0.001
    source = live()
    indices = []
    for _ in range(5):
        frame = source.read(timeout=2)
        assert frame is not None
        indices.append(frame.index)
        time.sleep(0.05)  # slow consumer
    stats = source.stats()
    assert stats["dropped"] > 0
    assert indices == sorted(indices) and len(set(indices)) == 5  # newer each time; gaps are drops
    assert stats["frames"] >= stats["delivered"] + stats["dropped"]
    del frame
    gc.collect()
    # The one slot, the reader's frame in hand, and at most one more in flight: never a queue.
    assert device.alive_images() <= 3 < len(device.produced)


def test_close_joins_the_reader_thread(device, live, until):
    source = live()
    assert source.read(timeout=2) is not None
    assert reader_threads()
    source.close()
    source.close()  # idempotent
    assert reader_threads() == []
    assert all(capture.released for capture in device.captures)
    assert source.state is S.ENDED
    assert source.read(timeout=0.5) is None
    assert list(source) == []


def test_iteration_ends_when_closed_from_another_thread(device, live):
    device.broken = True  # nothing will ever arrive
    source = live()
    closer = threading.Timer(0.2, source.close)
    closer.start()
    assert list(source) == []
    closer.join()
    assert reader_threads() == []


def test_gives_up_after_max_reconnects(device, live, until):
    device.online = False
    source = live(max_reconnects=2, description="Camera 7")
    assert until(lambda: source.state is S.FAILED)
    with pytest.raises(SourceError, match=r"Camera 7: cannot connect: .*\(2 reconnect attempt"):
        source.read(timeout=0.1)
    with pytest.raises(SourceError):
        next(iter(source))
    assert until(lambda: reader_threads() == [])


def test_backoff_doubles_and_caps():
    assert list(islice(backoff_delays(), 8)) == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0]


def test_default_stale_after_follows_fps(device, live):
    assert live(fps=25).stale_after == 1.0
    assert live(fps=2).stale_after == 2.5
    assert live(stale_after=0.3).stale_after == 0.3


@pytest.mark.parametrize(("value", "expected"), [(25.0, 25.0), (0.0, None), (float("nan"), None), (90000.0, None)])
def test_reported_fps_is_sanitised(value, expected):
    assert sane_fps(value) == expected
