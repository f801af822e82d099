"""The OPC UA sink (grace_core/sinks/opcua.py) against a real asyncua client on 127.0.0.1: the station's variables,
counters and last event as a PLC reads them, one OPC UA event per defect event, the state, and a clean shutdown."""

from __future__ import annotations

import json
import math
import socket
import threading
import time
from datetime import timezone
from types import SimpleNamespace

import pytest
from asyncua import ua
from asyncua.sync import Client

from grace_core.engine.base import EngineInfo
from grace_core.errors import GraceError
from grace_core.events import DefectEvent, EventUpdate
from grace_core.sinks import InspectionContext, InspectionRecord, open_sink
from grace_core.sinks.opcua import NAMESPACE, OpcUaSink, parse_endpoint

NAMES = ("crazing", "scratches")
INFO = EngineInfo("onnxruntime", NAMES, 64, "m.onnx", "m.onnx@0123456789ab", True)
FRAME = SimpleNamespace()  # stands for a FrameResult: the sink only asks whether a record has one


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def defect(n: int, class_id: int, coil: str = "C-7", status: str = "defect", along=12.5, across=310.0) -> DefectEvent:
    now = time.time()
    return DefectEvent(
        id=f"ev{n}", class_id=class_id, class_name=NAMES[class_id], status=status, confidence=0.5 + n / 100,
        box=(1, 2, 30, 40), first_seen=now - 1, last_seen=now, sightings=3, source_id="demo",
        along_m=along, across_mm=across, coil=coil, coil_m=along,
    )  # fmt: skip


def record(*closed: DefectEvent, result=FRAME, coil: str = "C-7", station: str = "line1") -> InspectionRecord:
    context = InspectionContext(station=station, coil=coil, source="demo")
    return InspectionRecord(result, EventUpdate(closed=closed), INFO, context)


