"""The golden-sample check at a glance: when the station last passed it (read from the review store's audit
trail, :func:`grace_core.golden.last_golden_check`), and *Run golden check*.

Green when the latest check passed within ``DUE_AFTER_H`` hours (a shift), amber when it passed longer ago or was
never run, red when the latest check failed — with its reasons — or could not be run.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget

from grace_core.golden import GoldenResult, LastGoldenCheck

DUE_AFTER_H = 12.0  # a check older than a shift is due again
STYLE = {
    "pass": "color:#1e7d32; font-weight:bold;",
    "due": "color:#9a6700; font-weight:bold;",
    "fail": "color:#b3261e; font-weight:bold;",
    "busy": "",
}


def when(at: float, now: float | None = None) -> str:
    """E.g. "07:02 (3 h ago)", "yesterday 22:10 (9 h ago)", "2024-05-02 07:02 (5 days ago)"."""
    now = time.time() if now is None else now
    local, today = time.localtime(at), time.localtime(now)
    clock = time.strftime("%H:%M", local)
    if local.tm_yday == today.tm_yday and local.tm_year == today.tm_year:
        day = clock
    elif 0 < now - at < 48 * 3600 and time.localtime(now - 86400).tm_yday == local.tm_yday:
        day = f"yesterday {clock}"
    else:
        day = time.strftime("%Y-%m-%d %H:%M", local)
    age = max(0.0, now - at)
    if age < 3600:
        ago = f"{int(age // 60)} min ago"
    elif age < 48 * 3600:
        ago = f"{int(age // 3600)} h ago"
    else:
        ago = f"{int(age // 86400)} days ago"
    return f"{day} ({ago})"


def describe_last(last: LastGoldenCheck | None, now: float | None = None) -> tuple[str, str, str]:
    """(level, text, tooltip) for the latest recorded check."""
    if last is None:
        return "due", "Golden check: never run", "No golden-sample check is recorded in this review store."
    summary = str(last.detail.get("summary", ""))
    if not last.passed:
        reasons = "; ".join(str(r) for r in last.detail.get("reasons", ())) or summary
        return "fail", f"Golden check FAILED {when(last.time, now)}: {reasons}", summary
    now = time.time() if now is None else now
    level = "pass" if now - last.time <= DUE_AFTER_H * 3600 else "due"
    due = "" if level == "pass" else " — due again"
    return level, f"Golden check passed {when(last.time, now)}{due}", summary


class GoldenStatus(QWidget):
    run_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.level = "due"
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.run_button = QPushButton("Run golden check")
        self.run_button.setToolTip(
            "Run the station's reference images through the live model and thresholds (beside inspection, which goes "
            "on) and record the result in the audit trail"
        )
        self.run_button.clicked.connect(self.run_clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.run_button)
        self.show_last(None)

    def show_last(self, last: LastGoldenCheck | None) -> None:
        self._show(*describe_last(last))

    def show_running(self, done: int = 0, total: int = 0) -> None:
        self.run_button.setEnabled(False)
        progress = f" {done}/{total} images" if total else ""
        self._show("busy", f"Golden check running…{progress}", "The live model is checked on the reference images")

    def show_result(self, result: GoldenResult, record_error: str | None = None) -> None:
        """A check just run (shown even when it could not be recorded, which is then said)."""
        last = LastGoldenCheck(result.checked_at, result.passed, result.to_details())
        level, text, tip = describe_last(last)
        if record_error:
            text += " (NOT recorded in the audit trail)"
            tip += f"\n\nNot recorded: {record_error}"
        self._show(level, text, tip)

    def show_error(self, message: str) -> None:
        self._show("fail", f"Golden check could not run: {message}", message)

    def _show(self, level: str, text: str, tooltip: str) -> None:
        self.level = level
        if level != "busy":
            self.run_button.setEnabled(True)
        self.label.setText(text)
        self.label.setToolTip(text + ("\n\n" + tooltip if tooltip and tooltip != text else ""))
        self.label.setStyleSheet(f"QLabel {{ {STYLE[level]} }}")
