"""``open_sink(spec)``: a sink from a URL-like spec, as ``open_source`` makes a source.

| spec | sink |
|---|---|
| `jsonl:PATH` (or a path ending `.jsonl`) | one JSON line per frame (:class:`~grace_core.sinks.files.JsonlSink`) |
| `csv:PATH` (or `.csv`) | one row per shown detection |
| `events:PATH` | one JSON line per defect event |
| `images:FOLDER` | an annotated image per frame |
| `video:PATH` (or `.avi`) | the annotated frames as a video |
| `store:FOLDER` | the review store: each event's best frame |
| `mqtt://host:port/topic` | a message per defect event and a periodic status, to an MQTT broker |
| `opcua://host:port` | an OPC UA server with the station's state, counters and events |

A plug-in adds a scheme with :func:`register_sink`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from grace_core.errors import GraceError
from grace_core.sinks.base import Sink

SinkFactory = Callable[..., Sink]
_FACTORIES: dict[str, SinkFactory] = {}
_SUFFIXES = {".jsonl": "jsonl", ".csv": "csv", ".avi": "video"}
_URL_SCHEMES = ("mqtt", "mqtts", "opcua", "opc.tcp")  # their factories take the whole URL
_EXAMPLES = {"jsonl": "detections.jsonl", "csv": "detections.csv", "events": "events.jsonl", "images": "annotated",
             "video": "annotated.avi"}  # fmt: skip
_FILE_SCHEMES = tuple(_EXAMPLES)


def register_sink(scheme: str, factory: SinkFactory) -> None:
    """Make ``scheme:…`` specs open ``factory(rest, **options)``."""
    _FACTORIES[scheme.lower()] = factory


def sink_schemes() -> tuple[str, ...]:
    _register_builtins()
    return tuple(sorted(_FACTORIES))


def open_sink(spec: str, **options: Any) -> Sink:
    """The sink ``spec`` names; ``options`` go to its factory (e.g. ``wait_when_full=True`` for file sinks of an
    offline run). Raises :class:`GraceError` naming the spec for anything unknown."""
    scheme, rest = resolve_sink(spec)
    return _FACTORIES[scheme](rest, **options)


def resolve_sink(spec: str) -> tuple[str, str]:
    """(scheme, what its factory is given) for ``spec``, without opening anything; :class:`GraceError` if no sink
    takes it."""
    _register_builtins()
    text = str(spec).strip()
    scheme, sep, rest = text.partition(":")
    scheme = scheme.lower()
    if scheme in _URL_SCHEMES:
        rest = text  # the whole URL
    elif not sep or scheme not in _FACTORIES or len(scheme) == 1:  # "C:\\…" is a drive, not a scheme
        kind = _SUFFIXES.get(Path(text).suffix.lower())
        if kind is None:
            raise GraceError(f"unknown sink {text!r}: use one of {', '.join(f'{s}:…' for s in sink_schemes())}")
        scheme, rest = kind, text
    if scheme not in _FACTORIES:
        raise GraceError(f"unknown sink {text!r}: use one of {', '.join(f'{s}:…' for s in sink_schemes())}")
    return scheme, rest


def check_sink(spec: str) -> str:
    """Check ``spec`` as :func:`open_sink` would read it, without opening anything (no file, server or connection):
    the scheme, the URL's parts (MQTT broker and topic, OPC UA port), a file's path, a store's location. Returns
    the scheme; raises :class:`GraceError` saying what is wrong (a settings form shows it beside the field)."""
    scheme, rest = resolve_sink(spec)
    if scheme in ("mqtt", "mqtts"):
        from grace_core.plant.mqtt import parse_mqtt_url

        parse_mqtt_url(rest)
    elif scheme in ("opcua", "opc.tcp"):
        from grace_core.sinks.opcua import parse_endpoint

        parse_endpoint(rest)
    elif scheme == "store":
        from grace_core.store.location import parse_location
        from grace_core.store.review_store import default_root

        if not rest.strip():
            raise GraceError(f"{spec}: no store after 'store:'; e.g. store:postgresql://inspect@qa-db:5432/grace")
        try:
            parse_location(rest, default_root())
        except GraceError as error:
            raise GraceError(f"{spec}: {error}") from error
    elif scheme in _FILE_SCHEMES and not rest.strip():
        raise GraceError(f"{spec}: no file or folder after '{scheme}:'; e.g. {scheme}:/data/line1/{_EXAMPLES[scheme]}")
    return scheme


def _register_builtins() -> None:
    if _FACTORIES:
        return
    from grace_core.sinks import files
    from grace_core.sinks.store import StoreSink

    register_sink("jsonl", files.JsonlSink)
    register_sink("csv", files.CsvSink)
    register_sink("events", files.EventsSink)
    register_sink("images", files.ImagesSink)
    register_sink("video", files.VideoSink)
    register_sink("store", lambda root, **options: StoreSink.at(root, **_store_options(options)))
    register_sink("mqtt", _lazy("grace_core.sinks.mqtt", "MqttSink"))
    register_sink("mqtts", _lazy("grace_core.sinks.mqtt", "MqttSink"))
    register_sink("opcua", _lazy("grace_core.sinks.opcua", "OpcUaSink"))
    register_sink("opc.tcp", _lazy("grace_core.sinks.opcua", "OpcUaSink"))


def _store_options(options: dict) -> dict:
    return {k: v for k, v in options.items() if k in ("max_pending", "enforce_quota", "on_error")}


def _lazy(module: str, name: str) -> SinkFactory:
    """A factory importing its sink only when used (its client library may not be installed)."""

    def factory(spec: str, **options: Any) -> Sink:
        import importlib

        try:
            sink_class = getattr(importlib.import_module(module), name)
        except ImportError as error:
            raise GraceError(f"{spec}: this sink needs a library that is not installed ({error.name})") from error
        return sink_class(spec, **options)

    return factory
