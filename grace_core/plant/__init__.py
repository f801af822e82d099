"""Inputs from the plant: what the line's level-2 system knows that inspection needs (which coil is on the line).

A :class:`CoilReader` follows the coil id that the plant publishes and calls ``on_coil(coil_id)`` — from its own
thread — whenever it changes; :meth:`~grace_core.inspection.InspectionSession.set_coil` is made to be that callback.
``open_coil_reader(url, on_coil)`` makes one from a URL, as ``open_sink`` makes an output:

| url | reader |
|---|---|
| `mqtt://host:port/topic` (`mqtts://` with TLS) | the coil id as published on an MQTT topic (:mod:`.coil_mqtt`) |
| `opc.tcp://host:port/ns=2;s=Line1.CoilId` | the value of an OPC UA node (:mod:`.coil_opcua`) |

A plug-in adds a scheme with :func:`register_coil_reader`. Each reader's client library is imported only when a URL
of its scheme is opened.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any, Protocol

from grace_core.errors import GraceError

log = logging.getLogger(__name__)

CoilCallback = Callable[[str | None], None]
COIL_WAIT_S = 3.0  # how long inspection waits at its start for the plant's current coil id


class CoilReader(Protocol):
    """Follows the plant's coil id. ``coil``: the last one read (None before any); ``wait_for_coil`` waits up to
    ``timeout`` seconds for the first (so inspection starts on the right coil), True if one came; ``stats()`` the
    reader's counters; ``close`` stops reading, False if its thread is still running after ``timeout``."""

    name: str

    @property
    def coil(self) -> str | None: ...

    def wait_for_coil(self, timeout: float) -> bool: ...

    def stats(self) -> Any: ...

    def close(self, timeout: float = 5.0) -> bool: ...


CoilReaderFactory = Callable[..., CoilReader]
_FACTORIES: dict[str, CoilReaderFactory] = {}
_MQTT = ("grace_core.plant.coil_mqtt", "MqttCoilReader")
_OPCUA = ("grace_core.plant.coil_opcua", "OpcUaCoilReader")
_BUILTIN = {"mqtt": _MQTT, "mqtts": _MQTT, "opc.tcp": _OPCUA, "opcua": _OPCUA}


def register_coil_reader(scheme: str, factory: CoilReaderFactory) -> None:
    """Make ``scheme://…`` URLs open ``factory(url, on_coil, **options)``."""
    _FACTORIES[scheme.lower()] = factory


def check_coil_url(url: str) -> str:
    """Check ``url`` as :func:`open_coil_reader` would read it, without connecting: the scheme, and the broker and
    topic (MQTT) or the server and node id (OPC UA). Returns the scheme; raises :class:`GraceError` saying what is
    wrong (a settings form shows it beside the field)."""
    from grace_core.sources.stream import redact_url

    text = str(url).strip()
    scheme = text.partition(":")[0].lower()
    if scheme in ("mqtt", "mqtts"):
        from grace_core.plant.mqtt import parse_mqtt_url

        if not parse_mqtt_url(text, wildcards=True).topic:
            raise GraceError(f"{redact_url(text)}: no topic to read the coil id from; use mqtt://host:port/TOPIC")
    elif scheme in ("opc.tcp", "opcua"):
        from grace_core.plant.coil_opcua import parse_node_url

        parse_node_url(text)
    elif scheme not in _FACTORIES:
        known = ", ".join(f"{s}://…" for s in sorted({*_BUILTIN, *_FACTORIES}))
        raise GraceError(f"{redact_url(text)}: cannot read a coil id from there; use {known}")
    return scheme


def follow_coil(url: str, on_coil: CoilCallback, wait_s: float = COIL_WAIT_S, **options: Any) -> CoilReader:
    """A reader of the plant's coil id at ``url`` (``grace detect --coil-from``, the app's plant settings), having
    waited up to ``wait_s`` for the current one — the level-2 system's retained message or the node's value — so
    that the first frames already carry it. A coil that does not come in time is logged, not an error: inspection
    starts with the coil it has, and the reader goes on trying."""
    reader = open_coil_reader(url, on_coil, **options)
    if wait_s > 0 and not reader.wait_for_coil(wait_s):
        log.warning("%s: no coil id within %g s; events carry the coil set before until one arrives", reader.name,
                    wait_s)  # fmt: skip
    return reader


def open_coil_reader(url: str, on_coil: CoilCallback, **options: Any) -> CoilReader:
    """A reader of the coil id at ``url``, calling ``on_coil`` on each change. Raises :class:`GraceError` for a URL
    no reader understands."""
    scheme = str(url).strip().partition(":")[0].lower()
    factory = _FACTORIES.get(scheme)
    if factory is None and scheme in _BUILTIN:
        module, name = _BUILTIN[scheme]
        try:
            factory = getattr(importlib.import_module(module), name)
        except ImportError as error:
            from grace_core.sources.stream import redact_url

            raise GraceError(
                f"{redact_url(str(url))}: reading the coil id from there needs a library that is not installed "
                f"({error.name})"
            ) from error
    if factory is None:
        from grace_core.sources.stream import redact_url

        known = ", ".join(f"{s}://…" for s in sorted({*_BUILTIN, *_FACTORIES}))
        raise GraceError(f"{redact_url(str(url))}: cannot read a coil id from there; use {known}")
    return factory(url, on_coil, **options)
