"""The pypylon side of the GenICam source: import, list cameras, open one by serial, grab frames as BGR.

Only this module imports pypylon, and only when called: pypylon is Basler's BSD wrapper around its proprietary
pylon runtime, an optional extra (``pip install 'grace-inspect[genicam]'``) that the AGPL desktop bundle never
contains. :class:`PylonCapture` is the ``CaptureLike`` a :class:`~grace_core.sources.live.LiveSource` reader
thread drives, so the GenICam source gets the same latest-frame-wins, staleness and reconnect behaviour as the
OpenCV cameras.
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import cv2
import numpy as np

from grace_core.errors import SourceError
from grace_core.sources.genicam_settings import FREE_RUN, SOFTWARE, CameraSettings, SettingsError, apply_settings

log = logging.getLogger(__name__)

INSTALL_HINT = (
    "install it with: pip install 'grace-inspect[genicam]' (or: pip install pypylon), then restart. pypylon "
    "brings Basler's pylon runtime, which is proprietary: it is never part of the GRACE Inspect bundle"
)
FROZEN_HINT = (
    "the desktop bundle does not contain it, because the pylon runtime it brings is proprietary; run GRACE Inspect "
    "from a Python installation instead (pip install 'grace-inspect[genicam]')"
)
EMULATOR_CLASS = "BaslerCamEmu"  # pylon's built-in camera emulator (PYLON_CAMEMU=N cameras)


class PylonMissing(SourceError):
    """pypylon cannot be imported: GenICam cameras are unavailable until it is installed."""


def import_pylon() -> tuple[ModuleType, ModuleType]:
    """``(pypylon.pylon, pypylon.genicam)``, or :class:`PylonMissing` saying how to install them."""
    try:
        return importlib.import_module("pypylon.pylon"), importlib.import_module("pypylon.genicam")
    except (ImportError, OSError) as error:  # OSError: the wheel is there but its runtime libraries do not load
        hint = FROZEN_HINT if getattr(sys, "frozen", False) else INSTALL_HINT
        raise PylonMissing(f"GenICam cameras need the pypylon package ({error}); {hint}.") from error


def pylon_available() -> bool:
    try:
        import_pylon()
    except PylonMissing:
        return False
    return True


@dataclass(frozen=True)
class GenICamCamera:
    """A camera pylon can see: what *Find cameras* lists and ``genicam:<serial>`` opens."""

    serial: str
    model: str
    vendor: str = ""
    device_class: str = ""  # pylon's transport layer: BaslerUsb, BaslerGigE, BaslerCamEmu, ...
    user_name: str = ""  # the DeviceUserID a plant may have set ("line 3 top")

    @property
    def spec(self) -> str:
        return f"genicam:{self.serial}"

    @property
    def name(self) -> str:
        """Vendor and model, e.g. "Basler acA1920-40gm"."""
        return " ".join(part for part in (self.vendor, self.model) if part) or "camera"

    @property
    def label(self) -> str:
        named = f" '{self.user_name}'" if self.user_name else ""
        return f"GenICam {self.name}{named} ({self.serial})"


def _camera(info: Any) -> GenICamCamera:
    def text(getter: str) -> str:
        try:
            return str(getattr(info, getter)())
        except Exception:  # a property this transport layer does not fill
            return ""

    return GenICamCamera(
        serial=text("GetSerialNumber"),
        model=text("GetModelName"),
        vendor=text("GetVendorName"),
        device_class=text("GetDeviceClass"),
        user_name=text("GetUserDefinedName"),
    )


def enumerate_devices(pylon: ModuleType, device_class: str | None = None) -> list[Any]:
    """pylon ``DeviceInfo`` of every camera, or only those of one transport layer (``"BaslerCamEmu"``: no network
    discovery, what the tests use)."""
    factory = pylon.TlFactory.GetInstance()
    if device_class is None:
        return list(factory.EnumerateDevices())
    layer = factory.CreateTl(device_class)
    if layer is None:  # not installed, or the emulator without PYLON_CAMEMU
        return []
    try:
        return list(layer.EnumerateDevices())
    finally:
        factory.ReleaseTl(layer)


def list_cameras(device_class: str | None = None) -> list[GenICamCamera]:
    """The GenICam cameras pylon finds (GigE discovery, USB3 Vision, the emulator); raises PylonMissing."""
    pylon, _ = import_pylon()
    return [_camera(info) for info in enumerate_devices(pylon, device_class)]


class CameraNotFound(SourceError):
    """No camera with the wanted serial (or none at all) is visible now; it may still appear later."""


def find_device(pylon: ModuleType, serial: str | None, device_class: str | None = None) -> tuple[Any, GenICamCamera]:
    """The ``DeviceInfo`` of camera ``serial`` (None: the first found), or :class:`CameraNotFound` listing what is
    there."""
    devices = enumerate_devices(pylon, device_class)
    for info in devices:
        camera = _camera(info)
        if serial is None or camera.serial == serial:
            return info, camera
    found = ", ".join(f"{camera.serial} ({camera.name})" for camera in map(_camera, devices))
    wanted = "no GenICam camera is visible" if serial is None else f"no GenICam camera with serial {serial} is visible"
    raise CameraNotFound(f"{wanted} (found: {found or 'none'})")


class PylonCapture:
    """``CaptureLike`` around a pylon ``InstantCamera`` grabbing with the latest-image-only strategy.

    Made, read and released by the source's reader thread; :meth:`trigger` may come from any thread (pylon allows a
    software trigger while another thread waits in ``RetrieveResult``; a lock keeps it off a released camera).
    ``read()`` waits for a frame in ``poll`` slices so it notices ``should_stop`` (the source closing) quickly; it
    fails at once when pylon reports the device removed, after ``grab_timeout`` s without a frame (None: wait as
    long as it takes — a triggered camera), and for a buffer pylon marks failed (an incomplete GigE transfer).
    ``last_meta`` holds the camera's own facts about the frame ``read()`` returned last.
    """

    def __init__(
        self,
        camera: Any,
        pylon: ModuleType,
        identity: GenICamCamera,
        settings: dict[str, Any],
        *,
        grab_timeout: float | None,
        poll: float = 0.1,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> None:
        self.camera = camera
        self.identity = identity
        self.settings = settings  # what the camera reported after the settings were written
        self.grab_timeout = grab_timeout
        self.last_meta: dict[str, Any] = {}
        self.failed_buffers = 0
        self._pylon = pylon
        self._poll_ms = max(1, int(poll * 1000))
        self._should_stop = should_stop
        self._lock = threading.Lock()
        self._closed = False
        self._converter: Any = None
        self._warned_conversion = False

    @classmethod
    def open(
        cls,
        serial: str | None,
        settings: CameraSettings,
        *,
        device_class: str | None = None,
        grab_timeout: float | None = None,
        poll: float = 0.1,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> PylonCapture:
        """Find the camera, open it, write ``settings`` and start grabbing. Raises CameraNotFound, SettingsError,
        or pylon's own exception when the camera cannot be opened (in use, just unplugged)."""
        pylon, genicam = import_pylon()
        info, identity = find_device(pylon, serial, device_class)
        camera = pylon.InstantCamera(pylon.TlFactory.GetInstance().CreateDevice(info))
        try:
            camera.Open()
            try:
                applied = apply_settings(camera.GetNodeMap(), settings, genicam)
            except SettingsError as error:
                if camera.IsCameraDeviceRemoved():  # unplugged while being set up: a connection problem
                    raise ConnectionError(f"camera {identity.serial} was removed while it was being set up") from None
                error.camera = identity.label
                raise
            camera.StartGrabbing(pylon.GrabStrategy_LatestImageOnly)
        except BaseException:
            _destroy(camera)
            raise
        return cls(camera, pylon, identity, applied, grab_timeout=grab_timeout, poll=poll, should_stop=should_stop)

    # -- CaptureLike ---------------------------------------------------------------------------------------------

    def isOpened(self) -> bool:  # OpenCV's name
        try:
            return not self._closed and bool(self.camera.IsGrabbing()) and not self.camera.IsCameraDeviceRemoved()
        except Exception:
            return False

    def read(self) -> tuple[bool, np.ndarray | None]:
        pylon = self._pylon
        deadline = None if self.grab_timeout is None else time.monotonic() + self.grab_timeout
        while not self._closed and not self._should_stop():
            if self.camera.IsCameraDeviceRemoved() or not self.camera.IsGrabbing():
                log.debug("GenICam %s: device removed or no longer grabbing", self.identity.serial)
                return False, None
            result = self.camera.RetrieveResult(self._poll_ms, pylon.TimeoutHandling_Return)
            try:
                if result.IsValid():
                    return self._take(result)
            finally:
                result.Release()
            if deadline is not None and time.monotonic() > deadline:
                log.debug("GenICam %s: no frame within %.1f s", self.identity.serial, self.grab_timeout)
                return False, None
        return False, None

    def release(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        _destroy(self.camera)

    def get(self, prop: int) -> float:
        if prop == cv2.CAP_PROP_FPS:  # a triggered camera's rate is its trigger's: unknown here
            rate = self.settings.get("frame_rate")
            return float(rate) if rate and self.settings.get("trigger") == FREE_RUN else 0.0
        if prop == cv2.CAP_PROP_FRAME_WIDTH:
            return float(self.settings.get("width") or 0)
        if prop == cv2.CAP_PROP_FRAME_HEIGHT:
            return float(self.settings.get("height") or 0)
        return 0.0

    # -- GenICam extras ------------------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    def trigger(self, wait: float = 0.5) -> bool:
        """Fire one software trigger; False when not in software-trigger mode, released, or not ready in ``wait`` s."""
        pylon = self._pylon
        with self._lock:
            if self._closed or self.settings.get("trigger") != SOFTWARE:
                return False
            try:
                if not self.camera.WaitForFrameTriggerReady(int(wait * 1000), pylon.TimeoutHandling_Return):
                    return False
                self.camera.ExecuteSoftwareTrigger()
            except Exception:
                log.debug("GenICam %s: software trigger failed", self.identity.serial, exc_info=True)
                return False
            return True

    def _take(self, result: Any) -> tuple[bool, np.ndarray | None]:
        if not result.GrabSucceeded():
            self.failed_buffers += 1
            log.debug("GenICam %s: failed buffer: %s", self.identity.serial, result.GetErrorDescription())
            return False, None
        try:
            image = self._to_bgr(result)
        except Exception as error:
            if not self._warned_conversion:
                self._warned_conversion = True
                log.warning(
                    "GenICam %s: cannot turn pixel format %s into BGR (%s); set pixel_format='Mono8' or an 8-bit "
                    "Bayer or RGB format",
                    self.identity.serial,
                    self.settings.get("pixel_format"),
                    error,
                )
            return False, None
        self.last_meta = self._meta(result)
        return True, image

    def _to_bgr(self, result: Any) -> np.ndarray:
        """BGR uint8 H×W×3 (a copy: pylon reuses the buffer). Mono8 and BGR8 directly; anything else (Bayer
        demosaicing, 10–16-bit, RGB, YUV) through pylon's own converter, which knows each format's layout."""
        pylon = self._pylon
        pixel_type = result.GetPixelType()
        if pixel_type == pylon.PixelType_Mono8:
            return cv2.cvtColor(result.GetArray(), cv2.COLOR_GRAY2BGR)
        if pixel_type == pylon.PixelType_BGR8packed:
            return np.ascontiguousarray(result.GetArray())
        if self._converter is None:
            converter = pylon.ImageFormatConverter()
            converter.OutputPixelFormat = pylon.PixelType_BGR8packed  # 10-16-bit input keeps its top 8 bits
            self._converter = converter
        return np.ascontiguousarray(self._converter.Convert(result).GetArray())

    def _meta(self, result: Any) -> dict[str, Any]:
        meta: dict[str, Any] = {"serial": self.identity.serial, "pixel_format": self.settings.get("pixel_format")}
        for key, getter in (
            ("block_id", "GetBlockID"),  # the camera's frame counter (GigE / USB3 Vision)
            ("image_number", "GetImageNumber"),  # pylon's count of frames grabbed since grabbing started
            ("skipped_images", "GetNumberOfSkippedImages"),  # frames pylon dropped for this newer one
            ("camera_timestamp", "GetTimeStamp"),  # the camera's clock in ticks; 0 when it has none
        ):
            try:
                meta[key] = int(getattr(result, getter)())
            except Exception:
                continue
        if not meta.get("camera_timestamp"):
            meta.pop("camera_timestamp", None)
        return meta


def _destroy(camera: Any) -> None:
    """Stop, close and detach the pylon device (after a removal pylon needs a fresh device object to reconnect)."""
    for step in ("StopGrabbing", "Close", "DestroyDevice"):
        try:
            getattr(camera, step)()
        except Exception:  # a removed device may refuse each step; the next one still frees what it can
            log.debug("GenICam: %s failed", step, exc_info=True)
