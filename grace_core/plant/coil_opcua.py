"""The coil on the line, read from an OPC UA node of the line's level-2 system.

The URL names the server and the node: ``opc.tcp://host:port[/endpoint/path]/<node id>``, the node id in OPC UA's
text form — ``ns=2;s=Line1.CoilId``, ``ns=3;i=1007``, or ``nsu=<namespace uri>;s=…`` (resolved on the server:
namespace indices may change when a server restarts; its URI does not). The node id starts at the first ``/``
followed by ``ns=``, ``nsu=``, ``i=``, ``s=``, ``g=`` or ``b=`` and runs to the end of the URL, verbatim (it may hold
``/``; nothing is percent-decoded). Examples::

    opc.tcp://l2-server:4840/ns=2;s=Line1.CoilId
    opc.tcp://10.0.0.5:49320/OPCUA/SimServer/ns=3;s=Line/1/Coil

:class:`OpcUaCoilReader` subscribes to the node's data changes on its own thread (and asyncio loop) and calls
``on_coil(coil_id)`` — a string, or None for an empty value — each time the value *changes*: a reconnect that
reports the same coil again does not call it (``set_coil`` restarts the coil's metres at 0). A value the server
marks as not good (its own source is down: ``BadCommunicationError``…), or that cannot be a coil id (a line break,
over 200 characters), is ignored and counted: it must not rename the coil under inspection. Strings, numbers and
byte strings are read as text. A lost connection is retried with a backoff doubling up to ``retry_max`` seconds;
inspection never waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from grace_core.errors import GraceError

log = logging.getLogger(__name__)

USAGE = "opc.tcp://host:port[/endpoint/path]/ns=<index>;s=<name> (or ;i=<number>, or nsu=<namespace uri>;…)"
MAX_COIL_LENGTH = 200
_NODE_START = re.compile(r"/(?=(?:ns=\d+;|nsu=[^;]+;)?[isgb]=)")


@dataclass(frozen=True)
class NodeUrl:
    """A server endpoint and a node on it."""

    endpoint: str  # opc.tcp://host:port[/path]
    node: str  # the node id's text form

    @property
    def name(self) -> str:
        return f"{self.endpoint.rstrip('/')}/{self.node}"


def parse_node_url(url: str) -> NodeUrl:
    """Split ``url`` into the server's endpoint and the node id (see the module doc); raises :class:`GraceError`."""
    text = str(url).strip()
    match = re.fullmatch(r"(?i:opc\.tcp|opcua)://([^/]+)(/.*)?", text)
    if match is None:
        raise GraceError(f"{text}: not an OPC UA node URL; use {USAGE}")
    host, rest = match.group(1), match.group(2) or ""
    start = _NODE_START.search(rest)
    if start is None:
        raise GraceError(f"{text}: no node id after the server's address; use {USAGE}")
    if "@" in host:
        raise GraceError(f"{text}: user names in the URL are not supported; the node must be readable anonymously")
    node = rest[start.end() :]
    try:
        _node_id(node)
    except Exception as error:  # asyncua raises several kinds for a malformed id
        raise GraceError(f"{text}: {node!r} is not an OPC UA node id ({error}); use {USAGE}") from error
    return NodeUrl(f"opc.tcp://{host}{rest[: start.start()]}", node)


def _node_id(text: str):
    from asyncua import ua

    return ua.NodeId.from_string(text)


class UnreadableCoil(ValueError):
    pass


def coil_text(value: Any) -> str | None:
    """A node's value as a coil id: strings stripped, bytes decoded, numbers as written, LocalizedText's text;
    empty or null → None. Raises UnreadableCoil for anything else."""
    if value is None:
        return None
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            raise UnreadableCoil("bytes that are not UTF-8 text") from None
    elif hasattr(value, "Text") and not isinstance(value, str):  # LocalizedText
        value = value.Text or ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise UnreadableCoil(f"a coil id must be text or a number, got {type(value).__name__}")
    text = str(value).strip()
    if len(text) > MAX_COIL_LENGTH or any(c in text for c in "\r\n"):
        raise UnreadableCoil(f"not a coil id: {text[:60]!r}")
    return text or None


@dataclass(frozen=True)
class CoilReaderStats:
    name: str
    connected: bool
    coil: str | None
    values: int  # values the server sent (data changes)
    ignored: int  # values not taken: a bad status, or not a coil id
    changes: int  # on_coil calls
    connects: int
    errors: int  # failed or lost connections
    last_error: str | None


class _Handler:
    """asyncua's subscription callback: runs on the reader's loop."""

    def __init__(self, reader: OpcUaCoilReader) -> None:
        self.reader = reader

    def datachange_notification(self, node, value, data) -> None:
        status = getattr(getattr(getattr(data, "monitored_item", None), "Value", None), "StatusCode", None)
        self.reader._value(value, status)

    def status_change_notification(self, status) -> None:
        code = getattr(status, "Status", None)
        if code is None or not code.is_good():  # the server ended the subscription (it is shutting down)
            self.reader._lost.set()


