"""An industrial camera through a GenICam stack (Basler pylon via pypylon): ``genicam:<serial>``.

:class:`GenICamSource` is a :class:`~grace_core.sources.live.LiveSource` whose capture is a
:class:`~grace_core.sources.genicam_pylon.PylonCapture`: one reader thread, latest frame wins, staleness from the
clock, reconnect with backoff after the camera is lost (pylon reports the device removed), "cannot connect" vs
"connection lost", ``max_reconnects``, clean close. What it adds:

* camera settings (exposure, gain, trigger, pixel format, any node by name) written at every connect and read back
  (:attr:`GenICamSource.camera_settings`); a setting the camera refuses is a permanent failure (FAILED, with the
  reason), not a reason to retry;
* ``Frame.meta`` with the camera's own frame counter, pylon's image number, skipped images and timestamp;
* :meth:`GenICamSource.trigger_software` for ``trigger="software"``.

pypylon is optional: without it, opening a ``genicam:`` source raises a SourceError that says how to install it.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

import numpy as np

from grace_core.sources.genicam_pylon import (
    CameraNotFound,
    GenICamCamera,
    PylonCapture,
    PylonMissing,
    import_pylon,
    list_cameras,
)
from grace_core.sources.genicam_settings import CameraSettings, SettingsError
from grace_core.sources.live import CaptureFactory, LiveSource
from grace_core.sources.types import CaptureLike, Frame, SourceState

log = logging.getLogger(__name__)
list_genicam_cameras = list_cameras  # the name grace_core.sources exports

FIRST_CAMERA = ("", "0")  # genicam: and genicam:0 open the first camera pylon finds
DEFAULT_GRAB_TIMEOUT = 5.0  # free-run: seconds without a frame that count as one failed read
HINT = "check that the camera is powered, connected and not open in another program (such as pylon Viewer)"

__all__ = ["GenICamCamera", "GenICamSource", "PylonMissing", "list_cameras", "list_genicam_cameras", "parse_serial"]


def parse_serial(text: str) -> str | None:
    """The serial in ``genicam:<serial>``'s tail; None for the first camera (empty or ``0``)."""
    serial = text.strip()
    return None if serial in FIRST_CAMERA else serial