def eventually(check, timeout: float = 10.0):
    """``check()``'s first truthy value, polled until ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def opcua_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(("opcua-server", "sink-OpcUaSink"))]


class Heard:
    """A subscription handler keeping what it heard."""

    def __init__(self) -> None:
        self.events: list = []
        self.changes: list = []

    def event_notification(self, event) -> None:
        self.events.append(event)

    def datachange_notification(self, node, value, data) -> None:
        self.changes.append(value)

    def status_change_notification(self, status) -> None:
        self.status = status  # the server went away (the sink closed)


def test_endpoints_are_parsed_from_both_schemes():
    assert parse_endpoint("opcua://127.0.0.1:4841").url == "opc.tcp://127.0.0.1:4841"
    assert parse_endpoint("opc.tcp://plc-gw:4850/grace").url == "opc.tcp://plc-gw:4850/grace"
    assert parse_endpoint("opcua://:4840").host == "0.0.0.0"
    assert parse_endpoint("OPCUA://host").port == 4840
    for bad in ("opcua://host:0", "opcua://host:99999", "opcua:host", "http://host:4840"):
        with pytest.raises(GraceError, match=r"opcua://host:port|port must be"):
            parse_endpoint(bad)


def test_a_client_reads_the_station_and_hears_one_event_per_defect_event():
    port = free_port()
    sink = open_sink(f"opcua://127.0.0.1:{port}", station="line1", max_pending=8)
    assert isinstance(sink, OpcUaSink) and sink.url == f"opc.tcp://127.0.0.1:{port}"
    client = Client(sink.url, timeout=5)
    client.connect()
    try:
        ns = client.get_namespace_index(NAMESPACE)
        station = client.nodes.objects.get_child([f"{ns}:GraceInspect", f"{ns}:line1"])  # browsed, as a client would

        def value(key: str):
            return client.get_node(ua.NodeId(f"GraceInspect.line1.{key}", ns)).read_value()

        assert value("State") == "stopped" and value("FramesInspected") == 0  # before the first frame
        event_type = client.get_node(ua.NodeId("DefectEventType", ns))
        at_server, at_station = Heard(), Heard()
        for where, heard in ((client.nodes.server, at_server), (station, at_station)):
            client.create_subscription(20, heard).subscribe_events(where, event_type, queuesize=100)

        events = [defect(1, 0), defect(2, 1), defect(3, 1, status="uncertain", along=None, across=None)]
        for _ in range(5):
            assert sink.submit(record())
        assert sink.submit(record(events[0], events[1]))
        assert sink.submit(record(events[2], coil="C-8"))
        assert sink.flush(10)

        assert value("FramesInspected") == 7 and value("EventsTotal") == 3
        assert value("Counters.crazing") == 1 and value("Counters.scratches") == 2
        counters = station.get_child(f"{ns}:Counters")
        assert sorted(n.read_browse_name().Name for n in counters.get_children()) == list(NAMES)
        assert client.get_node(
            ua.NodeId("GraceInspect.line1.FramesInspected", ns)
        ).read_data_type_as_variant_type() == (ua.VariantType.UInt64)
        assert value("State") == "running" and value("Coil") == "C-8" and value("Model") == INFO.model_id
        assert value("Source") == "demo" and value("LastFrameTime").year >= 2024

        last = json.loads(value("LastEvent"))
        assert last["event"] == "ev3" and last["class_name"] == "scratches" and last["coil"] == "C-7"
        assert last["station"] == "line1" and last["model"] == INFO.model_id and last["along_m"] is None
        assert value("LastEvent.ClassName") == "scratches" and value("LastEvent.Status") == "uncertain"
        assert value("LastEvent.Confidence") == pytest.approx(0.53) and value("LastEvent.Coil") == "C-7"
        assert math.isnan(value("LastEvent.AlongM")) and math.isnan(value("LastEvent.AcrossMm"))  # not known
        seen = value("LastEvent.Time").replace(tzinfo=timezone.utc).timestamp()
        assert seen == pytest.approx(events[2].first_seen, abs=0.01)

        for heard in (at_server, at_station):
            assert eventually(lambda heard=heard: len(heard.events) >= 3)
            assert [e.DefectId for e in heard.events] == ["ev1", "ev2", "ev3"]
        first = at_server.events[0]
        assert (first.ClassName, first.ClassId, first.Status, first.Coil) == ("crazing", 0, "defect", "C-7")
        assert first.Confidence == pytest.approx(0.51) and first.AlongM == 12.5 and first.AcrossMm == 310.0
        assert first.Severity == 700 and at_server.events[2].Severity == 400
        assert first.SourceName == "line1" and first.Station == "line1" and first.Model == INFO.model_id
        assert "crazing" in first.Message.Text and "C-7" in first.Message.Text
        assert json.loads(first.Record)["event"] == "ev1"

        stats = sink.stats()
        assert (stats.delivered, stats.dropped, stats.errors, stats.pending, stats.connected) == (7, 0, 0, 0, True)
        assert stats.detail["events"] == 3 and stats.detail["states"] == {"line1": "running"}

        started = time.perf_counter()
        results = [sink.submit(record()) for _ in range(2000)]  # far more than the queue holds
        assert time.perf_counter() - started < 1.0  # submitting never waits for the server
        assert sink.flush(30)
        stats = sink.stats()
        assert stats.dropped == results.count(False) > 0 and stats.delivered == 7 + results.count(True)
        assert stats.detail["drops"] == {"queue_full": stats.dropped}
        assert value("FramesInspected") == stats.delivered
    finally:
        client.disconnect()
        assert sink.close(timeout=10)
    assert not opcua_threads()
    assert not sink.stats().connected and not sink.submit(record())  # closed: dropped and counted


def test_the_state_follows_the_records_and_set_state():
    sink = OpcUaSink(f"opc.tcp://127.0.0.1:{free_port()}", station="line1", stale_after=0.4)
    client = Client(sink.url, timeout=5)
    client.connect()
    try:
        ns = client.get_namespace_index(NAMESPACE)
        state = client.get_node(ua.NodeId("GraceInspect.line1.State", ns))
        heard = Heard()
        client.create_subscription(20, heard).subscribe_data_change(state, queuesize=50)

        assert state.read_value() == "stopped"
        sink.submit(record())
        assert eventually(lambda: state.read_value() == "running")
        assert eventually(lambda: state.read_value() == "stale")  # no frame for stale_after seconds
        sink.submit(record())
        assert eventually(lambda: state.read_value() == "running")

        older = record()  # made before the fault was set: it must not undo it
        sink.set_state("fault").result(5)
        assert state.read_value() == "fault"
        sink.submit(older)
        assert sink.flush(5) and state.read_value() == "fault"
        time.sleep(0.6)
        assert state.read_value() == "fault"  # only a running station goes stale
        sink.submit(record())
        assert eventually(lambda: state.read_value() == "running")
        with pytest.raises(ValueError, match="unknown station state"):
            sink.set_state("halted")

        sink.submit(record(defect(1, 0), result=None))  # the session's last record: events still open, no frame
        assert eventually(lambda: state.read_value() == "stopped")
        assert client.get_node(ua.NodeId("GraceInspect.line1.EventsTotal", ns)).read_value() == 1
        assert client.get_node(ua.NodeId("GraceInspect.line1.FramesInspected", ns)).read_value() == 4

        sink.submit(record())
        assert eventually(lambda: state.read_value() == "running")
        assert sink.close(timeout=10)  # clients hear "stopped" before the server goes
        assert eventually(lambda: heard.changes and heard.changes[-1] == "stopped")
        for expected in ("running", "stale", "running", "fault", "running", "stopped", "running"):
            assert expected in heard.changes
    finally:
        client.disconnect()
        sink.close(timeout=10)
    assert not opcua_threads()
    assert sink.stats().detail["states"] == {"line1": "stopped"}


def test_a_station_appears_with_the_first_record_when_not_named():
    sink = OpcUaSink(f"opcua://127.0.0.1:{free_port()}")
    try:
        older = record(station="line 2")
        sink.set_state("fault").result(5)  # before any station exists: the station starts in it
        sink.submit(older)
        assert sink.flush(10)
        with Client(sink.url, timeout=5) as client:
            ns = client.get_namespace_index(NAMESPACE)
            station = client.nodes.objects.get_child([f"{ns}:GraceInspect", f"{ns}:line 2"])
            assert station.get_child(f"{ns}:FramesInspected").read_value() == 1
            assert station.get_child(f"{ns}:State").read_value() == "fault"  # the record was made before set_state
    finally:
        assert sink.close(timeout=10)
    assert not opcua_threads()


def test_a_port_in_use_is_a_clear_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(GraceError, match=rf"port {port} is already in use.*choose another port"):
            open_sink(f"opcua://127.0.0.1:{port}")
    assert not opcua_threads()
