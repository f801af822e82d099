"""The confirmations in front of the live model: promoting a run (Δ shown; a typed reason when it is worse) and
rolling back. Both are real dialogs the engineer answers; nothing reaches the live tab without them.

The rule that decides "worse" is :func:`grace_core.training.compare.check_promotion`.
"""

from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from grace_core.training.compare import CLASS_MARGIN, ComparisonRow, PromotionCheck

DELTA_COLUMNS = ("class", "run AP50-95", "live AP50-95", "Δ AP50-95", "run AP50", "live AP50", "Δ AP50")
GREEN, RED = "#1b7f3b", "#b00020"


def _points(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.2f}"


def _delta(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:+.2f}"


class PromotionDialog(QDialog):
    """Asks "make run R the live model?" with the Δ overall and per class. When the run is worse (or not
    comparable) the verdict says why and the confirm button stays disabled until a reason is typed."""

    def __init__(
        self,
        run_name: str,
        model_file: str,
        live_model: str,
        rows: list[ComparisonRow],
        check: PromotionCheck,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.check = check
        self.setWindowTitle("Make it the live model?")
        self.setMinimumWidth(640)
        intro = QLabel(
            f"Run <b>{run_name}</b> → live model<br>file: {model_file}<br>live now: {live_model}", wordWrap=True
        )
        self.delta_table = _delta_table(rows)
        self.verdict = QLabel(_verdict_text(check), wordWrap=True)
        self.verdict.setStyleSheet(f"color: {RED if check.needs_reason else GREEN}; font-weight: bold;")
        self.reason_label = QLabel(
            "Reason for making it live anyway (required; recorded in the audit log with your name):", wordWrap=True
        )
        self.reason_edit = QPlainTextEdit()
        self.reason_edit.setPlaceholderText("e.g. the live model misses the new defect class; approved by …")
        self.reason_edit.setMaximumHeight(80)
        self.reason_label.setVisible(check.needs_reason)
        self.reason_edit.setVisible(check.needs_reason)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        confirm = "Make it live anyway" if check.needs_reason else "Make it the live model"
        self.confirm_button: QPushButton = self.buttons.addButton(confirm, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setDefault(True)  # Enter never promotes
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.reason_edit.textChanged.connect(self._update)
        layout = QVBoxLayout(self)
        for widget in (intro, self.delta_table, self.verdict, self.reason_label, self.reason_edit, self.buttons):
            layout.addWidget(widget)
        self._update()

    def reason(self) -> str | None:
        """The override reason typed (None when none was needed)."""
        return self.reason_edit.toPlainText().strip() if self.check.needs_reason else None

    def _update(self) -> None:
        self.confirm_button.setEnabled(not self.check.needs_reason or bool(self.reason_edit.toPlainText().strip()))


def _verdict_text(check: PromotionCheck) -> str:
    if not check.comparable:
        return "No like-for-like comparison: " + "; ".join(check.reasons) + ". Nothing shows it is not worse."
    if check.worse:
        return "Worse than the live model: " + "; ".join(check.reasons) + "."
    return (
        "Not worse than the live model: overall mAP50-95 and mAP50 are not lower, and no class loses more than "
        f"{100 * CLASS_MARGIN:.1f} AP points."
    )


def _delta_table(rows: list[ComparisonRow]) -> QTableWidget:
    table = QTableWidget(len(rows), len(DELTA_COLUMNS))
    table.setHorizontalHeaderLabels(DELTA_COLUMNS)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    for index, row in enumerate(rows):
        cells = [
            (row.name, None),
            (_points(row.candidate_ap50_95), None),
            (_points(row.live_ap50_95), None),
            (_delta(row.delta_ap50_95), row.delta_ap50_95),
            (_points(row.candidate_ap50), None),
            (_points(row.live_ap50), None),
            (_delta(row.delta_ap50), row.delta_ap50),
        ]
        for column, (text, delta) in enumerate(cells):
            item = QTableWidgetItem(text)
            if delta is not None:
                item.setForeground(QColor(GREEN if delta >= 0 else RED))
            table.setItem(index, column, item)
    return table


def confirm_rollback(parent: QWidget | None, live_model: str, previous_model: str) -> bool:
    """Ask before putting the previous model back live (Cancel is the default)."""
    box = QMessageBox(
        QMessageBox.Icon.Question,
        "Roll back the live model?",
        f"Put {previous_model} back as the live model, in place of {live_model}?\n\n"
        "The live tab loads and checks it first; if it does not load, the live model stays as it is. "
        "The rollback is recorded in the audit log with your name.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
        parent,
    )
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    answer = box.exec()
    box.deleteLater()
    return answer == QMessageBox.StandardButton.Yes
