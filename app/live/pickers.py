"""Source and model pickers: combo boxes whose entries carry the spec the core understands."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QInputDialog, QWidget

from grace_core.engine.runtimes import describe_model_files, file_filter
from grace_core.models import SHIPPED
from grace_core.sources.genicam import GenICamCamera, parse_serial
from grace_core.sources.stream import redact_url

_ASK_VIDEO, _ASK_FOLDER, _ASK_URL, _ASK_MODEL = "?video", "?folder", "?url", "?model"
_CAMERA_SPECS = ("camera:", "genicam:")
VIDEO_FILTER = "Videos (*.mp4 *.avi *.mkv *.mov *.m4v *.wmv *.mpg *.mpeg *.webm);;All files (*)"
MODEL_FILTER = file_filter()


def describe_source(spec: str) -> str:
    if spec == "demo":
        return "Demo: built-in NEU-DET steel strip"
    if spec.startswith("camera:"):
        return f"Camera {spec.split(':', 1)[1]}"
    if spec.lower().startswith("genicam:"):
        serial = parse_serial(spec.split(":", 1)[1])
        return f"GenICam camera {serial}" if serial else "GenICam camera (first found)"
    return redact_url(spec)  # the entry keeps the full spec as its data; its label never shows a password


class _SpecCombo(QComboBox):
    """Entries carry a spec; entries starting with '?' ask the user (dialog) and then add what they chose."""

    chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._current = ""
        self.activated.connect(self._on_activated)

    def spec(self) -> str:
        return self._current

    def set_spec(self, spec: str) -> None:
        index = self.findData(spec)
        if index < 0:
            self.insertItem(self._fixed_count(), self.describe(spec), spec)
            index = self.findData(spec)
        self.setCurrentIndex(index)
        self._current = spec

    def describe(self, spec: str) -> str:
        return spec

    def ask(self, action: str) -> str | None:
        raise NotImplementedError

    def _fixed_count(self) -> int:
        """Where user-chosen entries go: before the '?' actions."""
        for index in range(self.count()):
            if str(self.itemData(index)).startswith("?"):
                return index
        return self.count()

    def _on_activated(self, index: int) -> None:
        data = str(self.itemData(index))
        spec = self.ask(data) if data.startswith("?") else data
        if not spec:
            self.set_spec(self._current)  # cancelled: back to what was selected
            return
        self.set_spec(spec)
        self.chosen.emit(spec)


class SourcePicker(_SpecCombo):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.addItem(describe_source("demo"), "demo")
        self.addItem("Video file…", _ASK_VIDEO)
        self.addItem("Image folder…", _ASK_FOLDER)
        self.addItem("Stream URL (rtsp://, http://)…", _ASK_URL)
        self._current = "demo"
        self.setToolTip("What to inspect. You can also drop a video file or an image folder on the window.")

    def describe(self, spec: str) -> str:
        return describe_source(spec)

    def set_cameras(self, cameras: Sequence[int | GenICamCamera]) -> None:
        """List what *Find cameras* found: OpenCV camera indices and GenICam cameras (labelled with their model
        and serial), replacing the previous list but keeping the entry in use."""
        for index in range(self.count() - 1, -1, -1):
            data = str(self.itemData(index))
            if data.startswith(_CAMERA_SPECS) and data != self._current:
                self.removeItem(index)
        for position, camera in enumerate(cameras, start=1):
            spec = camera.spec if isinstance(camera, GenICamCamera) else f"camera:{camera}"
            label = camera.label if isinstance(camera, GenICamCamera) else describe_source(spec)
            existing = self.findData(spec)
            if existing < 0:
                self.insertItem(position, label, spec)
            else:
                self.setItemText(existing, label)

    def ask(self, action: str) -> str | None:
        if action == _ASK_VIDEO:
            path, _ = QFileDialog.getOpenFileName(self, "Open a video", "", VIDEO_FILTER)
            return path or None
        if action == _ASK_FOLDER:
            return QFileDialog.getExistingDirectory(self, "Open an image folder") or None
        url, ok = QInputDialog.getText(self, "Stream", "Stream URL (rtsp://user:pass@host/path or http://…):")
        return url.strip() if ok and url.strip() else None


class ModelPicker(_SpecCombo):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.addItem("Shipped GRACE model (grace-neu-det)", SHIPPED)
        self.addItem(f"Open model file ({describe_model_files()})…", _ASK_MODEL)
        self._current = SHIPPED

    def describe(self, spec: str) -> str:
        return "Shipped GRACE model (grace-neu-det)" if spec == SHIPPED else Path(spec).name

    def ask(self, action: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a model", "", MODEL_FILTER)
        return path or None
