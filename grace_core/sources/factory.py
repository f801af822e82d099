"""``open_source(spec)``: one entry point from a user's source spec to the right :class:`FrameSource`.

Rules, in order:

* ``int`` → camera by index; ``"camera:N"`` → camera N. A bare ``"0"`` is a *path*, never a camera: a
  string index becomes a file name in OpenCV (and in a frozen app), so cameras must be asked for explicitly.
* ``"genicam:<serial>"`` → an industrial camera through pylon (``genicam:`` or ``genicam:0``: the first found).
* ``"demo"`` → the built-in demo: a wide strip seen by a line-scan camera (it wins over a folder named ``demo``;
  write ``./demo`` for that); ``"demo:tiles"`` plays the NEU-DET images one by one, ``"demo:scroll"`` scrolls them.
* ``rtsp://``, ``rtsps://``, ``rtmp://``, ``http://``, ``https://`` → network stream.
* An existing directory → image folder; an existing file with a video suffix → video file.
* Anything else → :class:`~grace_core.errors.SourceError` saying what was wrong and what to write instead.

Keyword options go to the source's constructor (e.g. ``loop=True``, ``fps=5``, ``mode="scroll"``);
``live_options`` go only to a camera or stream (e.g. ``max_reconnects``), so a caller that takes any spec, like
``grace detect``, can set a reconnect policy without knowing what the spec will open.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from grace_core.data.records import IMAGE_SUFFIXES
from grace_core.errors import SourceError
from grace_core.sources.base import FrameSource
from grace_core.sources.camera import CameraSource
from grace_core.sources.demo import DemoSource
from grace_core.sources.folder import FolderSource
from grace_core.sources.genicam import GenICamSource
from grace_core.sources.stream import STREAM_SCHEMES, StreamSource, redact_url
from grace_core.sources.video import VIDEO_SUFFIXES, VideoSource

SourceSpec = int | str | os.PathLike[str]
_CAMERA = re.compile(r"camera:(.*)", re.IGNORECASE)
_GENICAM = re.compile(r"genicam:(.*)", re.IGNORECASE | re.DOTALL)
_DEMO = re.compile(r"demo(?::(tiles|strip|scroll))?", re.IGNORECASE)
_USAGE = (
    "Use camera:N for a camera, genicam:SERIAL for an industrial (GenICam) camera, rtsp://… or http(s)://… for a "
    "stream, a video file, an image folder, or 'demo'."
)


def open_source(spec: SourceSpec, *, live_options: Mapping[str, Any] | None = None, **options: Any) -> FrameSource:
    """Open the source ``spec`` names (see the module doc); raises SourceError when it cannot."""
    live = {**(live_options or {}), **options}  # for a camera (OpenCV or GenICam) or stream
    if isinstance(spec, bool):
        raise SourceError(f"{spec!r} is not a source. {_USAGE}")
    if isinstance(spec, int):
        return CameraSource(spec, **live)
    if isinstance(spec, os.PathLike):
        return _open_path(Path(spec), str(spec), options)
    if not isinstance(spec, str):
        raise SourceError(f"{spec!r}: unknown source type {type(spec).__name__}. {_USAGE}")
    text = spec.strip()
    camera = _CAMERA.fullmatch(text)
    if camera:
        index = camera.group(1).strip()
        if not index.isdigit():
            raise SourceError(f"'{spec}': a camera is written camera:N with N a number, e.g. camera:0.")
        return CameraSource(int(index), **live)
    genicam = _GENICAM.fullmatch(text)
    if genicam:
        return GenICamSource(genicam.group(1), **live)
    demo = _DEMO.fullmatch(text)
    if demo:  # "demo": the wide strip a line-scan camera sees; "demo:tiles" / "demo:scroll": the other modes
        return DemoSource(**{"mode": demo.group(1) or "strip", **options})
    scheme = urlsplit(text).scheme.lower()
    if scheme in STREAM_SCHEMES:
        return StreamSource(text, **live)
    if "://" in text:
        raise SourceError(f"'{redact_url(text)}': unknown source type '{scheme}://'. {_USAGE}")
    if not text:
        raise SourceError(f"no source given. {_USAGE}")
    return _open_path(Path(text).expanduser(), redact_url(text), options)  # "rtsp:/u:pw@h" typos stay hidden too


def _open_path(path: Path, shown: str, options: dict[str, Any]) -> FrameSource:
    if path.is_dir():
        return FolderSource(path, **options)
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix in VIDEO_SUFFIXES:
            return VideoSource(path, **options)
        if suffix in IMAGE_SUFFIXES:
            return FolderSource(path, **options)  # one image
        raise SourceError(f"'{shown}': unknown source type (not a video: {suffix or 'no suffix'}). {_USAGE}")
    if path.exists():
        raise SourceError(f"'{shown}': unknown source type (neither a file nor a folder). {_USAGE}")
    hint = f" To open camera {shown.strip()}, write camera:{shown.strip()}." if shown.strip().isdigit() else ""
    raise SourceError(f"'{shown}': no such file or folder.{hint} {_USAGE}")