class GenICamSource(LiveSource):
    """GenICam camera ``serial`` (None: the first found) with optional settings; see the module doc.

    ``exposure_us``, ``gain`` (dB), ``trigger`` (``"free-run"``, ``"software"``, ``"Line1"``...),
    ``trigger_activation``, ``pixel_format``, ``features``: see
    :class:`~grace_core.sources.genicam_settings.CameraSettings`. ``grab_timeout``: seconds without a frame that
    count as a failed read (default 5 s in free-run, None — wait for the trigger — when triggered); pass
    ``stale_after`` for a triggered camera so a quiet line does not read as a stale picture. ``device_class``: only
    one pylon transport layer (``"BaslerGigE"``, ``"BaslerUsb"``, ``"BaslerCamEmu"`` for the emulator).
    Other keyword options go to :class:`LiveSource`.
    """

    def __init__(
        self,
        serial: str | None = None,
        *,
        exposure_us: float | None = None,
        gain: float | None = None,
        trigger: str = "free-run",
        trigger_activation: str | None = None,
        pixel_format: str | None = None,
        features: Mapping[str, Any] | None = None,
        grab_timeout: float | str | None = "auto",
        device_class: str | None = None,
        capture_factory: CaptureFactory | None = None,
        **options: Any,
    ) -> None:
        self.serial = parse_serial(serial or "")
        shown = f"genicam:{self.serial or '0'}"
        self.settings = CameraSettings(
            exposure_us=exposure_us,
            gain=gain,
            trigger=trigger,
            trigger_activation=trigger_activation,
            pixel_format=pixel_format,
            features=features or {},
        )
        if capture_factory is None:
            try:
                import_pylon()
            except PylonMissing as error:
                raise PylonMissing(f"{shown}: {error}") from error
        self.device_class = device_class
        self.grab_timeout = (
            (None if self.settings.triggered else DEFAULT_GRAB_TIMEOUT) if grab_timeout == "auto" else grab_timeout
        )
        self.camera: GenICamCamera | None = None  # the camera of the latest connection
        self._factory_given = capture_factory
        self._capture: CaptureLike | None = None  # the reader thread's current capture (for trigger and meta)
        self._slot_meta: dict[str, Any] = {}
        self._camera_settings: dict[str, Any] = {}
        self.hint = HINT
        self._named_by_camera = "description" not in options  # then it becomes the camera's label once connected
        options.setdefault("source_id", shown)
        options.setdefault("description", f"GenICam camera {self.serial or '(first found)'}")
        super().__init__(self._make_capture, **options)

    # -- consumer side ---------------------------------------------------------------------------------------

    @property
    def camera_settings(self) -> dict[str, Any]:
        """What the camera reported after the settings were written at the latest connect (empty before)."""
        return dict(self._camera_settings)

    @property
    def capture(self) -> CaptureLike | None:
        """The current connection's capture (a :class:`PylonCapture`), None before the first; for diagnostics."""
        return self._capture

    def trigger_software(self) -> bool:
        """Take one picture now (``trigger="software"``); False when not connected or not in software-trigger mode.
        Callable from any thread."""
        trigger = getattr(self._capture, "trigger", None)
        return bool(trigger()) if trigger is not None else False

    def read(self, timeout: float = 1.0) -> Frame | None:
        # The slot and its meta change together under the reader's (re-entrant) lock; see _publish.
        with self._cond:
            frame = super().read(timeout)
            meta = self._slot_meta
        return None if frame is None else dataclasses.replace(frame, meta=meta)

    # -- reader thread ---------------------------------------------------------------------------------------

    def _publish(self, image: np.ndarray) -> None:
        capture = self._capture
        meta = dict(getattr(capture, "last_meta", None) or {})
        with self._cond:  # LiveSource's Condition holds an RLock: slot and meta are set as one
            if not self.closed:
                self._slot_meta = meta
                self._counters["dropped"] += int(meta.get("skipped_images") or 0)  # pylon dropped them for this one
            super()._publish(image)

    def _make_capture(self) -> CaptureLike:
        capture = self._factory_given() if self._factory_given is not None else self._open_camera()
        self._capture = capture
        return capture

    def _open_camera(self) -> PylonCapture:
        try:
            capture = PylonCapture.open(
                self.serial,
                self.settings,
                device_class=self.device_class,
                grab_timeout=self.grab_timeout,
                should_stop=lambda: self.closed,
            )
        except CameraNotFound as error:
            self.hint = f"{error}; check the serial, the cable and the camera's power"
            raise
        except SettingsError as error:
            self._fail_for_good(f"{error.camera or self.description}: {error}")
            raise
        except Exception as error:  # pylon could not open it: in use elsewhere, just unplugged, a network problem
            self.hint = f"{HINT}; pylon says: {str(error).split(' : ', 1)[0]}"
            raise
        self.camera = capture.identity
        self._camera_settings = dict(capture.settings)
        if self._named_by_camera:
            self.description = capture.identity.label
        self.hint = HINT
        log.info("%s: connected; %s", self.description, _summary(capture.settings))
        return capture

    def _fail_for_good(self, message: str) -> None:
        """A setting the camera refuses: FAILED with ``message`` and the reader parked until close(), since reopening
        the camera cannot change the answer."""
        error = self._fail(message)
        log.error("%s", error)
        with self._cond:
            self._phase = SourceState.FAILED
            self._cond.notify_all()
        self._closed.wait()


def _summary(settings: Mapping[str, Any]) -> str:
    keys = ("pixel_format", "width", "height", "exposure_us", "gain", "trigger", "frame_rate")
    return ", ".join(
        f"{key}={settings[key]:g}" if isinstance(settings.get(key), float) else f"{key}={settings.get(key)}"
        for key in keys
    )
