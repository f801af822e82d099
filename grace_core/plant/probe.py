"""The "Test connection" of a station's plant settings: try the review store, a sink or the coil source for real,
briefly, and say in one line what was found — without creating a store, publishing a message or starting a server.

Each probe blocks for at most about ``timeout`` seconds (run it off a GUI thread) and never raises for what it finds:
a :class:`Probe` says whether it worked and what to check. A URL that does not parse fails the probe with the
parser's own message (:func:`~grace_core.sinks.check_sink`, :func:`~grace_core.plant.check_coil_url`,
:func:`~grace_core.store.parse_location`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from grace_core.errors import GraceError

TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Probe:
    """What was tried (``what``: the field and its value, passwords hidden), whether it worked, and what was found
    or what is wrong."""

    what: str
    ok: bool
    message: str

    def describe(self) -> str:
        return f"{'OK' if self.ok else 'FAILED'} — {self.what}: {self.message}"


def probe_store(where: str) -> Probe:
    """Open the review store at ``where`` (a folder, ``sqlite:///…``, ``postgresql://…``; empty: today's local one)
    read-only and count its frames; a place with no store yet is fine if one can be created there."""
    from grace_core.store import NoStoreError, ReviewStore, StoreError, parse_location
    from grace_core.store.review_store import default_root

    try:
        location = parse_location(where.strip() or None, default_root())
    except StoreError as error:
        return Probe(f"review store {where}", False, str(error))
    what = f"review store {location.display()}"
    try:
        with ReviewStore.open_existing(location) as store:
            frames, stations = store.count(), store.facets().stations
    except NoStoreError as error:
        if error.found_file:
            return Probe(what, False, str(error))
        if location.is_central:
            return Probe(what, True, "server reachable; no review store in this database yet: the first station to "
                                     "save a flagged frame creates it (its user needs CREATE there)")  # fmt: skip
        return _creatable(what, location.path)
    except (GraceError, OSError) as error:
        return Probe(what, False, str(error))
    kind = "central store reachable" if location.is_central else "local store"
    named = f" from {', '.join(stations)}" if stations else ""
    return Probe(what, True, f"{kind}: {frames} flagged frames{named}")


def _creatable(what: str, folder: Path | None) -> Probe:
    """A local store that is not there yet: can the live tab create it?"""
    parent = folder
    while parent is not None and not parent.exists():
        parent = parent.parent if parent.parent != parent else None
    if parent is None or not parent.is_dir() or not os.access(parent, os.W_OK):
        return Probe(what, False, f"no store there, and {parent or folder} is not a folder this user can write to")
    return Probe(what, True, "no store there yet; the live tab creates it with its first flagged frame")


def probe_sink(spec: str, timeout: float = TIMEOUT_S) -> Probe:
    """MQTT: connect to the broker with the URL's credentials (nothing is published); OPC UA: whether the port can
    be served; files: whether the folder can be written; a store: :func:`probe_store`."""
    from grace_core.sinks.registry import check_sink, resolve_sink
    from grace_core.sources.stream import redact_url

    what = f"sink {redact_url(str(spec).strip())}"
    try:
        scheme = check_sink(spec)
        _, rest = resolve_sink(spec)
        if scheme in ("mqtt", "mqtts"):
            return Probe(what, True, _connect_mqtt(rest, timeout))
        if scheme in ("opcua", "opc.tcp"):
            from grace_core.sinks.opcua import check_port_free, parse_endpoint

            endpoint = parse_endpoint(rest)
            check_port_free(endpoint)
            return Probe(what, True, f"port {endpoint.port} is free: clients will connect to {endpoint.url}")
        if scheme == "store":
            found = probe_store(rest)
            return Probe(what, found.ok, found.message)
    except (GraceError, OSError) as error:
        return Probe(what, False, str(error))
    return _writable(what, Path(rest).expanduser(), folder=scheme == "images")


def _connect_mqtt(url: str, timeout: float) -> str:
    from grace_core.plant.mqtt import connect, new_client, parse_mqtt_url, stop

    endpoint = parse_mqtt_url(url)
    client = new_client(endpoint)
    connect(client, endpoint, timeout=timeout)  # raises ConnectionError / TimeoutError with what to check
    stop(client)
    prefix = endpoint.topic or "grace"
    return f"connected to the broker at {endpoint.host}:{endpoint.port}; events go to {prefix}/events"


def _writable(what: str, path: Path, folder: bool) -> Probe:
    target = path if folder else path.parent
    existing = target
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK):
        return Probe(what, False, f"{existing} is not a folder this user can write to")
    if not path.is_absolute():
        return Probe(what, True, f"writable, but relative to the folder the app starts in ({Path.cwd()}): "
                                 "an absolute path is safer")  # fmt: skip
    return Probe(what, True, f"{target} can be written")


def probe_coil(url: str, timeout: float = TIMEOUT_S) -> Probe:
    """Follow the coil source for up to ``timeout`` seconds: connected, and the coil on the line now if one came."""
    from grace_core.plant import check_coil_url, open_coil_reader
    from grace_core.sources.stream import redact_url

    what = f"coil from {redact_url(str(url).strip())}"
    try:
        check_coil_url(url)
        reader = open_coil_reader(url, lambda coil: None)
    except (GraceError, OSError) as error:
        return Probe(what, False, str(error))
    try:
        got = reader.wait_for_coil(timeout)
        stats = reader.stats()
    finally:
        reader.close()
    if got:
        return Probe(what, True, f"connected; the coil on the line now is {stats.coil or '(none)'}")
    if stats.connected:
        return Probe(what, True, f"connected, but no coil id came within {timeout:g} s (the level-2 system should "
                                 "publish it retained, or the node has no value yet)")  # fmt: skip
    return Probe(what, False, f"cannot connect: {stats.last_error or f'no answer within {timeout:g} s'}")
