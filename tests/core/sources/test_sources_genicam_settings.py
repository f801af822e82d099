"""GenICam camera settings as the user writes them: trigger words and numbers checked before a camera is touched
(no pypylon needed)."""

from __future__ import annotations

import pytest

from grace_core.errors import SourceError
from grace_core.sources.genicam_settings import CameraSettings, normalise_trigger


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, "free-run"),
        ("Free-Run", "free-run"),
        ("off", "free-run"),
        ("software", "software"),
        ("hardware", "Line1"),
        ("line2", "Line2"),
        (" 3 ", "Line3"),
        ("Action1", "Action1"),  # any other TriggerSource name: checked against the camera when it connects
    ],
)
def test_trigger_words(given, expected):
    assert normalise_trigger(given) == expected


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"trigger": "when I say so"}, "use 'free-run', 'software', or a hardware line such as 'Line1'"),
        ({"exposure_us": 0}, "exposure_us=0: the exposure time is a positive number of µs"),
        ({"exposure_us": float("nan")}, "positive number of µs"),
        ({"gain": float("inf")}, "gain=inf: the gain is a number of dB"),
    ],
)
def test_nonsense_is_refused_at_once(options, message):
    with pytest.raises(SourceError, match=message):
        CameraSettings(**options)


def test_settings_keep_their_features_in_order_and_know_whether_they_are_triggered():
    settings = CameraSettings(trigger="line1", features={"B": 1, "A": 2})
    assert settings.triggered and list(settings.features) == ["B", "A"]
    assert not CameraSettings().triggered
