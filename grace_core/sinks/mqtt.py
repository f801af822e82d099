"""The MQTT sink: defect events and the station's status to the plant's broker (``mqtt://host:port/topic/prefix``).

Two kinds of message, JSON, QoS 1, on topics under the URL's path (the *prefix*, ``grace`` if the URL has none):

* ``<prefix>/events`` — one per defect event, sent once, when the event closes: the event's fields
  (:meth:`~grace_core.events.DefectEvent.to_record`), the station, coil, source, model id and ``time`` (when the
  defect was first seen, ISO-8601 UTC);
* ``<prefix>/status`` — retained, so a dashboard that connects later sees it at once: ``state`` (running,
  stopped; ``offline`` is the connection's last will, sent by the broker if the station vanishes), frames inspected,
  events per class, model, coil, time. Sent with the first record, then at most every ``status_interval``
  seconds, and at close.

Messages are made on the caller's thread (cheap) and published by a
:class:`~grace_core.sinks.background.BackgroundWorker`: it connects lazily, waits for the broker's acknowledgement
of each message (so a lost connection loses nothing: the message is sent again), and treats a broker outage as
transient — messages wait in the bounded queue (``max_pending``) while it reconnects with backoff, and beyond the
bound they are dropped and counted. Inspection never waits for the broker.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import paho.mqtt.client as mqtt

from grace_core.events import DefectEvent
from grace_core.plant.mqtt import MqttEndpoint, connect, new_client, parse_mqtt_url, stop
from grace_core.sinks.background import BackgroundWorker
from grace_core.sinks.base import InspectionRecord, SinkStats

DEFAULT_PREFIX = "grace"
EVENTS, STATUS = "events", "status"
Message = tuple[str, str, dict, bool]  # (kind, topic, payload, retain)


def iso_utc(seconds: float) -> str:
    """``time.time()`` as ISO-8601 UTC, to the millisecond: ``2026-11-24T06:00:00.123+00:00``."""
    return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat(timespec="milliseconds")


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, (tuple, set, frozenset)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class MqttPublisher(BackgroundWorker[Message]):
    """Publishes messages in order, one at a time, each confirmed by the broker (QoS 1) before the next."""

    def __init__(
        self,
        endpoint: MqttEndpoint,
        *,
        qos: int = 1,
        client_id: str | None = None,
        keepalive: int = 30,
        timeout: float = 10.0,
        will: Callable[[], tuple[str, dict] | None] | None = None,
        **worker_options: Any,
    ) -> None:
        """``will()``: the (topic, payload) the broker publishes, retained, if the connection dies; asked at each
        connection, so it can carry the latest station name."""
        if qos not in (0, 1, 2):
            raise ValueError(f"{endpoint.name}: qos must be 0, 1 or 2, got {qos}")
        super().__init__(endpoint.name, **worker_options)
        self.endpoint, self.qos, self.client_id = endpoint, qos, client_id
        self.keepalive, self.timeout, self._will = keepalive, timeout, will
        self.published: Counter[str] = Counter()  # by kind
        self.start()

    def is_connected(self) -> bool:
        client = self._connection
        return client is not None and client.is_connected()

    def published_counts(self) -> dict[str, int]:
        """Messages the broker confirmed, by kind (events, status)."""
        with self._lock:
            return dict(self.published)

    def _connect(self):
        client = new_client(self.endpoint, self.client_id)
        will = self._will() if self._will is not None else None
        if will is not None:
            client.will_set(will[0], encode(will[1]), qos=self.qos, retain=True)
        connect(client, self.endpoint, self.keepalive, self.timeout)
        return client

    def _deliver(self, client, message: Message) -> None:
        _, topic, payload, retain = message
        data = encode(payload)  # a payload that cannot be encoded is a bug, not an outage: not transient
        if not client.is_connected():
            raise ConnectionError("the connection to the MQTT broker was lost")
        info = client.publish(topic, data, qos=self.qos, retain=retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise ConnectionError(f"publishing to the MQTT broker failed: {mqtt.error_string(info.rc)}")
        deadline = time.monotonic() + self.timeout
        while not info.is_published():
            if not client.is_connected():
                raise ConnectionError("the connection to the MQTT broker was lost before it confirmed a message")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the MQTT broker did not confirm a message within {self.timeout:g} s")
            info.wait_for_publish(0.05)

    def _disconnect(self, client) -> None:
        stop(client)

    def _transient(self, exc: BaseException) -> bool:
        return isinstance(exc, OSError)  # unreachable, refused, timed out, a name that did not resolve: all may pass

    def _delivered_one(self, message: Message) -> None:
        with self._lock:
            self.published[message[0]] += 1


def encode(payload: dict) -> bytes:
    return json.dumps(payload, default=_jsonable, separators=(",", ":")).encode("utf-8")


class MqttSink:
    """See the module doc. ``spec``: ``mqtt://[user:password@]host[:port]/topic/prefix`` or ``mqtts://…``.

    Options: ``status_interval`` (s), ``qos``, ``max_pending`` (messages waiting during an outage), ``client_id``,
    ``keepalive`` and ``timeout`` (s), ``username`` / ``password`` (else the URL's, else ``GRACE_MQTT_USERNAME`` /
    ``GRACE_MQTT_PASSWORD``), ``ca_certs`` / ``certfile`` / ``keyfile`` (TLS), ``retry_initial`` / ``retry_max``
    (reconnect backoff, s), ``on_error``. ``wait_when_full`` is accepted and ignored: a broker is never waited for,
    not even by an offline run."""

    def __init__(
        self,
        spec: str,
        *,
        status_interval: float = 5.0,
        qos: int = 1,
        max_pending: int = 1000,
        client_id: str | None = None,
        keepalive: int = 30,
        timeout: float = 10.0,
        username: str | None = None,
        password: str | None = None,
        ca_certs: str | None = None,
        certfile: str | None = None,
        keyfile: str | None = None,
        retry_initial: float = 0.5,
        retry_max: float = 10.0,
        on_error: Callable[[BaseException], None] | None = None,
        wait_when_full: bool = False,
    ) -> None:
        endpoint = parse_mqtt_url(
            spec, username=username, password=password, ca_certs=ca_certs, certfile=certfile, keyfile=keyfile
        )
        self.name = endpoint.name
        prefix = endpoint.topic or DEFAULT_PREFIX
        self.events_topic, self.status_topic = f"{prefix}/{EVENTS}", f"{prefix}/{STATUS}"
        self.status_interval = status_interval
        self._lock = threading.Lock()
        self._frames = 0
        self._events: Counter[str] = Counter()
        self._last: InspectionRecord | None = None
        self._last_status = float("-inf")
        self._started: float | None = None
        self._closed = False
        self._publisher = MqttPublisher(
            endpoint,
            qos=qos,
            client_id=client_id,
            keepalive=keepalive,
            timeout=timeout,
            will=self._will,
            max_pending=max_pending,
            on_error=on_error,
            retry_initial=retry_initial,
            retry_max=retry_max,
        )

    def submit(self, record: InspectionRecord) -> bool:
        """Queue the record's closed events and, when due, a status; never waits. False if a message was dropped."""
        messages: list[Message] = []
        with self._lock:
            self._last = record
            if self._started is None:
                self._started = record.time
            if record.result is not None:
                self._frames += 1
            for event in record.events.closed:
                self._events[event.class_name] += 1
                messages.append((EVENTS, self.events_topic, event_message(event, record), False))
            now = time.monotonic()
            if now - self._last_status >= self.status_interval:
                self._last_status = now
                messages.append((STATUS, self.status_topic, self._status("running"), True))
        return all([self._publisher.submit(message) for message in messages])  # a list: submit every one

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every queued message is confirmed by the broker (or given up)."""
        return self._publisher.flush(timeout)

    def stats(self) -> SinkStats:
        d = self._publisher.delivery_stats()
        published = self._publisher.published_counts()
        detail = {
            "events_published": published.get(EVENTS, 0),
            "status_published": published.get(STATUS, 0),
            "drop_reasons": d.drop_reasons,
            "retries": d.retries,
        }
        connected = self._publisher.is_connected()
        return SinkStats(self.name, d.delivered, d.dropped, d.errors, d.pending, connected, d.last_error, detail)

    def close(self, timeout: float = 10.0) -> bool:
        """Publish the final status (``stopped``), deliver what is pending within ``timeout``, disconnect. A sink
        that saw no record has no status to tell (not even the station's name) and closes at once."""
        with self._lock:
            status = self._status("stopped") if not self._closed and self._last is not None else None
            self._closed = True
        if status is not None:
            self._publisher.submit((STATUS, self.status_topic, status, True))
        return self._publisher.close(timeout)

    def __enter__(self) -> MqttSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- messages (under the lock) ------------------------------------------------------------------------------

    def _status(self, state: str) -> dict:
        record = self._last
        context = record.context if record is not None else None
        names = list(getattr(record.model, "class_names", ()) or ()) if record is not None else []
        per_class = {name: self._events.get(name, 0) for name in names} | dict(self._events)
        return {
            "station": context.station if context else None,
            "state": state,
            "frames": self._frames,
            "events": sum(self._events.values()),
            "events_per_class": per_class,
            "model": model_id(record.model) if record is not None else None,
            "coil": context.coil if context else None,
            "source": context.source if context else None,
            "started": iso_utc(self._started) if self._started is not None else None,
            "time": iso_utc(time.time()),
            "dropped": self._publisher.delivery_stats().dropped,
        }

    def _will(self) -> tuple[str, dict]:
        """The retained status the broker publishes if this station's connection dies without a goodbye."""
        with self._lock:
            context = self._last.context if self._last is not None else None
        return self.status_topic, {"station": context.station if context else None, "state": "offline"}


def model_id(model: Any) -> str | None:
    return getattr(model, "model_id", None)


def event_message(event: DefectEvent, record: InspectionRecord) -> dict:
    """One event's message: its fields, where it was seen (station, coil, source), by which model, and when."""
    context = record.context
    return {
        **event.to_record(),
        "station": context.station,
        "coil": event.coil or context.coil,  # the coil on the line when the defect was seen
        "source": context.source,
        "model": model_id(record.model),
        "time": iso_utc(event.first_seen),
    }
