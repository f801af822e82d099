"""``opcua://host:port[/path]``: an OPC UA server that shows the station to the plant (PLC, SCADA, MES).

The line's systems *read* inspection rather than receive it: this sink runs an OPC UA server (``asyncua``) in its own
thread with its own asyncio loop, and keeps a small address space up to date from the records it is given:

.. code-block:: text

    Objects/GraceInspect/<station>          (object; emits DefectEventType events)
        State            String   running | stale | fault | stopped
        Model            String   the model id (file name + content hash)
        Coil             String   the coil on the line ("" when none)
        Source           String   what is inspected (a stream URL without its password)
        FramesInspected  UInt64
        EventsTotal      UInt64   defect events closed (one per physical defect)
        LastFrameTime    DateTime
        Counters/<class> UInt64   events per class
        LastEvent        String   the last closed event as JSON, with its parts as child variables:
            EventId, ClassName, Status, Confidence, Coil, AlongM, AcrossMm, Time

Node ids are strings in the namespace ``urn:grace-inspect``: ``ns=<i>;s=GraceInspect.<station>.State``,
``…Counters.<class>``, ``…LastEvent.ClassName``, so a PLC can be configured by node id. Each closed defect event is
also an OPC UA **event** of the type ``DefectEventType`` (a BaseEventType with the event's fields as properties),
emitted by the station object and by the Server object (where most clients subscribe). The model follows the
Machine Vision companion specification (OPC 40100) where it fits — a vision system with a state and one
result-ready event per result — without its full type system: see docs/sinks.md for the correspondence.

``State`` follows the record stream: a record with a frame → running; no record for ``stale_after`` seconds →
stale; the final record (``result is None``) or :meth:`OpcUaSink.close` → stopped. :meth:`OpcUaSink.set_state` sets
it explicitly (e.g. "fault" when the source fails); records made before that call do not undo it.

``submit`` never blocks: records wait in a bounded queue (:class:`~grace_core.sinks.background.BackgroundWorker`),
one beyond the bound is dropped and counted. The server is read-only, anonymous and unencrypted: serve it on the
plant network only (docs/security.md).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import errno
import json
import logging
import math
import re
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from asyncua import Server, ua

from grace_core.errors import GraceError
from grace_core.events import DefectEvent
from grace_core.sinks.background import BackgroundWorker
from grace_core.sinks.base import InspectionContext, InspectionRecord, SinkStats

log = logging.getLogger(__name__)

NAMESPACE = "urn:grace-inspect"
ROOT = "GraceInspect"
DEFAULT_PORT = 4840
STATES = ("running", "stale", "fault", "stopped")
SEVERITY = {"defect": 700, "uncertain": 400}  # OPC UA severities run 1..1000
EVENT_FIELDS = (  # DefectEventType's properties, beside BaseEventType's Time, Message, Severity, SourceName
    ("DefectId", ua.VariantType.String),
    ("Station", ua.VariantType.String),
    ("ClassName", ua.VariantType.String),
    ("ClassId", ua.VariantType.Int32),
    ("Status", ua.VariantType.String),
    ("Confidence", ua.VariantType.Double),
    ("Coil", ua.VariantType.String),
    ("AlongM", ua.VariantType.Double),
    ("AcrossMm", ua.VariantType.Double),
    ("Model", ua.VariantType.String),
    ("Record", ua.VariantType.String),
)


@dataclass(frozen=True)
class Endpoint:
    """Where the server listens. An empty host (``opcua://:4840``) means every interface."""

    host: str
    port: int
    path: str = ""

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"opc.tcp://{host}:{self.port}{self.path}"


def parse_endpoint(spec: str) -> Endpoint:
    """``opcua://host:port[/path]`` or ``opc.tcp://host:port[/path]`` (port 4840 when omitted)."""
    match = re.fullmatch(r"(?i:opcua|opc\.tcp)://(\[[^\]]*\]|[^/:?#]*)(?::(\d+))?(/[^?#]*)?", spec.strip())
    if match is None:
        raise GraceError(f"{spec}: expected opcua://host:port[/path] (or opc.tcp://host:port[/path])")
    host, port, path = match.group(1).strip("[]"), match.group(2), match.group(3) or ""
    port = DEFAULT_PORT if port is None else int(port)
    if not 0 < port < 65536:
        raise GraceError(f"{spec}: the port must be between 1 and 65535")
    return Endpoint(host or "0.0.0.0", port, "" if path == "/" else path)


def event_record(event: DefectEvent, record: InspectionRecord) -> dict:
    """The event as JSON-ready fields, with its station, source and model; its coil is the one it was seen on."""
    context: InspectionContext = record.context
    model = getattr(record.model, "model_id", None)
    return {**context.to_record(), **event.to_record(), "coil": event.coil or context.coil, "model": model}


def along_metres(event: DefectEvent) -> float | None:
    """Metres from the start of the coil (or of inspection, without a coil), where known."""
    return event.coil_m if event.coil_m is not None else event.along_m


def utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


def _same(a: Any, b: Any) -> bool:
    nan = isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)
    return nan or (type(a) is type(b) and a == b)


