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
from collections.abc import Callable
from typing import Any, Protocol

from grace_core.errors import GraceError

CoilCallback = Callable[[str | None], None]


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
