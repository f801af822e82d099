"""A sink opened on its own thread (the app's sinks): early records kept and handed over in order, a sink that
cannot open reported in its stats and never raised, one closed while opening closed when it opens."""

from __future__ import annotations

import threading

import pytest

from grace_core.errors import GraceError
from grace_core.inspection import InspectionSession
from grace_core.sinks import SinkStats
from grace_core.sinks.deferred import DeferredSink


class Collector:
    """A sink that keeps what it is given."""

    def __init__(self, spec: str) -> None:
        self.name, self.records, self.closed = f"collector:{spec}", [], False

    def submit(self, record) -> bool:
        self.records.append(record)
        return True

    def stats(self) -> SinkStats:
        return SinkStats(self.name, delivered=len(self.records))

    def close(self, timeout: float = 10.0) -> bool:
        self.closed = True
        return True


def gated_opener(gate: threading.Event, made: list[Collector]):
    def open_it(spec: str, **options) -> Collector:
        assert gate.wait(10), "the test never opened the gate"
        made.append(Collector(spec))
        return made[-1]

    return open_it


def test_records_sent_while_the_sink_opens_arrive_in_order_once_it_is_open():
    gate, made = threading.Event(), []
    sink = DeferredSink("slow:x", opener=gated_opener(gate, made), max_waiting=3)
    assert sink.state == "opening" and sink.stats().detail["state"] == "opening" and not sink.stats().connected
    assert [sink.submit(i) for i in range(5)] == [True, True, True, False, False]  # 3 kept, 2 over the bound
    gate.set()
    assert sink.wait_open(10) and sink.state == "open"
    assert sink.submit(5)
    assert made[0].records == [0, 1, 2, 5]
    stats = sink.stats()
    assert (stats.name, stats.delivered, stats.dropped) == ("collector:slow:x", 4, 2)
    assert sink.close() and made[0].closed


def test_a_sink_that_cannot_open_is_reported_and_never_raised(caplog):
    def refuse(spec: str, **options):
        raise GraceError(f"{spec}: port 4840 is already in use")

    sink = DeferredSink("opcua://127.0.0.1:4840", opener=refuse)
    assert not sink.wait_open(10) and sink.state == "failed"
    assert sink.submit("a frame") is False
    stats = sink.stats()
    assert stats.errors == 1 and stats.dropped == 1 and not stats.connected
    assert "already in use" in stats.last_error and stats.detail["state"] == "failed"
    assert "inspection goes on without it" in caplog.text
    assert sink.close()


def test_a_sink_closed_while_it_opens_is_closed_when_it_has_opened():
    gate, made = threading.Event(), []
    sink = DeferredSink("slow:x", opener=gated_opener(gate, made))
    sink.submit("early")
    assert not sink.close(timeout=0.05)  # still opening
    gate.set()
    sink._thread.join(10)
    assert made[0].closed and made[0].records == []  # nothing delivered after close


def test_the_real_registry_opens_a_file_sink(tmp_path):
    sink = DeferredSink(f"jsonl:{tmp_path / 'a.jsonl'}")
    assert sink.wait_open(10) and sink.name.startswith("JsonlSink:")
    assert sink.close()


def test_a_session_whose_model_does_not_load_still_closes_its_sinks():
    collector = Collector("x")

    def no_model(*_):
        raise GraceError("no such model")

    session = InspectionSession("demo", "missing.onnx", engine_loader=no_model, sinks=[collector])
    with pytest.raises(GraceError):
        next(session.run())
    assert collector.closed
