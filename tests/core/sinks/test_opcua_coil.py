"""The coil id read from an OPC UA node of the line's level-2 system (grace_core/plant/coil_opcua.py), against a
real asyncua server on 127.0.0.1 standing in for it; then a real run (the shipped model on the demo) that follows
the node and serves the station over OPC UA: events after a coil change carry the new coil."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import threading
import time

import pytest
from asyncua import ua
from asyncua.sync import Client, Server, ThreadLoop

from grace_core.errors import GraceError
from grace_core.plant import open_coil_reader
from grace_core.plant.coil_opcua import OpcUaCoilReader, coil_text, parse_node_url
from grace_core.sinks.opcua import NAMESPACE, OpcUaSink

PLANT_NS = "urn:plant:level2"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def eventually(check, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


class PlantServer:
    """A level-2 system's OPC UA server holding ``Line1.CoilId`` (a String) in its namespace ``urn:plant:level2``."""

    def __init__(self, port: int, coil: str = "C-1") -> None:
        self.port, self.stopped = port, False
        self.tloop = ThreadLoop()
        self.tloop.start()
        self.server = Server(tloop=self.tloop)
        self.server.set_endpoint(f"opc.tcp://127.0.0.1:{port}/plant")
        self.server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        self.ns = self.server.register_namespace(PLANT_NS)
        line = self.server.nodes.objects.add_object(ua.NodeId("Line1", self.ns), ua.QualifiedName("Line1", self.ns))
        value = ua.Variant(coil, ua.VariantType.String)
        self.node = line.add_variable(ua.NodeId("Line1.CoilId", self.ns), ua.QualifiedName("CoilId", self.ns), value)
        self.server.start()

    @property
    def url(self) -> str:
        return f"opc.tcp://127.0.0.1:{self.port}/plant/ns={self.ns};s=Line1.CoilId"

    def set(self, value: str, status=ua.StatusCodes.Good) -> None:
        self.node.write_value(ua.DataValue(ua.Variant(value, ua.VariantType.String), StatusCode=ua.StatusCode(status)))

    def stop(self) -> None:
        """Stop serving, then end what the sessions of clients still connected left running, and the thread."""
        if not self.stopped:
            self.stopped = True
            self.server.stop()
            self.tloop.post(cancel_the_rest())
            self.tloop.stop()


async def cancel_the_rest() -> None:
    tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=2.0)


@pytest.fixture(scope="module")
def shared_plant():
    server = PlantServer(free_port())
    yield server
    server.stop()


@pytest.fixture
def plant(shared_plant):
    """The level-2 server, showing coil C-1 (started once: a server loads its address space in a few seconds)."""
    shared_plant.set("C-1")
    return shared_plant


@pytest.fixture
def own_plant():
    """A level-2 server of the test's own, which it may stop."""
    server = PlantServer(free_port())
    yield server
    server.stop()


def coil_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name == "coil-opcua"]


def test_node_urls_name_the_endpoint_and_the_node():
    url = parse_node_url("opc.tcp://l2:4840/ns=2;s=Line1.CoilId")
    assert (url.endpoint, url.node) == ("opc.tcp://l2:4840", "ns=2;s=Line1.CoilId")
    url = parse_node_url("opc.tcp://10.0.0.5:49320/OPCUA/SimServer/ns=3;s=Line/1/Coil")
    assert (url.endpoint, url.node) == ("opc.tcp://10.0.0.5:49320/OPCUA/SimServer", "ns=3;s=Line/1/Coil")
    assert parse_node_url("opcua://l2/i=2258").node == "i=2258"
    assert parse_node_url("opc.tcp://l2:4840/nsu=urn:plant:x;s=Coil").node == "nsu=urn:plant:x;s=Coil"
    for bad, why in (
        ("opc.tcp://l2:4840", "no node id"),
        ("opc.tcp://l2:4840/Line1.CoilId", "no node id"),
        ("mqtt://l2/coil", "not an OPC UA node URL"),
        ("opc.tcp://l2:4840/ns=x;s=A", "no node id"),
    ):
        with pytest.raises(GraceError, match=why):
            parse_node_url(bad)


def test_values_read_as_coil_ids():
    assert coil_text(" C-1 ") == "C-1" and coil_text(4711) == "4711" and coil_text(b"C-2") == "C-2"
    assert coil_text(ua.LocalizedText("C-3")) == "C-3" and coil_text("") is None and coil_text(None) is None
    for bad in ("C\n1", "x" * 201, b"\xff", [1, 2], True):
        with pytest.raises(ValueError):
            coil_text(bad)


def test_the_reader_follows_the_node_through_changes_and_an_outage(own_plant):
    plant = own_plant
    coils: list = []
    reader = open_coil_reader(plant.url, coils.append, retry_initial=0.1, retry_max=0.5, watch_interval=0.2)
    assert isinstance(reader, OpcUaCoilReader)
    try:
        assert reader.wait_for_coil(15) and reader.coil == "C-1" and coils == ["C-1"]
        plant.set("C-2")
        assert eventually(lambda: reader.coil == "C-2")
        plant.set("C-2")  # the same coil again: not a new coil (its metres would restart at 0)
        plant.set("bad", status=ua.StatusCodes.BadCommunicationError)  # the L2 server lost its own source
        assert eventually(lambda: reader.stats().ignored == 1)
        time.sleep(0.6)  # the connection watch goes on reading the node all the while: still one connection
        assert reader.stats().connected and reader.stats().connects == 1 and reader.coil == "C-2"
        plant.set(" C-4 ")
        assert eventually(lambda: reader.coil == "C-4")
        assert coils == ["C-1", "C-2", "C-4"]
        stats = reader.stats()
        assert stats.connected and stats.ignored == 1 and stats.changes == 3 and stats.connects == 1

        plant.stop()  # the level-2 server goes away, then comes back with another coil
        assert eventually(lambda: not reader.stats().connected)
        back = PlantServer(plant.port, coil="C-3")
        try:
            assert eventually(lambda: reader.coil == "C-3", timeout=30)
            stats = reader.stats()
            assert stats.connected and stats.connects == 2 and stats.errors >= 1 and coils[-1] == "C-3"
        finally:
            back.stop()
    finally:
        assert reader.close(timeout=10)
    assert not coil_threads()


