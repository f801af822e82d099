"""Camera settings for the GenICam source: what the user asks for, checked early, applied through the node map.

Names follow the GenICam SFNC with fallbacks for older Basler GigE cameras (``ExposureTimeAbs``, ``GainAbs``).
Every setting is checked against what the connected camera offers (its enumeration entries, its min/max) before it
is written, so a mistake reads "pixel format 'Mono99' is not offered by this camera; it offers Mono8, ..." rather
than a GenApi exception. The node map is only touched through ``GetNode``, ``IsAvailable`` / ``IsWritable``,
``GetSymbolics``, ``GetMin`` / ``GetMax``, ``GetValue`` / ``SetValue`` / ``FromString`` / ``ToString``: the
parts pypylon 4 and later share.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from grace_core.errors import SourceError

FREE_RUN = "free-run"
SOFTWARE = "software"
_FREE_RUN_WORDS = {"free-run", "freerun", "free", "off", "none", "continuous"}
_LINE = re.compile(r"(?:line)?\s*(\d+)", re.IGNORECASE)
EXPOSURE_NODES = ("ExposureTime", "ExposureTimeAbs")  # µs; SFNC 2, then older GigE cameras
GAIN_NODES = ("Gain", "GainAbs")  # dB
FRAME_RATE_NODES = ("ResultingFrameRate", "ResultingFrameRateAbs")


class SettingsError(SourceError):
    """The connected camera cannot take a setting: reconnecting will not help, the setting must change.

    ``camera`` names the camera that refused (its label) once it is known.
    """

    camera: str | None = None


def normalise_trigger(trigger: str | None) -> str:
    """``"free-run"``, ``"software"``, or a trigger source name: ``"hardware"`` / ``"line1"`` / ``"1"`` → ``"Line1"``.

    Any other name (``"Action1"``, ``"SoftwareSignal1"``) is passed on as the camera's ``TriggerSource`` and checked
    against what the camera offers when it connects.
    """
    text = (trigger or FREE_RUN).strip()
    word = text.lower()
    if word in _FREE_RUN_WORDS:
        return FREE_RUN
    if word == SOFTWARE:
        return SOFTWARE
    if word in {"hardware", "line", "external"}:
        return "Line1"
    line = _LINE.fullmatch(text)
    if line:
        return f"Line{int(line.group(1))}"
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", text):
        raise SourceError(
            f"trigger {trigger!r}: use 'free-run', 'software', or a hardware line such as 'Line1' "
            "(or another TriggerSource name the camera offers)."
        )
    return text


@dataclass(frozen=True)
class CameraSettings:
    """What to set on a GenICam camera each time it connects; None leaves the camera's own value.

    ``exposure_us``: exposure time in µs (turns ``ExposureAuto`` off). ``gain``: gain in dB (turns ``GainAuto`` off).
    ``trigger``: see :func:`normalise_trigger`. ``trigger_activation``: e.g. ``"RisingEdge"`` for a hardware line.
    ``pixel_format``: a ``PixelFormat`` entry (``"Mono8"``, ``"BayerRG8"``, ...); frames become BGR whatever it is.
    ``features``: any other node by name, written last and in order (``{"GainRaw": 300, "ReverseX": True}``).
    """

    exposure_us: float | None = None
    gain: float | None = None
    trigger: str = FREE_RUN
    trigger_activation: str | None = None
    pixel_format: str | None = None
    features: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "trigger", normalise_trigger(self.trigger))
        if self.exposure_us is not None and not (math.isfinite(self.exposure_us) and self.exposure_us > 0):
            raise SourceError(f"exposure_us={self.exposure_us!r}: the exposure time is a positive number of µs.")
        if self.gain is not None and not math.isfinite(self.gain):
            raise SourceError(f"gain={self.gain!r}: the gain is a number of dB.")
        object.__setattr__(self, "features", dict(self.features))

    @property
    def triggered(self) -> bool:
        return self.trigger != FREE_RUN


def apply_settings(nodemap: Any, settings: CameraSettings, genicam: ModuleType) -> dict[str, Any]:
    """Write ``settings`` (pixel format first: it changes the payload) and return what the camera reports back."""
    nodes = _Nodes(nodemap, genicam)
    if settings.pixel_format is not None:
        nodes.set_enum("PixelFormat", settings.pixel_format, "pixel format", "pixel_format")
    if settings.exposure_us is not None:
        nodes.set_enum_if_present("ExposureAuto", "Off")
        nodes.set_float(EXPOSURE_NODES, settings.exposure_us, "exposure", "µs", "exposure_us")
    if settings.gain is not None:
        nodes.set_enum_if_present("GainAuto", "Off")
        nodes.set_float(GAIN_NODES, settings.gain, "gain", "dB", "gain")
    _apply_trigger(nodes, settings)
    for name, value in settings.features.items():
        nodes.set_any(name, value)
    return read_back(nodemap, genicam)


def _apply_trigger(nodes: _Nodes, settings: CameraSettings) -> None:
    if nodes.get("TriggerMode") is None:
        if settings.triggered:
            raise SettingsError(
                f"trigger {settings.trigger!r}: this camera has no TriggerMode; use trigger='free-run'."
            )
        return
    nodes.set_enum_if_present("TriggerSelector", "FrameStart")
    if not settings.triggered:
        nodes.set_enum("TriggerMode", "Off", "trigger mode", "trigger")
        return
    source = "Software" if settings.trigger == SOFTWARE else settings.trigger
    nodes.set_enum("TriggerSource", source, "trigger source", "trigger")
    if settings.trigger_activation is not None:
        nodes.set_enum("TriggerActivation", settings.trigger_activation, "trigger activation", "trigger_activation")
    nodes.set_enum("TriggerMode", "On", "trigger mode", "trigger")


def read_back(nodemap: Any, genicam: ModuleType) -> dict[str, Any]:
    """The camera's current pixel format, exposure (µs), gain (dB), trigger, size and frame rate (what it has)."""
    nodes = _Nodes(nodemap, genicam)
    values: dict[str, Any] = {
        "pixel_format": nodes.value("PixelFormat"),
        "exposure_us": nodes.value(*EXPOSURE_NODES),
        "gain": nodes.value(*GAIN_NODES),
        "width": nodes.value("Width"),
        "height": nodes.value("Height"),
        "frame_rate": nodes.value(*FRAME_RATE_NODES),
    }
    mode, source = nodes.value("TriggerMode"), nodes.value("TriggerSource")
    if mode != "On":
        values["trigger"] = FREE_RUN
    else:
        values["trigger"] = SOFTWARE if source == "Software" else source
    return values


