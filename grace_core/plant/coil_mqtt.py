"""The coil id from an MQTT topic of the line's level-2 system (``mqtt://host:port/plant/line1/coil``).

The payload is the coil id as plain text (``C4711``) or JSON: ``{"coil": "C4711"}`` (``{"coil": null}``: no coil on
the line) or a JSON string. An empty payload (the way MQTT clears a retained message) or one that cannot be read is
ignored and counted: a garbled message must not rename the coil under inspection. The level-2 system should publish
it retained, so a station that starts (or reconnects) mid-coil learns the current coil at once.

paho's network thread keeps the subscription: it reconnects with backoff after an outage and subscribes again.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from typing import Any

from grace_core.errors import GraceError
from grace_core.plant import CoilCallback
from grace_core.plant.mqtt import new_client, parse_mqtt_url

log = logging.getLogger(__name__)
MAX_COIL_LENGTH = 200
_UNSET = object()


class UnreadableCoil(ValueError):
    pass


def parse_coil(payload: bytes) -> str | None:
    """The coil id in a message: plain text, a JSON string, or JSON ``{"coil": …}``. Raises UnreadableCoil."""
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise UnreadableCoil("not UTF-8 text") from None
    if not text:
        raise UnreadableCoil("empty")
    if text[0] in '{"':
        try:
            value = json.loads(text)
        except ValueError:
            raise UnreadableCoil(f"not valid JSON: {text[:60]!r}") from None
        if isinstance(value, dict):
            if "coil" not in value:
                raise UnreadableCoil(f'JSON without a "coil" key: {text[:60]!r}')
            value = value["coil"]
        if value is None:
            return None
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise UnreadableCoil(f"a coil id must be text, got {text[:60]!r}")
        text = str(value).strip()
    if len(text) > MAX_COIL_LENGTH or any(c in text for c in "\r\n"):
        raise UnreadableCoil(f"not a coil id: {text[:60]!r}")
    return text or None


@dataclass(frozen=True)
class CoilReaderStats:
    name: str
    connected: bool
    coil: str | None
    messages: int  # coil messages read
    ignored: int  # messages that could not be read
    changes: int  # times on_coil was called
    last_error: str | None


class MqttCoilReader:
    """Subscribes to ``url``'s topic (QoS 1) and calls ``on_coil(coil_id)`` from paho's thread when the id changes.

    Starts at once and keeps trying while the broker is away. Options: ``client_id``, ``keepalive`` (s),
    ``username`` / ``password`` (else the URL's, else ``GRACE_MQTT_USERNAME`` / ``GRACE_MQTT_PASSWORD``),
    ``ca_certs`` / ``certfile`` / ``keyfile`` (TLS), ``reconnect_min`` / ``reconnect_max`` (backoff, s)."""

    def __init__(
        self,
        url: str,
        on_coil: CoilCallback,
        *,
        client_id: str | None = None,
        keepalive: int = 30,
        username: str | None = None,
        password: str | None = None,
        ca_certs: str | None = None,
        certfile: str | None = None,
        keyfile: str | None = None,
        reconnect_min: float = 0.5,
        reconnect_max: float = 10.0,
    ) -> None:
        self.endpoint = parse_mqtt_url(
            url,
            username=username,
            password=password,
            wildcards=True,
            ca_certs=ca_certs,
            certfile=certfile,
            keyfile=keyfile,
        )
        self.name = self.endpoint.name
        if not self.endpoint.topic:
            raise GraceError(f"{self.name}: no topic to read the coil id from; use mqtt://host:port/TOPIC")
        self.on_coil = on_coil
        self._lock = threading.Lock()
        self._coil: Any = _UNSET
        self._first = threading.Event()
        self._messages = self._ignored = self._changes = 0
        self._last_error: str | None = None
        self._connected = False
        client = new_client(self.endpoint, client_id, reconnect=True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_connect_fail = self._on_connect_fail
        client.on_message = self._on_message
        client.reconnect_delay_set(reconnect_min, reconnect_max)  # type: ignore[arg-type]  (seconds; paho hints int)
        client.connect_async(self.endpoint.host, self.endpoint.port, keepalive=keepalive)
        self._client = client
        client.loop_start()

    @property
    def coil(self) -> str | None:
        with self._lock:
            return None if self._coil is _UNSET else self._coil

    def wait_for_coil(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the first coil id (e.g. the retained one); True if it came."""
        return self._first.wait(timeout)

    def stats(self) -> CoilReaderStats:
        with self._lock:
            coil = None if self._coil is _UNSET else self._coil
            return CoilReaderStats(
                self.name, self._connected, coil, self._messages, self._ignored, self._changes, self._last_error
            )

    def close(self, timeout: float = 5.0) -> bool:
        """Stop reading: disconnect and stop paho's network thread (it ends within its one-second poll, so
        ``timeout`` is not needed to bound it; it is there for the :class:`~grace_core.plant.CoilReader` shape)."""
        try:
            self._client.disconnect()
        finally:
            self._client.loop_stop()
        return True

    def __enter__(self) -> MqttCoilReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- paho's thread ------------------------------------------------------------------------------------------

    def _on_connect(self, client, _userdata, _flags, reason_code, _properties) -> None:
        if reason_code.is_failure:
            self._error(f"the MQTT broker refused the connection: {reason_code} (check the user name and password)")
            return
        with self._lock:
            self._connected = True
        client.subscribe(self.endpoint.topic, qos=1)  # again after every reconnect: the session is clean

    def _on_disconnect(self, _client, _userdata, _flags, reason_code, _properties) -> None:
        with self._lock:
            was, self._connected = self._connected, False
        if was and reason_code.is_failure:
            log.warning("%s: lost the connection to the MQTT broker (%s); reconnecting", self.name, reason_code)

    def _on_connect_fail(self, _client, _userdata) -> None:
        self._error(f"cannot reach the MQTT broker at {self.endpoint.host}:{self.endpoint.port}; retrying")

    def _on_message(self, _client, _userdata, message) -> None:
        try:
            coil = parse_coil(message.payload)
        except UnreadableCoil as why:
            with self._lock:
                self._messages += 1
                self._ignored += 1
            log.warning("%s: ignored a coil message on %s: %s", self.name, message.topic, why)
            return
        with self._lock:
            self._messages += 1
            changed = coil != self._coil
            if changed:
                self._changes += 1
        if changed:
            try:
                self.on_coil(coil)  # before the id is shown as read: whoever waits for it finds it applied
            except Exception:
                log.exception("%s: applying coil %r failed", self.name, coil)
            with self._lock:
                self._coil = coil
        self._first.set()

    def _error(self, message: str) -> None:
        with self._lock:
            first = self._last_error != message
            self._last_error = message
        if first:  # once per kind of failure, not once per retry
            log.warning("%s: %s", self.name, message)
