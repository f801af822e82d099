"""A network stream (RTSP, HTTP MJPEG/HLS...) through OpenCV's FFmpeg backend with open and read timeouts.

The backend is named explicitly: only FFmpeg honours ``CAP_PROP_OPEN_TIMEOUT_MSEC`` / ``CAP_PROP_READ_TIMEOUT_MSEC``,
and without them a dead RTSP server can block ``read()`` forever (DESIGN pitfall 9).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import cv2

from grace_core.errors import SourceError
from grace_core.sources.live import CaptureFactory, LiveSource
from grace_core.sources.types import CaptureLike

STREAM_SCHEMES = frozenset({"rtsp", "rtsps", "rtmp", "http", "https"})
SECRET_PARAMS = (
    "password", "passwd", "pass", "pwd", "pw", "token", "access_token", "auth", "authorization", "key", "apikey",
    "api_key", "secret", "signature", "sig",
)  # fmt: skip
_SCHEME = re.compile(r"\s*[A-Za-z][A-Za-z0-9+.-]+:/*")  # two letters at least: "C:\\" is a drive, not a scheme
_SECRET_QUERY = re.compile(rf"(?<=[?&;])({'|'.join(SECRET_PARAMS)})=[^&;]*", re.IGNORECASE)


def redact_url(url: str) -> str:
    """The URL without its secrets, fit for logs, messages, stored records and the UI.

    ``rtsp://user:pass@host/x?token=t`` becomes ``rtsp://user:***@host/x?token=***``. The password is everything
    between the first ``:`` after the user and the **last** ``@``, so one with unencoded ``/ ? # @`` in it (which a
    URL parser would split into path, query or fragment) is hidden whole; a URL with an ``@`` in its path may be
    redacted more than needed, never less. Query parameters named in :data:`SECRET_PARAMS` lose their values.
    """
    return _SECRET_QUERY.sub(r"\1=***", _redact_userinfo(url))


def _redact_userinfo(url: str) -> str:
    scheme = _SCHEME.match(url)
    if scheme is None:
        return url
    userinfo, at, rest = url[scheme.end() :].rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.partition(":")[0]
    return f"{url[: scheme.end()]}{user}:***@{rest}"


class StreamSource(LiveSource):
    """Stream ``url``. ``open_timeout`` / ``read_timeout`` in seconds bound every FFmpeg open and read.

    Other keyword options go to :class:`LiveSource`.
    """

    def __init__(
        self,
        url: str,
        *,
        open_timeout: float = 10.0,
        read_timeout: float = 5.0,
        capture_factory: CaptureFactory | None = None,
        **options: Any,
    ) -> None:
        shown = redact_url(url)
        scheme = urlsplit(url).scheme.lower()
        if scheme not in STREAM_SCHEMES:
            raise SourceError(f"{shown}: unsupported stream scheme '{scheme}'; use one of {sorted(STREAM_SCHEMES)}.")
        if capture_factory is None and not cv2.videoio_registry.hasBackend(cv2.CAP_FFMPEG):
            raise SourceError(f"{shown}: this OpenCV build has no FFmpeg backend; install opencv-python(-headless).")
        self.url = url
        self.open_timeout = open_timeout
        self.read_timeout = read_timeout
        self.hint = "check the address, the network and the credentials"
        options.setdefault("source_id", shown)
        options.setdefault("description", f"Stream {shown}")
        super().__init__(capture_factory or self._open_capture, **options)

    def _open_capture(self) -> CaptureLike:
        params = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
            int(self.open_timeout * 1000),
            cv2.CAP_PROP_READ_TIMEOUT_MSEC,
            int(self.read_timeout * 1000),
        ]
        return cv2.VideoCapture(self.url, cv2.CAP_FFMPEG, params)