class OpcUaCoilReader:
    """See the module doc. Starts at once; :meth:`close` ends it. ``on_error(message)`` hears of each failed or lost
    connection (default: a logged warning)."""

    def __init__(
        self,
        url: str,
        on_coil: Callable[[str | None], None],
        *,
        on_error: Callable[[str], None] | None = None,
        timeout: float = 5.0,
        period_ms: int = 100,
        retry_initial: float = 0.5,
        retry_max: float = 10.0,
        watch_interval: float = 1.0,
    ) -> None:
        self.address = parse_node_url(url)
        self.name = self.address.name
        self._on_coil, self._on_error = on_coil, on_error
        self._timeout, self._period_ms = timeout, period_ms
        self._retry_initial, self._retry_max, self._watch_interval = retry_initial, retry_max, watch_interval
        self._lock = threading.Lock()
        self._coil: str | None = None
        self._have_value = threading.Event()
        self._values = self._ignored = self._changes = self._connects = self._errors = 0
        self._connected = False
        self._last_error: str | None = None
        self._logged: str | None = None  # the failure last logged: once per kind, not once per retry
        self._loop = asyncio.new_event_loop()
        self._stop, self._lost = asyncio.Event(), asyncio.Event()  # bound to the reader's loop when first awaited
        self._thread = threading.Thread(target=self._run, name="coil-opcua", daemon=True)
        self._thread.start()

    @property
    def coil(self) -> str | None:
        with self._lock:
            return self._coil

    def wait_for_coil(self, timeout: float) -> bool:
        """Wait until the node's value has been read once (or ``timeout`` passed); True if it was."""
        return self._have_value.wait(timeout)

    def stats(self) -> CoilReaderStats:
        with self._lock:
            return CoilReaderStats(
                self.name, self._connected, self._coil, self._values, self._ignored, self._changes, self._connects,
                self._errors, self._last_error,
            )  # fmt: skip

    def close(self, timeout: float = 5.0) -> bool:
        """Disconnect and end the thread; False if it is still running after ``timeout`` (a daemon thread)."""
        if self._thread.is_alive():
            with contextlib.suppress(RuntimeError):  # the loop has ended by itself
                self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def __enter__(self) -> OpcUaCoilReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the reader's thread --------------------------------------------------------------------------------------

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        except Exception:
            log.exception("%s: the coil reader failed", self.name)
        finally:
            _close_loop(self._loop)

    async def _main(self) -> None:
        delay = self._retry_initial
        while not self._stop.is_set():
            try:
                await self._follow()
                delay = self._retry_initial
            except Exception as error:
                self._failed(error)
            finally:
                with self._lock:
                    self._connected = False
            if self._stop.is_set():
                break
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stop.wait(), delay)
            delay = min(2 * delay, self._retry_max)

    async def _follow(self) -> None:
        """Connect, subscribe to the node and watch the connection until it is lost or the reader closes."""
        from asyncua import Client, ua

        client = Client(self.address.endpoint, timeout=self._timeout)
        await client.connect()
        try:
            node_id = _node_id(self.address.node)
            uri = getattr(node_id, "NamespaceUri", None)
            if uri:
                try:
                    index = await client.get_namespace_index(uri)
                except ValueError:
                    raise GraceError(f"{self.name}: the server has no namespace {uri!r}") from None
                node_id = ua.NodeId(node_id.Identifier, index, node_id.NodeIdType)
            node = client.get_node(node_id)
            try:
                await node.read_browse_name()  # an unknown node fails here, with the server's reason (its value may
            except ua.UaStatusCodeError as error:  # be bad or null for a while: the subscription reports that)
                raise GraceError(f"{self.name}: cannot read the coil node: {error}") from error
            self._lost.clear()
            subscription = await client.create_subscription(self._period_ms, _Handler(self))
            await subscription.subscribe_data_change(node)
            with self._lock:
                self._connected = True
                self._connects += 1
                self._logged = None  # the next failure is news again
            while not self._stop.is_set() and not self._lost.is_set():
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self._watch_interval)
                if not self._stop.is_set():  # a server that went away without a word fails this read
                    await asyncio.wait_for(node.read_browse_name(), self._timeout)
            if self._lost.is_set() and not self._stop.is_set():
                raise ConnectionError("the server ended the subscription")
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.disconnect(), self._timeout)

    def _value(self, value: Any, status=None) -> None:
        try:
            if status is not None and not status.is_good():
                raise UnreadableCoil(f"the server marks it {status.name}")
            coil = coil_text(value)
        except UnreadableCoil as why:
            with self._lock:
                self._values += 1
                self._ignored += 1
            log.warning("%s: ignored a coil value: %s", self.name, why)
            return
        with self._lock:
            self._values += 1
            changed = coil != self._coil or not self._have_value.is_set()
            if changed:
                self._changes += 1
        if changed:
            try:
                self._on_coil(coil)  # before the id is shown as read: whoever waits for it finds it applied
            except Exception:
                log.exception("%s: applying coil %r failed", self.name, coil)
            with self._lock:
                self._coil = coil
        self._have_value.set()

    def _failed(self, error: BaseException) -> None:
        message = f"{self.name}: {error}" if isinstance(error, GraceError) else f"{self.name}: {_describe(error)}"
        with self._lock:
            self._errors += 1
            self._last_error = message
            first, self._logged = self._logged != message, message
        if self._on_error is None:
            if first:
                log.warning("coil reader: %s (retrying)", message)
            return
        try:
            self._on_error(message)
        except Exception:
            log.exception("%s: on_error failed", self.name)


def _close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what the client left running (its watchdogs) and close the loop."""
    try:
        tasks = asyncio.all_tasks(loop)
        for task in tasks:
            task.cancel()
        if tasks:
            loop.run_until_complete(asyncio.wait(tasks, timeout=2.0))
    finally:
        loop.close()


def _describe(error: BaseException) -> str:
    if isinstance(error, (TimeoutError, asyncio.TimeoutError)):
        return "the OPC UA server did not answer in time"
    if isinstance(error, OSError):
        return f"cannot reach the OPC UA server ({error}); is it running, is the address right?"
    return f"{type(error).__name__}: {error}"
