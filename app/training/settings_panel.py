"""Run settings: architecture (GRACE or the YOLO11 baseline, scale n/s), sampler, weights, epochs, size, batch …"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from app.review.folders import documents_dir
from app.settings import TrainingSettings
from grace_core.training.job import TrainJob


def model_name(scale: str, lite_fen: bool) -> str:
    """The registry name: Lite-FEN on is GRACE, off is the YOLO11 baseline of the same scale."""
    return f"grace-{scale}" if lite_fen else f"yolo11{scale}"


def describe_model(scale: str, lite_fen: bool, dscbsm: bool) -> str:
    arch = f"GRACE-{scale} (YOLO11{scale} + Lite-FEN)" if lite_fen else f"YOLO11{scale} baseline"
    return f"{arch}, {'DS-CBSM++ sampling' if dscbsm else 'uniform sampling'}"


class RunSettingsPanel(QGroupBox):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Run settings", parent)
        self.scale = QComboBox()
        self.scale.addItem("n — fast (2.6 M params)", "n")
        self.scale.addItem("s — the paper's (9.5 M params)", "s")
        self.lite_fen = QCheckBox("Lite-FEN attention at P3")
        self.dscbsm = QCheckBox("DS-CBSM++ dynamic sampling")
        self.dscbsm.toggled.connect(lambda on: self.warmup.setEnabled(on))
        self.summary = QLabel()
        self.summary.setStyleSheet("font-weight: bold;")
        self.weights = QLineEdit(placeholderText="none: train from scratch")
        self.weights.setToolTip("pretrained weights (.pt) to start from, if you have them; nothing is downloaded")
        self.weights_button = QPushButton("…", clicked=self._ask_weights)
        self.weights_button.setMaximumWidth(32)
        weights_row = QHBoxLayout()
        weights_row.addWidget(self.weights, 1)
        weights_row.addWidget(self.weights_button)
        self.epochs = QSpinBox(minimum=1, maximum=2000)
        self.imgsz = QSpinBox(minimum=32, maximum=2048, singleStep=32)
        self.imgsz.setToolTip("multiples of 32; NEU-DET images are 200×200, so 224 keeps every pixel")
        self.batch = QSpinBox(minimum=1, maximum=512)
        self.device = QComboBox()
        self.device.addItem("cpu")
        self.seed = QSpinBox(minimum=0, maximum=2**31 - 1)
        self.warmup = QSpinBox(minimum=0, maximum=1000)
        self.warmup.setToolTip("epochs of uniform sampling before DS-CBSM++ starts steering (it needs signals first)")
        self.workers = QSpinBox(minimum=0, maximum=64)
        self.workers.setToolTip("data-loading processes; 0 loads in the training process")
        self.name = QLineEdit(placeholderText="automatic (model-sampler)")

        form = QFormLayout(self)
        form.addRow("Scale", self.scale)
        form.addRow(self.lite_fen)
        form.addRow(self.dscbsm)
        form.addRow(self.summary)
        form.addRow("Pretrained", weights_row)
        form.addRow("Epochs", self.epochs)
        form.addRow("Image size", self.imgsz)
        form.addRow("Batch", self.batch)
        form.addRow("Device", self.device)
        form.addRow("Seed", self.seed)
        form.addRow("DS-CBSM++ warm-up", self.warmup)
        form.addRow("Loader workers", self.workers)
        form.addRow("Run name", self.name)
        for signal in (
            self.scale.currentIndexChanged,
            self.lite_fen.toggled,
            self.dscbsm.toggled,
            self.weights.editingFinished,
            self.epochs.valueChanged,
            self.imgsz.valueChanged,
            self.batch.valueChanged,
            self.device.currentIndexChanged,
            self.seed.valueChanged,
            self.warmup.valueChanged,
            self.workers.valueChanged,
        ):
            signal.connect(self._on_changed)
        self._loading = False
        self.load(TrainingSettings())

    def set_devices(self, devices: list[str]) -> None:
        current = self.device.currentText()
        self.device.clear()
        self.device.addItems(devices)
        self.device.setCurrentIndex(max(0, self.device.findText(current)))

    def load(self, settings: TrainingSettings) -> None:
        """Show ``settings`` (without emitting ``changed`` for each field: a half-loaded form is no setting)."""
        self._loading = True
        try:
            self._load(settings)
        finally:
            self._loading = False
        self._show_summary()

    def _load(self, settings: TrainingSettings) -> None:
        self.scale.setCurrentIndex(max(0, self.scale.findData(settings.scale)))
        self.lite_fen.setChecked(settings.lite_fen)
        self.dscbsm.setChecked(settings.dscbsm)
        self.weights.setText(settings.weights)
        self.epochs.setValue(settings.epochs)
        self.imgsz.setValue(settings.imgsz)
        self.batch.setValue(settings.batch)
        if self.device.findText(settings.device) < 0:
            self.device.addItem(settings.device)
        self.device.setCurrentText(settings.device)
        self.seed.setValue(settings.seed)
        self.warmup.setValue(settings.dscbsm_warmup)
        self.workers.setValue(settings.workers)

    def store(self, settings: TrainingSettings) -> None:
        settings.scale = str(self.scale.currentData())
        settings.lite_fen = self.lite_fen.isChecked()
        settings.dscbsm = self.dscbsm.isChecked()
        settings.weights = self.weights.text().strip()
        settings.epochs = self.epochs.value()
        settings.imgsz = self.imgsz.value()
        settings.batch = self.batch.value()
        settings.device = self.device.currentText()
        settings.seed = self.seed.value()
        settings.dscbsm_warmup = self.warmup.value()
        settings.workers = self.workers.value()

    def job(self, data: str, project: str) -> TrainJob:
        """The training job these settings describe, for dataset ``data``, saved under ``project``."""
        return TrainJob(
            data=data,
            model=model_name(str(self.scale.currentData()), self.lite_fen.isChecked()),
            epochs=self.epochs.value(),
            imgsz=self.imgsz.value(),
            batch=self.batch.value(),
            device=self.device.currentText(),
            seed=self.seed.value(),
            workers=self.workers.value(),
            dscbsm_warmup=self.warmup.value(),
            sampler="dscbsm" if self.dscbsm.isChecked() else "uniform",
            weights=self.weights.text().strip() or None,
            project=project,
            name=self.name.text().strip() or None,
        )

    def _on_changed(self, *_: object) -> None:
        self._show_summary()
        if not self._loading:
            self.changed.emit()

    def _show_summary(self) -> None:
        self.summary.setText(
            describe_model(str(self.scale.currentData()), self.lite_fen.isChecked(), self.dscbsm.isChecked())
        )

    def _ask_weights(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Pretrained weights", documents_dir(), "Checkpoints (*.pt);;All files (*)"
        )
        if path:
            self.weights.setText(path)
            self._on_changed()