def _number(value: float | None) -> float:
    return math.nan if value is None else float(value)  # NaN: not known (OPC UA Doubles have no null)


class _Station:
    """The nodes of one station and what they show; used on the server's loop only."""

    def __init__(self, server: Server, ns: int, name: str, node, generators: tuple) -> None:
        self.server, self.ns, self.name, self.node = server, ns, name, node
        self.generators = generators  # (emitted by the station, emitted by the Server object)
        self.prefix = f"{ROOT}.{name}"
        self.variables: dict[str, tuple[Any, ua.VariantType, Any]] = {}  # key → (node, type, last value)
        self.state = "stopped"
        self.state_set_at = 0.0  # time.time() of the last explicit set_state: older records do not undo it
        self.last_record = time.monotonic()
        self.frames = self.events = 0
        self.counters: dict[str, int] = {}
        self.counters_folder = None
        self.last_event = None

    @classmethod
    async def create(cls, server: Server, ns: int, parent, event_type, name: str) -> _Station:
        node = await parent.add_object(ua.NodeId(f"{ROOT}.{name}", ns), ua.QualifiedName(name, ns))
        generators = []
        for emitter in (node, server.nodes.server):
            generator = await server.get_event_generator(event_type, emitter)
            generator.event.SourceNode, generator.event.SourceName = node.nodeid, name
            generators.append(generator)
        await server.nodes.server.add_reference(node.nodeid, ua.ObjectIds.HasNotifier)  # the event hierarchy
        station = cls(server, ns, name, node, tuple(generators))
        for key, value, kind in (
            ("State", "stopped", ua.VariantType.String),
            ("Model", "", ua.VariantType.String),
            ("Coil", "", ua.VariantType.String),
            ("Source", "", ua.VariantType.String),
            ("FramesInspected", 0, ua.VariantType.UInt64),
            ("EventsTotal", 0, ua.VariantType.UInt64),
            ("LastFrameTime", datetime.fromtimestamp(0, timezone.utc), ua.VariantType.DateTime),
        ):
            await station._add(node, key, value, kind)
        station.counters_folder = await node.add_folder(
            ua.NodeId(f"{station.prefix}.Counters", ns), ua.QualifiedName("Counters", ns)
        )
        station.last_event = await station._add(node, "LastEvent", "", ua.VariantType.String)
        for key, value, kind in (
            ("EventId", "", ua.VariantType.String),
            ("ClassName", "", ua.VariantType.String),
            ("Status", "", ua.VariantType.String),
            ("Confidence", math.nan, ua.VariantType.Double),
            ("Coil", "", ua.VariantType.String),
            ("AlongM", math.nan, ua.VariantType.Double),
            ("AcrossMm", math.nan, ua.VariantType.Double),
            ("Time", datetime.fromtimestamp(0, timezone.utc), ua.VariantType.DateTime),
        ):
            await station._add(station.last_event, f"LastEvent.{key}", value, kind, name=key)
        return station

    async def _add(self, parent, key: str, value: Any, kind: ua.VariantType, name: str | None = None):
        """A variable under ``parent``: node id ``GraceInspect.<station>.<key>``, browse name ``name`` (or ``key``)."""
        name = name or key
        node = await parent.add_variable(
            ua.NodeId(f"{self.prefix}.{key}", self.ns), ua.QualifiedName(name, self.ns), ua.Variant(value, kind)
        )
        self.variables[key] = (node, kind, value)
        return node

    async def write(self, key: str, value: Any) -> None:
        """Write a variable, only when it changed (a client's subscription hears of each change once)."""
        node, kind, last = self.variables[key]
        if _same(last, value):
            return
        await self.server.write_attribute_value(node.nodeid, ua.DataValue(ua.Variant(value, kind)))
        self.variables[key] = (node, kind, value)

    async def apply(self, record: InspectionRecord) -> int:
        """Show one record; returns how many OPC UA events it emitted."""
        self.last_record = time.monotonic()
        await self._counters(tuple(getattr(record.model, "class_names", ())))
        await self.write("Model", str(getattr(record.model, "model_id", "") or ""))
        await self.write("Coil", record.context.coil or "")
        await self.write("Source", record.context.source or "")
        if record.result is not None:
            self.frames += 1
            await self.write("FramesInspected", self.frames)
            await self.write("LastFrameTime", utc(record.time))
        emitted = 0
        for event in record.closed_events:
            await self._event(event, record)
            emitted += 1
        if record.time >= self.state_set_at:
            await self.set_state("running" if record.result is not None else "stopped")
        return emitted

    async def set_state(self, state: str, explicit_at: float | None = None) -> None:
        if explicit_at is not None:
            self.state_set_at = explicit_at
        self.state = state
        await self.write("State", state)

    async def check_stale(self, stale_after: float) -> None:
        if self.state == "running" and time.monotonic() - self.last_record > stale_after:
            await self.set_state("stale")

    async def _counters(self, class_names: tuple[str, ...]) -> None:
        """One counter per class of the model (created when a model first shows them, so clients see zeros)."""
        for name in class_names:
            if name not in self.counters:
                self.counters[name] = 0
                await self._add(self.counters_folder, f"Counters.{name}", 0, ua.VariantType.UInt64, name=name)

    async def _event(self, event: DefectEvent, record: InspectionRecord) -> None:
        await self._counters((event.class_name,))
        self.counters[event.class_name] += 1
        self.events += 1
        await self.write(f"Counters.{event.class_name}", self.counters[event.class_name])
        await self.write("EventsTotal", self.events)
        fields = event_record(event, record)
        text = json.dumps(fields)
        coil, along = fields["coil"] or "", along_metres(event)
        for key, value in (
            ("EventId", event.id),
            ("ClassName", event.class_name),
            ("Status", event.status),
            ("Confidence", float(event.confidence)),
            ("Coil", coil),
            ("AlongM", _number(along)),
            ("AcrossMm", _number(event.across_mm)),
            ("Time", utc(event.first_seen)),
        ):
            await self.write(f"LastEvent.{key}", value)
        await self.write("LastEvent", text)
        where = f" at {along:.2f} m" if along is not None else ""
        message = f"{event.status} {event.class_name} ({event.confidence:.2f}) on coil {coil or '-'}{where}"
        for generator in self.generators:
            values = generator.event
            values.DefectId, values.Station, values.ClassName = event.id, self.name, event.class_name
            values.ClassId, values.Status, values.Confidence = event.class_id, event.status, float(event.confidence)
            values.Coil, values.AlongM, values.AcrossMm = coil, _number(along), _number(event.across_mm)
            values.Model, values.Record = fields["model"] or "", text
            values.Severity = SEVERITY.get(event.status, 500)
            await generator.trigger(time_attr=utc(event.first_seen), message=message)


