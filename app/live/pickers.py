"""Source and model pickers: combo boxes whose entries carry the spec the core understands."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QInputDialog, QWidget

from grace_core.models import SHIPPED

_ASK_VIDEO, _ASK_FOLDER, _ASK_URL, _ASK_MODEL = "?video", "?folder", "?url", "?model"
VIDEO_FILTER = "Videos (*.mp4 *.avi *.mkv *.mov *.m4v *.wmv *.mpg *.mpeg *.webm);;All files (*)"
MODEL_FILTER = "Models (*.pt *.onnx *.xml);;All files (*)"


def describe_source(spec: str) -> str:
    if spec == "demo":
        return "Demo: built-in NEU-DET steel strip"
    if spec.startswith("camera:"):
        return f"Camera {spec.split(':', 1)[1]}"
    return spec


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

    def set_cameras(self, indices: list[int]) -> None:
        for index in range(self.count() - 1, -1, -1):
            if str(self.itemData(index)).startswith("camera:") and self.itemData(index) != self._current:
                self.removeItem(index)
        for camera in indices:
            spec = f"camera:{camera}"
            if self.findData(spec) < 0:
                self.insertItem(1, describe_source(spec), spec)

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
        self.addItem("Open model file (.pt, .onnx, OpenVINO .xml)…", _ASK_MODEL)
        self._current = SHIPPED

    def describe(self, spec: str) -> str:
        return "Shipped GRACE model (grace-neu-det)" if spec == SHIPPED else Path(spec).name

    def ask(self, action: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a model", "", MODEL_FILTER)
        return path or None
