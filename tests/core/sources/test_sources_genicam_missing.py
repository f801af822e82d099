"""Without pypylon (an optional extra) the app still works: a genicam: source says how to install it, and Find
cameras lists the OpenCV cameras only. pypylon's absence is simulated by making its import fail."""

from __future__ import annotations

import sys

import pytest

from grace_core.devices import probe_cameras, probe_genicam_cameras
from grace_core.errors import SourceError
from grace_core.sources import list_genicam_cameras, open_source
from grace_core.sources.genicam import PylonMissing


@pytest.fixture
def no_pylon(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("pypylon", "pypylon.pylon", "pypylon.genicam"):
        monkeypatch.setitem(sys.modules, name, None)  # "import pypylon.pylon" now raises ImportError


def test_opening_a_genicam_camera_without_pypylon_says_how_to_install_it(no_pylon):
    with pytest.raises(SourceError) as error:
        open_source("genicam:21234567")
    message = str(error.value)
    assert isinstance(error.value, PylonMissing)
    assert message.startswith("genicam:21234567: GenICam cameras need the pypylon package")
    assert "pip install 'grace-inspect[genicam]'" in message and "proprietary" in message


def test_find_cameras_without_pypylon_lists_no_genicam_camera(no_pylon):
    assert probe_genicam_cameras() == []
    assert probe_cameras(max_index=0) == []
    with pytest.raises(PylonMissing):
        list_genicam_cameras()


def test_a_nonsense_setting_is_reported_even_without_pypylon(no_pylon):
    with pytest.raises(SourceError, match="exposure_us=0"):
        open_source("genicam:", exposure_us=0)


@pytest.mark.parametrize("spec", ["GENICAM:abc", "genicam:0"])
def test_genicam_specs_are_recognised_whatever_the_case(no_pylon, spec):
    with pytest.raises(PylonMissing, match=f"^genicam:{spec.split(':')[1]}: "):
        open_source(spec)


def test_the_desktop_bundle_says_it_does_not_contain_pypylon(no_pylon, monkeypatch):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    with pytest.raises(PylonMissing, match="the desktop bundle does not contain it, because the pylon runtime"):
        open_source("genicam:21234567")