class _OpcUaServer:
    """The asyncua server on its own thread and event loop; :meth:`call` runs a coroutine there."""

    def __init__(self, endpoint: Endpoint, stale_after: float, stations: tuple[str, ...]) -> None:
        self.endpoint, self.stale_after, self._initial = endpoint, stale_after, stations
        self.stations: dict[str, _Station] = {}
        self.events = 0
        self._explicit: tuple[str, float] | None = None  # the last set_state, for stations created after it
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._stop: asyncio.Event | None = None
        self._server: Server | None = None
        self._ns, self._root, self._event_type = 0, None, None  # set by _build
        self._thread = threading.Thread(target=self._run, name=f"opcua-server-{endpoint.port}", daemon=True)

    @property
    def running(self) -> bool:
        return self._ready.is_set() and self._error is None and self._thread.is_alive()

    def start(self, timeout: float) -> None:
        """Start serving; raises :class:`GraceError` when the port cannot be had."""
        self._thread.start()
        if not self._ready.wait(timeout):
            self.stop(5.0)
            raise GraceError(f"{self.endpoint.url}: the OPC UA server did not start within {timeout:g} s")
        if self._error is not None:
            self._thread.join(5.0)
            raise _start_error(self.endpoint, self._error) from self._error

    def call(self, coroutine) -> concurrent.futures.Future:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    def stop(self, timeout: float) -> bool:
        """Show every station stopped, stop serving and end the thread."""
        if self._thread.is_alive() and self._stop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has just ended by itself
                self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # -- on the server's thread ---------------------------------------------------------------------------------

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        except BaseException as exc:  # reported to start(), or logged after it
            if not self._ready.is_set():
                self._error = exc
            else:
                log.exception("%s: the OPC UA server failed", self.endpoint.url)
        finally:
            self._ready.set()
            _close_loop(self._loop)

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        server = await self._build()
        await server.start()
        self._server = server
        self._ready.set()
        watchdog = asyncio.create_task(self._watch())
        try:
            await self._stop.wait()
        finally:
            watchdog.cancel()
            for station in self.stations.values():
                with contextlib.suppress(Exception):
                    await station.set_state("stopped")
            await asyncio.sleep(0.25)  # a few publishing intervals: subscribed clients hear the last changes
            await server.stop()

    async def _build(self) -> Server:
        _check_port_free(self.endpoint)  # a clear error before asyncua logs a traceback of its own
        server = Server()
        await server.init()
        server.set_endpoint(self.endpoint.url)
        server.set_server_name("GRACE Inspect")
        server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        server.set_identity_tokens([ua.AnonymousIdentityToken])
        self._ns = await server.register_namespace(NAMESPACE)
        self._event_type = await _event_type(server, self._ns)
        self._root = await server.nodes.objects.add_object(ua.NodeId(ROOT, self._ns), ua.QualifiedName(ROOT, self._ns))
        self._server = server
        for name in self._initial:
            await self.station(name)
        return server

    async def station(self, name: str) -> _Station:
        if name not in self.stations:
            station = await _Station.create(self._server, self._ns, self._root, self._event_type, name)
            if self._explicit is not None:
                await station.set_state(*self._explicit)
            self.stations[name] = station
        return self.stations[name]

    async def apply(self, record: InspectionRecord) -> None:
        station = await self.station(record.context.station or "station")
        self.events += await station.apply(record)

    async def set_state(self, state: str, at: float) -> None:
        self._explicit = (state, at)
        for station in self.stations.values():
            await station.set_state(state, explicit_at=at)

    async def _watch(self) -> None:
        interval = min(0.5, self.stale_after / 4)
        while True:
            await asyncio.sleep(interval)
            for station in list(self.stations.values()):
                try:
                    await station.check_stale(self.stale_after)
                except Exception:
                    log.exception("%s: cannot update the state of %s", self.endpoint.url, station.name)


