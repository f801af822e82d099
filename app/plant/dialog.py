"""Settings ▸ Plant connection…: the station's name, the review store, the sinks and the coil source.

Every field is read by the core's own parser before the dialog accepts (:func:`app.settings.plant_errors`): a bad
one is marked with what is wrong and a valid example, and the dialog stays open. *Test connection* tries each thing
for real, briefly, in a background thread (:mod:`grace_core.plant.probe`): the store is opened read-only, an MQTT
broker is connected to (nothing published), an OPC UA port is checked, the coil source is followed for a moment.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.settings import PLANT_FIELDS, PlantSettings, plant_errors
from app.workers.oneshot import OneShot
from grace_core.plant.probe import Probe, probe_coil, probe_sink, probe_store
from grace_core.store.review_store import default_root, default_station

ERROR_STYLE = "QLabel { color: #b3261e; font-weight: bold; }"
HINT_STYLE = "QLabel { color: gray; }"
SINK_LINES = 4  # the sinks box shows this many lines before it scrolls


def run_probes(settings: PlantSettings) -> list[Probe]:
    """Every configured thing, tried in turn (a background thread's job: each may take a few seconds)."""
    probes = [probe_store(settings.store)]
    probes += [probe_sink(spec) for spec in settings.sinks]
    if settings.coil_from.strip():
        probes.append(probe_coil(settings.coil_from.strip()))
    return probes


class PlantSettingsDialog(QDialog):
    """Edits a copy of ``settings``; :meth:`settings` is what was entered. ``running``: inspection is running now
    (the dialog then says that applying restarts it)."""

    def __init__(self, settings: PlantSettings, running: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Plant connection")
        self.setMinimumWidth(720)
        self._test_job: OneShot | None = None
        self.probes: list[Probe] | None = None  # the last test's results
        self._build(running)
        self.station.setText(settings.station)
        self.store.setText(settings.store)
        self.sinks.setPlainText("\n".join(settings.sinks))
        self.coil_from.setText(settings.coil_from)

    def _build(self, running: bool) -> None:
        intro = QLabel(
            "How this station reports to the plant: the same settings as <code>grace detect --station --sink "
            "--coil-from</code>, and the review store flagged frames go to."
        )
        intro.setWordWrap(True)
        self.station = QLineEdit(placeholderText=f"empty: this computer's name ({default_station()})")
        self.store = QLineEdit(placeholderText=f"empty: this computer's store ({default_root()})")
        self.sinks = QPlainTextEdit()
        self.sinks.setPlaceholderText(
            "one per line, e.g.\nmqtt://broker:1883/plant/line1\nopcua://0.0.0.0:4840\njsonl:/data/line1/detections.jsonl"
        )
        self.sinks.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.sinks.setFixedHeight(self.sinks.fontMetrics().lineSpacing() * SINK_LINES + 12)
        self.sinks.setTabChangesFocus(True)
        self.coil_from = QLineEdit(placeholderText="empty: the operator types the coil; or mqtt://… / opc.tcp://…")
        self.editors = {"station": self.station, "store": self.store, "sinks": self.sinks, "coil_from": self.coil_from}
        hints = {
            "station": "Written into every flagged frame, event and message (a central store holds several stations).",
            "store": "A folder, sqlite:///PATH, or postgresql://USER@HOST:5432/DB for the plant's central store "
            "(frames wait in a local spool while it is unreachable).",
            "sinks": "mqtt://host:port/topic (events and status), opcua://host:port (a server for PLCs and SCADA), "
            "jsonl:/csv:/events:FILE, images:FOLDER, video:FILE.avi. Credentials: in the URL or GRACE_MQTT_USERNAME / "
            "GRACE_MQTT_PASSWORD.",
            "coil_from": 'The coil on the line, from the level-2 system: an MQTT topic (text or {"coil": …}) or an '
            "OPC UA node (opc.tcp://host:4840/ns=2;s=Line1.CoilId).",
        }
        self.errors: dict[str, QLabel] = {}
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for name, editor in self.editors.items():
            hint = QLabel(hints[name], wordWrap=True, styleSheet=HINT_STYLE)
            error = QLabel(wordWrap=True, styleSheet=ERROR_STYLE)
            error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            error.hide()
            self.errors[name] = error
            column = QVBoxLayout()
            column.setSpacing(2)
            for widget in (editor, error, hint):
                column.addWidget(widget)
            form.addRow(PLANT_FIELDS[name], column)
        self.test_button = QPushButton("Test connection")
        self.test_button.setToolTip("Open the store, connect to each broker, check each port, follow the coil source")
        self.test_result = QLabel(wordWrap=True, textFormat=Qt.TextFormat.RichText)
        self.test_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button, 0, Qt.AlignmentFlag.AlignTop)
        test_row.addWidget(self.test_result, 1)
        applies = (
            "Applying restarts inspection with these settings; the review tab opens the store."
            if running
            else "Inspection uses these settings from its next start; the review tab opens the store."
        )
        self.applies = QLabel(applies, wordWrap=True, styleSheet=HINT_STYLE)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Apply")
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addLayout(test_row)
        layout.addStretch(1)  # room a resize gives goes below the fields, not between them
        layout.addWidget(self.applies)
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.test_button.clicked.connect(self.test_connection)

    def settings(self) -> PlantSettings:
        """What the fields hold (blank sink lines left out)."""
        lines = [line.strip() for line in self.sinks.toPlainText().splitlines()]
        return PlantSettings(
            station=self.station.text().strip(),
            store=self.store.text().strip(),
            sinks=[line for line in lines if line],
            coil_from=self.coil_from.text().strip(),
        )

    def validate(self) -> dict[str, str]:
        """Mark each bad field with what is wrong (named, with an example); returns field → message."""
        errors = plant_errors(self.settings())
        for name, label in self.errors.items():
            message = errors.get(name)
            label.setText(f"{PLANT_FIELDS[name]}: {message}" if message else "")
            label.setVisible(message is not None)
        if errors:
            self.editors[next(iter(errors))].setFocus()
        self._fit()
        return errors

    def _fit(self) -> None:
        """Grow to show every message whole (wrapped labels do not ask for more height by themselves)."""
        self.layout().activate()
        self.resize(self.width(), max(self.height(), self.sizeHint().height()))

    def accept(self) -> None:
        if self.validate():
            return  # stays open: the messages say what to change
        super().accept()

    def test_connection(self) -> OneShot | None:
        """Try the settings for real in a background thread; the result shows beside the button."""
        if self._test_job is not None or self.validate():
            return None
        settings = self.settings()
        self.test_button.setEnabled(False)
        self.test_result.setText("Testing…")
        job = OneShot(lambda: run_probes(settings), "plant-test", self)
        job.done.connect(self._show_probes)
        job.failed.connect(self._test_failed)
        self._test_job = job
        return job.start()

    @property
    def testing(self) -> bool:
        return self._test_job is not None

    def _show_probes(self, probes: list[Probe]) -> None:
        self._test_job = None
        self.probes = probes
        self.test_button.setEnabled(True)
        rows = "".join(
            f"<div style='color:{'#1b7f3b' if p.ok else '#b3261e'}'><b>{'✔' if p.ok else '✘'} {escape(p.what)}</b>"
            f": {escape(p.message)}</div>"
            for p in probes
        )
        self.test_result.setText(rows)
        self._fit()

    def _test_failed(self, message: str) -> None:
        self._test_job = None
        self.test_button.setEnabled(True)
        self.test_result.setText(f"<span style='color:#b3261e'>The test itself failed: {escape(message)}</span>")

    def done(self, result: int) -> None:
        """Closing waits for a test still running (each probe is bounded), so its thread never outlives the dialog."""
        job = self._test_job
        if job is not None:
            job.join(30.0)
        super().done(result)