def test_an_unknown_node_or_server_is_reported_not_raised():
    errors: list[str] = []
    reader = OpcUaCoilReader(
        f"opc.tcp://127.0.0.1:{free_port()}/ns=2;s=Line1.CoilId", print, on_error=errors.append, retry_max=0.2
    )
    try:
        assert not reader.wait_for_coil(0.5)
        assert eventually(lambda: errors) and "cannot reach the OPC UA server" in errors[0]
        assert reader.stats().errors >= 1 and not reader.stats().connected
    finally:
        assert reader.close(timeout=10)
    assert not coil_threads()


def test_a_missing_node_is_named(plant):
    errors: list[str] = []
    url = plant.url.replace("Line1.CoilId", "Line9.CoilId")
    reader = OpcUaCoilReader(url, print, on_error=errors.append, retry_max=0.2)
    try:
        assert eventually(lambda: errors) and "cannot read the coil node" in errors[0]
        assert "BadNodeIdUnknown" in errors[0] and "Line9.CoilId" in errors[0]
    finally:
        assert reader.close(timeout=10)


class KeepOpen:
    """A sink the session cannot close: the test reads the station after the run, then closes it itself."""

    def __init__(self, sink: OpcUaSink) -> None:
        self.sink, self.name = sink, sink.name

    def submit(self, record) -> bool:
        return self.sink.submit(record)

    def stats(self):
        return self.sink.stats()

    def close(self, timeout: float = 10.0) -> bool:
        return True


class Heard:
    def __init__(self) -> None:
        self.events: list = []

    def event_notification(self, event) -> None:
        self.events.append(event)

    def status_change_notification(self, status) -> None:
        pass


def test_a_run_follows_the_plant_coil_and_serves_the_station(plant):
    """The shipped model on the demo's tiles (each detection its own event), the coil read from the plant's node
    and changed after frame 10, the station served over OPC UA to a client that hears every event."""
    from grace_core.inspection import InspectionSession, InspectionUpdate
    from grace_core.models import resolve_model
    from grace_core.sinks import InspectionContext

    model, backend = resolve_model("shipped", "auto")
    sink = OpcUaSink(f"opcua://127.0.0.1:{free_port()}", station="line1")
    session = InspectionSession(
        "demo:tiles", model, backend=backend, sinks=[KeepOpen(sink)], context=InspectionContext(station="line1")
    )
    reader = open_coil_reader(plant.url, session.set_coil)
    client = Client(sink.url, timeout=5)
    client.connect()
    try:
        ns = client.get_namespace_index(NAMESPACE)
        heard = Heard()
        event_type = client.get_node(ua.NodeId("DefectEventType", ns))
        client.create_subscription(20, heard).subscribe_events(client.nodes.server, event_type, queuesize=1000)
        assert reader.wait_for_coil(15)

        opened: dict[str, list[str | None]] = {"before": [], "after": []}
        frames = 0
        for update in session.run():
            if not isinstance(update, InspectionUpdate) or update.result is None:
                continue
            frames += 1
            phase = "before" if frames <= 10 else "after"
            opened[phase] += [event.coil for event in update.result.events.opened]
            if frames == 10:
                plant.set("C-2")
                assert eventually(lambda: reader.coil == "C-2")  # applied to the session when it shows
            if frames == 30:
                session.stop()
        assert opened["before"] and set(opened["before"]) == {"C-1"}
        assert opened["after"] and set(opened["after"]) == {"C-2"}

        assert sink.flush(10)
        total = len(opened["before"]) + len(opened["after"])

        def value(key: str):
            return client.get_node(ua.NodeId(f"GraceInspect.line1.{key}", ns)).read_value()

        assert value("FramesInspected") == 30 and value("EventsTotal") == total and value("Coil") == "C-2"
        counters = client.get_node(ua.NodeId("GraceInspect.line1.Counters", ns)).get_children()
        assert sum(node.read_value() for node in counters) == total and len(counters) == 6  # NEU-DET's classes
        assert json.loads(value("LastEvent"))["coil"] == "C-2" and value("Model").startswith("grace-neu-det")
        assert eventually(lambda: len(heard.events) >= total)
        assert [e.Coil for e in heard.events] == opened["before"] + opened["after"]
        assert sink.stats().dropped == 0 and sink.stats().errors == 0
    finally:
        client.disconnect()
        reader.close()
        assert sink.close(timeout=10)


def test_grace_detect_reads_the_coil_and_serves_opc_ua(plant, tmp_path):
    """The command line: ``--coil-from opc.tcp://…`` and ``--sink opcua://…`` together."""
    port = free_port()
    command = [
        sys.executable, "-m", "grace_core.cli.main", "detect", "demo", "--model", "shipped", "--max-frames", "15",
        "--save-dir", str(tmp_path), "--station", "line1", "--coil-from", plant.url,
        "--sink", f"opcua://127.0.0.1:{port}",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["frames"] == 15
    figures = summary["sinks"][f"OpcUaSink:opc.tcp://127.0.0.1:{port}"]
    assert figures == {"delivered": 15, "dropped": 0, "errors": 0}
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert events and {event["coil"] for event in events} == {"C-1"}
