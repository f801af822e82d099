"""Real network sources on 127.0.0.1 for end-to-end source tests: a closed port and an MJPEG-over-HTTP camera.

OpenCV's FFmpeg backend reads :class:`MjpegCamera` like any ``http://…/video.mjpg`` IP camera. Tests can make it
serve a few frames per connection and then hang up (a dropped link), or refuse further connections (a camera that
went away for good).
"""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2

DEMO_TILE = Path(__file__).resolve().parents[2] / "resources" / "demo" / "crazing_3.jpg"


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound to get a free one, then closed): connections are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class MjpegCamera:
    """Serves ``frames_per_connection`` JPEG frames (None: until stopped) every ``interval`` seconds per request.

    After ``max_connections`` requests (None: no limit), or while ``online`` is False, every new request gets a
    503, so a reconnect fails. ``requests`` counts requests.
    """

    def __init__(
        self, frames_per_connection: int | None = None, interval: float = 0.05, max_connections: int | None = None
    ) -> None:
        image = cv2.imread(str(DEMO_TILE))
        ok, encoded = cv2.imencode(".jpg", image)
        assert ok, DEMO_TILE
        self.jpeg = encoded.tobytes()
        self.frames_per_connection = frames_per_connection
        self.interval = interval
        self.online = True
        self.max_connections = max_connections
        self.requests = 0
        self._stop = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="mjpeg-camera", daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, credentials: str = "", query: str = "") -> str:
        """``http://[credentials@]127.0.0.1:PORT/video.mjpg[?query]``."""
        userinfo = f"{credentials}@" if credentials else ""
        return f"http://{userinfo}127.0.0.1:{self.port}/video.mjpg" + (f"?{query}" if query else "")

    def stop(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        self.requests += 1
        if not self.online or (self.max_connections is not None and self.requests > self.max_connections):
            handler.send_error(503, "camera offline")
            return
        handler.send_response(200)
        handler.send_header("Content-Type", "multipart/x-mixed-replace;boundary=frame")
        handler.end_headers()
        sent = 0
        try:
            while not self._stop.is_set() and (self.frames_per_connection is None or sent < self.frames_per_connection):
                part = b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(self.jpeg)
                handler.wfile.write(part + self.jpeg + b"\r\n")
                handler.wfile.flush()
                sent += 1
                time.sleep(self.interval)
        except OSError:  # the client hung up
            pass

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        camera = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # http.server's name
                camera._serve(self)

            def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
                pass

        return Handler
