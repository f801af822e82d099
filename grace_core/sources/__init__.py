"""Frame sources: camera, industrial (GenICam) camera, network stream, video file, image folder and the built-in demo.

Open one with :func:`open_source` and read it as an iterator or with ``read(timeout)``; see ``docs/sources.md``.
"""

from __future__ import annotations

from grace_core.errors import SourceError
from grace_core.sources.base import FrameSource
from grace_core.sources.camera import CameraSource
from grace_core.sources.demo import DemoSource, demo_dir, load_demo_images
from grace_core.sources.factory import SourceSpec, open_source
from grace_core.sources.folder import FolderSource
from grace_core.sources.genicam import GenICamCamera, GenICamSource, list_genicam_cameras
from grace_core.sources.live import CaptureFactory, LiveSource
from grace_core.sources.stream import StreamSource, redact_url
from grace_core.sources.types import CaptureLike, Frame, SourceInfo, SourceState
from grace_core.sources.video import VideoSource

__all__ = [
    "CameraSource",
    "CaptureFactory",
    "CaptureLike",
    "DemoSource",
    "FolderSource",
    "Frame",
    "FrameSource",
    "GenICamCamera",
    "GenICamSource",
    "LiveSource",
    "SourceError",
    "SourceInfo",
    "SourceSpec",
    "SourceState",
    "StreamSource",
    "VideoSource",
    "demo_dir",
    "list_genicam_cameras",
    "load_demo_images",
    "open_source",
    "redact_url",
]