def _close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what the server left running (the sessions of clients still connected) and close the loop."""
    try:
        tasks = asyncio.all_tasks(loop)
        for task in tasks:
            task.cancel()
        if tasks:
            loop.run_until_complete(asyncio.wait(tasks, timeout=2.0))
    finally:
        loop.close()


async def _event_type(server: Server, ns: int):
    """``DefectEventType``, a BaseEventType with :data:`EVENT_FIELDS` as properties, at string node ids
    (``ns=<i>;s=DefectEventType``, ``…DefectEventType.ClassName``) so a client can name it in its filter."""
    base = server.get_node(ua.ObjectIds.BaseEventType)
    event_type = await base.add_object_type(ua.NodeId("DefectEventType", ns), ua.QualifiedName("DefectEventType", ns))
    for name, kind in EVENT_FIELDS:
        await event_type.add_property(
            ua.NodeId(f"DefectEventType.{name}", ns), ua.QualifiedName(name, ns), ua.get_default_value(kind), kind
        )
    return event_type


def _check_port_free(endpoint: Endpoint) -> None:
    """Bind the port once as the server will (SO_REUSEADDR, as asyncio does), so "in use" is said plainly."""
    try:
        addresses = socket.getaddrinfo(endpoint.host, endpoint.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise GraceError(f"{endpoint.url}: cannot resolve {endpoint.host!r}: {error}") from error
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)


def check_port_free(endpoint: Endpoint) -> None:
    """Whether a server could listen at ``endpoint`` now (a settings form's "Test"); raises :class:`GraceError`
    saying why not, as starting the server would (port in use, address not on this machine, name unknown)."""
    try:
        _check_port_free(endpoint)
    except OSError as error:
        raise _start_error(endpoint, error) from error


def _start_error(endpoint: Endpoint, error: BaseException) -> GraceError:
    if isinstance(error, GraceError):
        return error
    if isinstance(error, OSError) and error.errno == errno.EADDRINUSE:
        return GraceError(
            f"{endpoint.url}: port {endpoint.port} is already in use (another OPC UA server, or an earlier run "
            "still closing): choose another port in the sink's URL"
        )
    if isinstance(error, OSError) and error.errno in (errno.EADDRNOTAVAIL, errno.EACCES):
        return GraceError(f"{endpoint.url}: cannot serve on {endpoint.host}:{endpoint.port}: {error.strerror}")
    return GraceError(f"{endpoint.url}: the OPC UA server could not start: {type(error).__name__}: {error}")


class OpcUaSink(BackgroundWorker[InspectionRecord]):
    """See the module doc. ``spec``: ``opcua://host:port[/path]``; ``station``: create that station's nodes at
    once (otherwise with the first record, named by its context); ``stale_after``: seconds without a record before
    a running station shows "stale"; ``start_timeout``: how long the server may take to start (it loads the
    standard address space: a few seconds on a busy machine); ``wait_when_full``: an offline run waits for room
    rather than dropping (see :class:`~grace_core.sinks.background.BackgroundWorker`)."""

    def __init__(
        self,
        spec: str,
        *,
        station: str | None = None,
        stale_after: float = 5.0,
        max_pending: int = 256,
        start_timeout: float = 30.0,
        apply_timeout: float = 10.0,
        wait_when_full: bool = False,
        on_error=None,
    ) -> None:
        if stale_after <= 0:
            raise GraceError(f"{spec}: stale_after must be more than 0 seconds, got {stale_after}")
        self.endpoint = parse_endpoint(spec)
        super().__init__(
            f"OpcUaSink:{self.endpoint.url}",
            max_pending=max_pending,
            on_error=on_error,
            connect_at_start=True,
            wait_when_full=wait_when_full,
        )
        self._apply_timeout = apply_timeout
        self._server = _OpcUaServer(self.endpoint, stale_after, (station,) if station else ())
        self._server.start(start_timeout)
        self.start()

    @property
    def url(self) -> str:
        return self.endpoint.url

    def set_state(self, state: str) -> concurrent.futures.Future:
        """Show ``state`` (one of :data:`STATES`) on every station now, from any thread; never blocks. Records made
        before the call do not change it back; later ones do (a frame → running). The future is done once shown."""
        if state not in STATES:
            raise ValueError(f"unknown station state {state!r}: use one of {', '.join(STATES)}")
        if not self._server.running:
            raise GraceError(f"{self.url}: the OPC UA server is closed")
        return self._server.call(self._server.set_state(state, time.time()))

    def stats(self) -> SinkStats:
        d = self.delivery_stats()
        states = {name: station.state for name, station in dict(self._server.stations).items()}
        detail = {"endpoint": self.url, "events": self._server.events, "states": states, "drops": d.drop_reasons}
        return SinkStats(
            self.name, d.delivered, d.dropped, d.errors, d.pending, self._server.running, d.last_error, detail
        )

    def close(self, timeout: float = 10.0) -> bool:
        """Show what is pending, then "stopped", stop the server and end both threads."""
        deadline = time.monotonic() + timeout
        delivered = super().close(timeout)
        stopped = self._server.stop(max(1.0, deadline - time.monotonic()))
        return delivered and stopped

    # -- BackgroundWorker -----------------------------------------------------------------------------------------

    def _connect(self) -> _OpcUaServer:
        if not self._server.running:
            raise GraceError(f"{self.url}: the OPC UA server is not running")
        return self._server

    def _deliver(self, server: _OpcUaServer, record: InspectionRecord) -> None:
        server.call(server.apply(record)).result(self._apply_timeout)

    def _transient(self, exc: BaseException) -> bool:
        return False  # the server is in this process: a failure is about the record, and retrying will not help