class _Nodes:
    """Checked access to a GenICam node map (a missing node is None, never an exception)."""

    def __init__(self, nodemap: Any, genicam: ModuleType) -> None:
        self.nodemap = nodemap
        self.genicam = genicam

    def get(self, name: str) -> Any | None:
        try:
            node = self.nodemap.GetNode(name)
            return node if node is not None and self.genicam.IsAvailable(node) else None
        except self.genicam.GenericException:
            return None

    def writable(self, name: str) -> Any | None:
        node = self.get(name)
        return node if node is not None and self.genicam.IsWritable(node) else None

    def value(self, *names: str) -> Any:
        """The first readable node's value (enumerations as their name), or None."""
        for name in names:
            node = self.get(name)
            if node is None or not self.genicam.IsReadable(node):
                continue
            try:
                return _plain(node.GetValue())
            except self.genicam.GenericException:
                continue
        return None

    def set_enum(self, name: str, value: str, what: str, option: str) -> None:
        node = self.writable(name)
        if node is None:
            raise SettingsError(f"{what} {value!r}: this camera has no writable {name}; leave {option} unset.")
        offered = [str(entry) for entry in node.GetSymbolics()]
        if value not in offered:
            raise SettingsError(
                f"{what} {value!r} is not offered by this camera; it offers {', '.join(offered)}. Change {option}."
            )
        self._write(name, lambda: node.FromString(value), what, option)

    def set_enum_if_present(self, name: str, value: str) -> None:
        node = self.writable(name)
        if node is not None and value in [str(entry) for entry in node.GetSymbolics()]:
            self._write(name, lambda: node.FromString(value), name, name)

    def set_float(self, names: tuple[str, ...], value: float, what: str, unit: str, option: str) -> None:
        for name in names:
            node = self.writable(name)
            if node is None:
                continue
            low, high = float(node.GetMin()), float(node.GetMax())
            if not low <= value <= high:
                raise SettingsError(
                    f"{what} {value:g} {unit} is outside what this camera allows ({low:g} to {high:g} {unit}). "
                    f"Change {option}."
                )
            self._write(name, lambda node=node: node.SetValue(float(value)), what, option)
            return
        raise SettingsError(
            f"{what}: this camera has none of {', '.join(names)} writable; leave {option} unset "
            f"(or set the camera's own node with features={{...}})."
        )

    def set_any(self, name: str, value: Any) -> None:
        node = self.writable(name)
        if node is None:
            reason = "has no node" if self.get(name) is None else "cannot write (read-only now)"
            raise SettingsError(f"features: this camera {reason} {name!r}. Check the name in pylon Viewer.")

        def write() -> None:
            if isinstance(value, str):
                node.FromString(value)
            elif hasattr(node, "Execute") and value is True:  # a command: {"UserSetLoad": True}
                node.Execute()
            else:
                node.SetValue(value)

        self._write(name, write, f"features[{name!r}] = {value!r}", "features")

    def _write(self, name: str, write: Any, what: str, option: str) -> None:
        try:
            write()
        except self.genicam.GenericException as error:
            detail = str(error).split(" : ", 1)[0]  # GenApi appends the C++ file and line
            raise SettingsError(f"{what}: the camera refused it ({detail}). Change {option}.") from error


def _plain(value: Any) -> Any:
    """Python values from pypylon's (strings, numbers, bools pass through; anything else as its string)."""
    return value if isinstance(value, (str, int, float, bool)) else str(value)
