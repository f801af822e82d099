"""The MQTT tests run against a real broker on 127.0.0.1 (``tests/helpers/mqtt_broker.py``)."""

from helpers.mqtt_broker import broker  # noqa: F401 (fixture)
