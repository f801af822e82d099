"""Settings forms check a sink or coil URL with the same parsers that open them, without opening anything."""

from __future__ import annotations

import pytest

from grace_core.errors import GraceError
from grace_core.plant import check_coil_url
from grace_core.sinks import check_sink


@pytest.mark.parametrize(
    ("spec", "scheme"),
    [
        ("jsonl:/data/line1/detections.jsonl", "jsonl"),
        ("/data/line1/detections.csv", "csv"),
        ("events:/data/line1/events.jsonl", "events"),
        ("images:/data/line1/annotated", "images"),
        ("mqtt://grace:s3cret@broker:1883/plant/line1", "mqtt"),
        ("mqtts://broker/plant/line1", "mqtts"),
        ("opcua://0.0.0.0:4840", "opcua"),
        ("store:postgresql://inspect@qa-db:5432/grace", "store"),
    ],
)
def test_good_sinks_are_accepted(spec, scheme, tmp_path):
    assert check_sink(spec) == scheme


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("kafka://broker/topic", "unknown sink"),
        ("mqtt://:1883/plant", "no broker host"),
        ("mqtt://broker:99999/plant", "port must be a number"),
        ("mqtt://broker/plant/+", "wildcard"),
        ("opcua://0.0.0.0:70000", "port must be between 1 and 65535"),
        ("jsonl:", "no file or folder"),
        ("store:", "no store"),
        ("store:ftp://qa-db/grace", "unknown review store"),
    ],
)
def test_bad_sinks_say_what_is_wrong(spec, says):
    with pytest.raises(GraceError, match=says):
        check_sink(spec)


def test_checking_opens_nothing(tmp_path):
    check_sink(f"jsonl:{tmp_path / 'new' / 'a.jsonl'}")
    check_sink(f"store:{tmp_path / 'store'}")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "url",
    ["mqtt://l2-broker:1883/plant/line1/coil", "opc.tcp://l2-server:4840/ns=2;s=Line1.CoilId", "mqtts://b/+/coil"],
)
def test_good_coil_urls_are_accepted(url):
    assert check_coil_url(url) in ("mqtt", "mqtts", "opc.tcp")


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("ftp://l2/coil", "cannot read a coil id from there"),
        ("mqtt://user:pw@l2-broker:1883", "no topic"),
        ("opc.tcp://l2-server:4840/Line1.CoilId", "no node id"),
        ("opc.tcp://l2-server:4840/ns=x;s=Coil", "no node id|not an OPC UA node id"),
    ],
)
def test_bad_coil_urls_say_what_is_wrong_without_the_password(url, says):
    with pytest.raises(GraceError, match=says) as error:
        check_coil_url(url)
    assert ":pw@" not in str(error.value)
