"""A real MQTT broker for tests: amqtt, started as a process on a free port of 127.0.0.1, recording every message
it receives (a small plug-in), so "each event arrived once, in order" is read from the broker itself, even across a
restart when no subscriber could be connected in time to see it; and a test-side paho client.

``broker`` (fixture) skips loudly where amqtt is not installed (``pip install -e '.[dev]'`` brings it).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

RECORDER = '''
import json
from dataclasses import dataclass

from amqtt.plugins.base import BasePlugin


class Recorder(BasePlugin):
    """Appends every message the broker receives to a JSON-lines file."""

    @dataclass
    class Config:
        path: str = ""

    async def on_broker_message_received(self, *, client_id, message):
        if message is None:
            return
        line = {"topic": message.topic, "payload": bytes(message.data).decode(), "retain": bool(message.retain)}
        with open(self.config.path, "a", encoding="utf-8") as file:
            file.write(json.dumps(line) + "\\n")
'''


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Broker:
    """An amqtt broker process on 127.0.0.1:``port``; ``stop`` kills it (an outage), ``start`` brings it back on the
    same port. ``users``: name → password (else anonymous clients are let in)."""

    def __init__(self, folder: Path, users: dict[str, str] | None = None) -> None:
        self.folder, self.port = folder, free_port()
        self.record = folder / "received.jsonl"
        (folder / "grace_test_recorder.py").write_text(RECORDER, encoding="utf-8")
        plugins: dict = {"grace_test_recorder.Recorder": {"path": str(self.record)}}
        if users:
            from pwdlib import PasswordHash
            from pwdlib.hashers.argon2 import Argon2Hasher

            hasher = PasswordHash((Argon2Hasher(),))
            lines = [f"{name}:{hasher.hash(secret)}" for name, secret in users.items()]
            (folder / "passwords").write_text("\n".join(lines) + "\n", encoding="utf-8")
            plugins["amqtt.plugins.authentication.FileAuthPlugin"] = {"password_file": str(folder / "passwords")}
        else:
            plugins["amqtt.plugins.authentication.AnonymousAuthPlugin"] = {"allow_anonymous": True}
        config = {"listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{self.port}"}}, "plugins": plugins}
        self.config = folder / "broker.yaml"
        self.config.write_text(json.dumps(config), encoding="utf-8")  # JSON is YAML
        self.process: subprocess.Popen | None = None
        self.log = folder / "broker.log"

    def url(self, topic: str, credentials: str = "") -> str:
        return f"mqtt://{credentials + '@' if credentials else ''}127.0.0.1:{self.port}/{topic}"

    def start(self, timeout: float = 30.0) -> None:
        env = dict(
            os.environ, PYTHONPATH=os.pathsep.join(filter(None, (str(self.folder), os.environ.get("PYTHONPATH"))))
        )
        with open(self.log, "a", encoding="utf-8") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "amqtt.scripts.broker_script", "-c", str(self.config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the amqtt broker exited at start: {self.log.read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        pytest.skip(
            f"NO MQTT BROKER TO TEST AGAINST: amqtt did not listen within {timeout:g} s: {self.log.read_text()[-500:]}"
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def received(self, topic: str) -> list[dict]:
        if not self.record.exists():
            return []
        lines = [json.loads(line) for line in self.record.read_text(encoding="utf-8").splitlines()]
        return [json.loads(line["payload"]) for line in lines if line["topic"] == topic]

    def wait_received(self, topic: str, count: int, timeout: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.received(topic)) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)  # anything more (a duplicate) would be recorded by now
        return self.received(topic)


@pytest.fixture
def broker(tmp_path):
    """A stopped broker (``broker.start()`` starts it), killed at the end of the test."""
    try:
        import amqtt  # noqa: F401
    except ImportError:  # pragma: no cover - the dev extra installs it
        pytest.skip("NO MQTT BROKER TO TEST AGAINST: the amqtt package is missing (pip install -e '.[dev]')")
    folder = tmp_path / "broker"
    folder.mkdir()
    running = Broker(folder)
    yield running
    running.stop()


class Client:
    """A test-side paho client: publishes, and records what its subscription receives."""

    def __init__(self, broker: Broker, subscribe: str | None = None, username: str | None = None, password=None):
        self.messages: list[tuple[str, dict | str, bool]] = []
        self._lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-{uuid.uuid4().hex[:8]}")
        if username:
            self.client.username_pw_set(username, password)
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *args: subscribed.set()
        self.client.on_message = self._message
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        if subscribe:
            self.client.subscribe(subscribe, qos=1)
            assert subscribed.wait(10), "the broker did not confirm the test's subscription"

    def _message(self, _client, _userdata, message) -> None:
        text = message.payload.decode()
        try:
            payload = json.loads(text)
        except ValueError:
            payload = text
        with self._lock:
            self.messages.append((message.topic, payload, bool(message.retain)))

    def on(self, topic: str) -> list:
        with self._lock:
            return [(payload, retain) for t, payload, retain in self.messages if t == topic]

    def wait_for(self, topic: str, count: int, timeout: float = 10.0) -> list:
        deadline = time.monotonic() + timeout
        while len(self.on(topic)) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        return self.on(topic)

    def publish(self, topic: str, payload: str, retain: bool = False) -> None:
        info = self.client.publish(topic, payload.encode(), qos=1, retain=retain)
        info.wait_for_publish(10)
        assert info.is_published()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
