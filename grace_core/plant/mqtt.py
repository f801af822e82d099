"""What every MQTT connection to the plant shares: the URL, the credentials and a paho client made from them.

``mqtt://[user:password@]host[:port]/topic`` (port 1883) or ``mqtts://…`` (TLS, port 8883). Characters such as
``@ / ? #`` in a user name or password must be percent-encoded (``%40``…). Credentials not in the URL come from
``GRACE_MQTT_USERNAME`` / ``GRACE_MQTT_PASSWORD`` (as anomalib Studio's MQTT sink reads them), so a service file
or a shared command line need not hold a password. An endpoint's ``name`` is its URL with the password replaced by
``***``: the only form of the URL that goes into logs, messages, statistics and records.
"""

from __future__ import annotations

import os
import ssl
import threading
import uuid
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt  # at import: open_sink / open_coil_reader name it when it is missing

from grace_core.errors import GraceError
from grace_core.sources.stream import redact_url

USERNAME_ENV = "GRACE_MQTT_USERNAME"
PASSWORD_ENV = "GRACE_MQTT_PASSWORD"
DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}
USAGE = "mqtt://[user:password@]host[:port]/topic (or mqtts:// for TLS)"


@dataclass(frozen=True)
class MqttEndpoint:
    """A broker and a topic. ``password`` is never shown (``repr``) and never part of ``name``."""

    name: str  # the URL without its password
    host: str
    port: int
    topic: str
    tls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_certs: str | None = None  # TLS: a CA bundle instead of the system's
    certfile: str | None = None  # TLS: a client certificate (and ``keyfile``) where the broker asks for one
    keyfile: str | None = None


def parse_mqtt_url(
    url: str,
    *,
    username: str | None = None,
    password: str | None = None,
    wildcards: bool = False,
    ca_certs: str | None = None,
    certfile: str | None = None,
    keyfile: str | None = None,
) -> MqttEndpoint:
    """The endpoint ``url`` names. ``username`` / ``password`` override the URL's, which override the environment's.
    ``wildcards``: whether the topic may hold ``+`` / ``#`` (subscribing; a published topic may not). Raises
    :class:`GraceError` naming the (redacted) URL and what to change."""
    text = str(url).strip()
    name = redact_url(text)
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not text.lower().startswith(f"{scheme}://"):
        raise GraceError(f"{name}: not an MQTT URL; use {USAGE}")
    if parts.query or parts.fragment or text.endswith(("?", "#")):
        raise GraceError(
            f"{name}: an MQTT URL takes no '?' or '#' part; percent-encode those characters in a password (%3F, %23), "
            f"or use {USAGE}"
        )
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        raise GraceError(f"{name}: the port must be a number from 1 to 65535; use {USAGE}") from None
    if not parts.hostname:
        raise GraceError(f"{name}: no broker host; use {USAGE}")
    topic = unquote(parts.path).strip("/")
    if not wildcards and any(c in topic for c in "+#"):
        raise GraceError(f"{name}: the topic {topic!r} holds a wildcard (+ or #), which cannot be published to")
    user = username or (unquote(parts.username) if parts.username else None) or os.environ.get(USERNAME_ENV) or None
    secret = password or (unquote(parts.password) if parts.password else None) or os.environ.get(PASSWORD_ENV) or None
    if secret and not user:
        raise GraceError(f"{name}: a password needs a user name (in the URL or {USERNAME_ENV})")
    return MqttEndpoint(name, parts.hostname, port, topic, scheme == "mqtts", user, secret, ca_certs, certfile, keyfile)


def new_client(endpoint: MqttEndpoint, client_id: str | None = None, reconnect: bool = False):
    """A paho client (MQTT 3.1.1, clean session) set up for ``endpoint``'s credentials and TLS, not yet connected.
    ``reconnect``: paho reconnects by itself after a loss (a subscriber); publishers reconnect themselves."""
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id or f"grace-{uuid.uuid4().hex[:12]}",
        protocol=mqtt.MQTTv311,
        reconnect_on_failure=reconnect,
    )
    if endpoint.username:
        client.username_pw_set(endpoint.username, endpoint.password)
    if endpoint.tls:
        context = ssl.create_default_context(cafile=endpoint.ca_certs)
        if endpoint.certfile:
            context.load_cert_chain(endpoint.certfile, endpoint.keyfile)
        client.tls_set_context(context)
    return client


def connect(client, endpoint: MqttEndpoint, keepalive: int = 30, timeout: float = 10.0) -> None:
    """Connect ``client`` and start its network thread; returns once the broker accepted the connection.

    Raises ConnectionError (broker unreachable or refusing: transient, worth retrying), TimeoutError (no answer):
    the messages say where and what to check, never the password."""
    accepted = threading.Event()
    answer: list = []

    def on_connect(_client, _userdata, _flags, reason_code, _properties) -> None:
        answer.append(reason_code)
        accepted.set()

    client.on_connect = on_connect
    client.connect_timeout = timeout
    where = f"{endpoint.host}:{endpoint.port}"
    try:
        client.connect(endpoint.host, endpoint.port, keepalive=keepalive)
    except OSError as error:  # refused, unreachable, timed out, a name not resolved, a TLS handshake that failed
        raise ConnectionError(
            f"cannot reach the MQTT broker at {where} ({error}); is it running, is the address right?"
        ) from error
    client.loop_start()
    if not accepted.wait(timeout):
        stop(client)
        raise TimeoutError(f"the MQTT broker at {where} did not answer within {timeout:g} s")
    reason = answer[0]
    if reason.is_failure:
        stop(client)
        raise ConnectionRefusedError(
            f"the MQTT broker at {where} refused the connection: {reason} (check the user name and password: in "
            f"the URL or {USERNAME_ENV} / {PASSWORD_ENV})"
        )


def stop(client) -> None:
    """Disconnect cleanly (no last will) and stop the client's network thread."""
    try:
        client.disconnect()
    finally:
        client.loop_stop()
