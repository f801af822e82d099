"""The review tab: flagged frames from the review store, filters, the frame with its boxes and heatmap, and
keyboard-first verdicts and box corrections — every change audited with the reviewer's name.

Keys (while the tab has focus): D defect · F false alarm · U unsure · N / P next / previous unreviewed ·
↑ / ↓ previous / next in the list · H heatmap · B draw a missed box · Delete remove the selected box.
"""

from __future__ import annotations

import getpass
import logging
import time
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.banner import Banner
from app.imaging import bgr_to_qimage, strength_to_qimage
from app.live.frame_view import DrawnBox
from app.review.frame_list import FrameListModel
from app.review.review_view import ReviewView
from app.workers.progress_job import ProgressJob
from grace_core.errors import GraceError, StoreError
from grace_core.paths import free_path, user_data_dir
from grace_core.store import FrameFilter, NoStoreError, ReviewStore, db
from grace_core.store.facets import Facets
from grace_core.store.records import DetectionRecord, FrameRecord
from grace_core.store.review_store import default_root

log = logging.getLogger(__name__)

ANY = "any"
PERIODS = {"all time": None, "last 8 hours (shift)": 8 * 3600, "last 24 hours": 24 * 3600, "last 7 days": 7 * 86400}
VERDICT_FILTERS = {
    "unreviewed": {"reviewed": False},
    "reviewed": {"reviewed": True},
    "defect": {"verdict": "defect"},
    "false alarm": {"verdict": "false_alarm"},
    "unsure": {"verdict": "unsure"},
}
VERDICT_KEYS = {"D": "defect", "F": "false_alarm", "U": "unsure"}
BOX_COLUMNS = ("class", "score", "origin", "x1", "y1", "x2", "y2")


class ReviewTab(QWidget):
    dataset_exported = Signal(str)  # data.yaml of an exported dataset, ready for the training tab

    def __init__(self, store_root: Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store_root = store_root or default_root()
        self.store: ReviewStore | None = None
        self.model = FrameListModel(self)
        self.current: FrameRecord | None = None
        self.boxes: list[DetectionRecord] = []
        self.facets = Facets((), (), ())
        self._jobs: list[ProgressJob] = []
        self.last_export = None
        self.last_report = None
        self._build()
        self._connect()

    # -- layout ---------------------------------------------------------------------------------------------------

    def _build(self) -> None:
        self.class_filter = QComboBox()
        self.verdict_filter = QComboBox()
        self.verdict_filter.addItems([ANY, *VERDICT_FILTERS])
        self.uncertain_only = QCheckBox("uncertain only")
        self.period = QComboBox()
        self.period.addItems(list(PERIODS))
        self.source_filter = QComboBox()
        self.model_filter = QComboBox()
        self.refresh_button = QPushButton("Refresh")
        filters = QHBoxLayout()
        for label, widget in (
            ("Class", self.class_filter),
            ("Verdict", self.verdict_filter),
            ("When", self.period),
            ("Source", self.source_filter),
            ("Model", self.model_filter),
        ):
            filters.addWidget(QLabel(label))
            filters.addWidget(widget)
        filters.addWidget(self.uncertain_only)
        filters.addStretch(1)
        filters.addWidget(self.refresh_button)

        self.count_label = QLabel()
        self.list = QTableView()
        self.list.setModel(self.model)
        self.list.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.verticalHeader().setVisible(False)
        self.list.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.list.horizontalHeader().setStretchLastSection(True)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.count_label)
        left_layout.addWidget(self.list, 1)

        self.view = ReviewView()
        self.view.placeholder = "No flagged frame selected"
        self.heat_toggle = QCheckBox("Heatmap (H)")
        self.heat_toggle.setChecked(True)
        self.draw_button = QPushButton("Draw missed box (B)", checkable=True)
        self.new_box_class = QComboBox()
        self.new_box_class.setToolTip("class of the box you draw")
        self.frame_info = QLabel(wordWrap=True)
        view_bar = QHBoxLayout()
        view_bar.addWidget(self.heat_toggle)
        view_bar.addWidget(self.draw_button)
        view_bar.addWidget(self.new_box_class)
        view_bar.addStretch(1)
        view_bar.addWidget(QLabel("wheel: zoom · right-drag: pan · double-click: fit"))
        centre = QWidget()
        centre_layout = QVBoxLayout(centre)
        centre_layout.setContentsMargins(0, 0, 0, 0)
        centre_layout.addLayout(view_bar)
        centre_layout.addWidget(self.view, 1)
        centre_layout.addWidget(self.frame_info)

        self.box_table = QTableWidget(0, len(BOX_COLUMNS))
        self.box_table.setHorizontalHeaderLabels(BOX_COLUMNS)
        self.box_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.box_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.box_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.box_table.verticalHeader().setVisible(False)
        self.box_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.relabel_class = QComboBox()
        self.relabel_button = QPushButton("Set class")
        self.delete_button = QPushButton("Delete box (Del)")
        box_bar = QHBoxLayout()
        box_bar.addWidget(self.relabel_class, 1)
        box_bar.addWidget(self.relabel_button)
        box_bar.addWidget(self.delete_button)
        self.defect_button = QPushButton("Defect (D)")
        self.false_alarm_button = QPushButton("False alarm (F)")
        self.unsure_button = QPushButton("Unsure (U)")
        verdicts = QHBoxLayout()
        for button in (self.defect_button, self.false_alarm_button, self.unsure_button):
            verdicts.addWidget(button)
        self.comment = QLineEdit(placeholderText="comment (saved with the verdict)")
        self.reviewer = QLineEdit(getpass.getuser())
        self.previous_button = QPushButton("◀ Previous unreviewed (P)")
        self.next_button = QPushButton("Next unreviewed (N) ▶")
        navigation = QHBoxLayout()
        navigation.addWidget(self.previous_button)
        navigation.addWidget(self.next_button)
        self.verdict_label = QLabel()
        self.verdict_label.setStyleSheet("font-weight: bold;")
        self.export_button = QPushButton("Export reviewed frames…")
        self.report_button = QPushButton("Shift report…")
        right = QWidget()
        form = QFormLayout(right)
        form.addRow(QLabel("<b>Boxes</b>"))
        form.addRow(self.box_table)
        form.addRow(box_bar)
        form.addRow(QLabel("<b>Verdict</b>"))
        form.addRow(self.verdict_label)
        form.addRow(verdicts)
        form.addRow("Comment", self.comment)
        form.addRow("Reviewer", self.reviewer)
        form.addRow(navigation)
        form.addRow(QLabel("<b>Turn reviews into data</b>"))
        form.addRow(self.export_button)
        form.addRow(self.report_button)

        self.banner = Banner()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        for widget in (left, centre, right):
            self.splitter.addWidget(widget)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([430, 650, 360])
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addLayout(filters)
        layout.addWidget(self.splitter, 1)
        self._set_frame_controls(False)

    def _connect(self) -> None:
        for combo in (self.class_filter, self.verdict_filter, self.period, self.source_filter, self.model_filter):
            combo.currentIndexChanged.connect(lambda *_: self.apply_filters())
        self.uncertain_only.toggled.connect(lambda *_: self.apply_filters())
        self.refresh_button.clicked.connect(self.refresh)
        self.list.selectionModel().currentRowChanged.connect(lambda current, _: self._show_row(current.row()))
        self.heat_toggle.toggled.connect(self.view.set_heat_visible)
        self.draw_button.toggled.connect(self.view.set_draw_mode)
        self.view.box_drawn.connect(self._add_drawn_box)
        self.relabel_button.clicked.connect(self.relabel_selected_box)
        self.delete_button.clicked.connect(self.delete_selected_box)
        self.box_table.itemSelectionChanged.connect(self._highlight_box)
        self.defect_button.clicked.connect(lambda: self.set_verdict("defect"))
        self.false_alarm_button.clicked.connect(lambda: self.set_verdict("false_alarm"))
        self.unsure_button.clicked.connect(lambda: self.set_verdict("unsure"))
        self.next_button.clicked.connect(lambda: self.go_to_unreviewed(+1))
        self.previous_button.clicked.connect(lambda: self.go_to_unreviewed(-1))
        shortcuts = {
            **{key: (lambda v=verdict: self.set_verdict(v)) for key, verdict in VERDICT_KEYS.items()},
            "N": lambda: self.go_to_unreviewed(+1),
            "P": lambda: self.go_to_unreviewed(-1),
            "H": self.heat_toggle.toggle,
            "B": self.draw_button.toggle,
            "Delete": self.delete_selected_box,
        }
        for key, action in shortcuts.items():
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(action)
        self.comment.returnPressed.connect(lambda: self.list.setFocus())
        self.export_button.clicked.connect(self._ask_export)
        self.report_button.clicked.connect(self._ask_report)

    # -- store and filters ----------------------------------------------------------------------------------------

    def open_store(self) -> bool:
        """Open the store if there is one (the live tab creates it with its first flagged frame); never create one.

        Anything else — not a store, damaged, newer — is said in the banner, and the list says it cannot be read,
        so that an unreadable store never looks like a store without frames.
        """
        if self.store is not None:
            return True
        try:
            self.store = ReviewStore.open_existing(self.store_root, readonly=False)  # it records verdicts
        except NoStoreError as error:
            if error.found_file:  # a file that is not a store: left exactly as it is
                self._show_unreadable("warning", f"Cannot list flagged frames: {error}.")
            else:
                note = f"No flagged frames yet: the live tab saves them to {self.store_root}."
                self.banner.show_message("info", note)
            return False
        except (GraceError, OSError) as error:
            self._show_unreadable("error", f"Cannot open the review store {self.store_root}: {error}")
            return False
        self.banner.clear_message()
        return True

    def refresh(self) -> None:
        """Re-read the facets and the list (new frames from the live tab), keeping the selected frame if listed."""
        if not self.open_store() or self.store is None:
            return
        try:
            with db.store_errors(self.store.db_path):  # damage met after the open's check: say so, don't list nothing
                self._refill_filters()
                self.apply_filters()
        except StoreError as error:
            self._close_store()
            self._show_unreadable("error", f"Cannot read the review store {self.store_root}: {error}")

    def _refill_filters(self) -> None:
        assert self.store is not None
        self.facets = self.store.facets()
        for combo, values in (
            (self.class_filter, self.facets.class_names),
            (self.source_filter, self.facets.sources),
            (self.model_filter, self.facets.models),
        ):
            _refill(combo, [ANY, *values])
        for combo in (self.new_box_class, self.relabel_class):
            _refill(combo, list(self.facets.class_names))

    def _show_unreadable(self, level: str, message: str) -> None:
        """The banner says why; the list is emptied and says it could not be read (not "0 flagged frames")."""
        self.banner.show_message(level, message)
        self.model.reset(None, FrameFilter())
        self.count_label.setText("The review store cannot be read: see the message above.")
        self.current = None
        self.view.clear(message)
        self._set_frame_controls(False)

    def _close_store(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None

    def current_filter(self) -> FrameFilter:
        values: dict = dict(VERDICT_FILTERS.get(self.verdict_filter.currentText(), {}))
        if self.class_filter.currentText() not in ("", ANY):
            values["class_name"] = self.class_filter.currentText()
        if self.source_filter.currentText() not in ("", ANY):
            values["source_id"] = self.source_filter.currentText()
        if self.model_filter.currentText() not in ("", ANY):
            values["model_id"] = self.model_filter.currentText()
        if self.uncertain_only.isChecked():
            values["status"] = "uncertain"
        seconds = PERIODS.get(self.period.currentText())
        if seconds is not None:
            values["since"] = time.time() - seconds
        return FrameFilter(**values)

    def apply_filters(self) -> None:
        if self.store is None:
            return
        keep = self.current.id if self.current is not None else None
        self.model.reset(self.store, self.current_filter())
        self.count_label.setText(f"{self.model.total} flagged frames (newest first)")
        row = self.model.row_of(keep) if keep is not None else None
        self.select_row(row if row is not None else 0)

    def select_row(self, row: int) -> None:
        if not 0 <= row < self.model.rowCount():
            self.current = None
            self.view.clear("No flagged frame matches the filters")
            self._set_frame_controls(False)
            return
        index = self.model.index(row, 0)
        self.list.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        )
        self.list.scrollTo(index)
        self._show_row(row)

    # -- the frame ------------------------------------------------------------------------------------------------

    def _show_row(self, row: int) -> None:
        record = self.model.record(row)
        if record is None or self.store is None:
            return
        self.current = record
        try:
            image = self.store.load_image(record.id)
            heat = self.store.load_heatmap(record.id)
        except (OSError, GraceError) as error:
            self.view.clear(f"Cannot read frame {record.id}: {error}")
            return
        self.view.show_frame(bgr_to_qimage(image), strength_to_qimage(heat) if heat is not None else None)
        self.view.reset_view()
        self._show_boxes()
        self.comment.setText(record.comment or "")
        when = time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(record.captured_at))
        self.frame_info.setText(
            f"Frame {record.id} · {when} · {record.source_id} (frame {record.frame_index}) · "
            f"{record.width}×{record.height} · flagged {record.status} by {record.model_id} ({record.model_hash[:10]})"
        )
        self._show_verdict()
        self._set_frame_controls(True)

    def _show_boxes(self) -> None:
        if self.current is None or self.store is None:
            return
        self.boxes = self.store.detections(self.current.id)
        self.box_table.setRowCount(len(self.boxes))
        for row, box in enumerate(self.boxes):
            values = (box.class_name, f"{box.confidence:.3f}", box.origin, *(f"{v:.0f}" for v in box.xyxy))
            for column, value in enumerate(values):
                self.box_table.setItem(row, column, QTableWidgetItem(value))
        self._draw_boxes()

    def _draw_boxes(self, highlight: int | None = None) -> None:
        """All boxes solid; with a box selected in the table, that one solid and the others dashed."""
        drawn = []
        for index, box in enumerate(self.boxes):
            label = f"{box.class_name} {box.confidence:.2f}" if box.origin == "model" else f"{box.class_name} (added)"
            dashed = highlight is not None and index != highlight
            class_id = self._class_index(box.class_name, box.class_id)
            drawn.append(DrawnBox(*box.xyxy, label=label, class_id=class_id, uncertain=dashed))
        self.view.set_boxes(drawn)

    def _class_index(self, name: str, fallback: int) -> int:
        names = self.facets.class_names
        return names.index(name) if name in names else fallback

    def _highlight_box(self) -> None:
        row = self.selected_box_row()
        self._draw_boxes(highlight=row)

    def _show_verdict(self) -> None:
        record = self.current
        if record is None:
            self.verdict_label.clear()
            return
        if record.verdict is None:
            self.verdict_label.setText("not reviewed yet")
        else:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(record.reviewed_at or 0))
            self.verdict_label.setText(f"{record.verdict.replace('_', ' ')} (reviewed {when})")

    def _set_frame_controls(self, enabled: bool) -> None:
        for widget in (
            self.defect_button,
            self.false_alarm_button,
            self.unsure_button,
            self.comment,
            self.draw_button,
            self.relabel_button,
            self.delete_button,
        ):
            widget.setEnabled(enabled)

    # -- actions --------------------------------------------------------------------------------------------------

    def reviewer_name(self) -> str:
        return self.reviewer.text().strip() or getpass.getuser()

    def set_verdict(self, verdict: str) -> None:
        """Record the verdict and comment for the shown frame, then move on to the next unreviewed frame."""
        if self.current is None or self.store is None:
            return
        row = self.model.row_of(self.current.id)
        text = self.comment.text().strip()
        comment = text if text or self.current.comment else None  # empty box on a frame without one: no comment
        self._guard(lambda: self.store.set_verdict(self.current.id, verdict, self.reviewer_name(), comment))
        if row is not None:
            self.model.refresh_row(row)
            self.current = self.model.record(row)
            self._show_verdict()
        self.go_to_unreviewed(+1, stay_if_none=True)

    def go_to_unreviewed(self, step: int, stay_if_none: bool = False) -> None:
        start = self.model.row_of(self.current.id) if self.current is not None else -1
        row = (start if start is not None else -1) + step
        while row >= 0:
            while row >= self.model.rowCount() and self.model.canFetchMore(self.list.rootIndex()):
                self.model.fetchMore(self.list.rootIndex())
            record = self.model.record(row)
            if record is None:
                break
            if not record.reviewed:
                self.select_row(row)
                return
            row += step
        if not stay_if_none:
            self.banner.show_message("info", "No more unreviewed frames in this direction.")

    def selected_box_row(self) -> int | None:
        rows = {index.row() for index in self.box_table.selectionModel().selectedRows()}
        return min(rows) if rows else None

    def delete_selected_box(self) -> None:
        row = self.selected_box_row()
        if row is None or self.store is None or row >= len(self.boxes):
            return
        self._guard(lambda: self.store.delete_box(self.boxes[row].id, self.reviewer_name()))
        self._after_box_change()

    def relabel_selected_box(self) -> None:
        row = self.selected_box_row()
        name = self.relabel_class.currentText()
        if row is None or self.store is None or row >= len(self.boxes) or not name:
            return
        class_id = self._class_index(name, 0)
        self._guard(lambda: self.store.relabel_box(self.boxes[row].id, class_id, name, self.reviewer_name()))
        self._after_box_change()

    def _add_drawn_box(self, x1: float, y1: float, x2: float, y2: float) -> None:
        name = self.new_box_class.currentText()
        if self.current is None or self.store is None or not name:
            return
        class_id = self._class_index(name, 0)
        self._guard(lambda: self.store.add_box(self.current.id, class_id, name, (x1, y1, x2, y2), self.reviewer_name()))
        self.draw_button.setChecked(False)
        self._after_box_change()

    def _after_box_change(self) -> None:
        self._show_boxes()
        row = self.model.row_of(self.current.id) if self.current is not None else None
        if row is not None:
            self.model.refresh_row(row)

    # -- export and report (core work in a background thread with its own store connection) --------------------

    def export_to(self, out: str, merge_with: str | None = None) -> ProgressJob:
        """Export the reviewed frames to a new YOLO dataset at ``out`` (optionally merged with ``merge_with``)."""
        from grace_core.review.export import export_reviewed

        root = self.store_root

        def work(progress):
            with ReviewStore.open_existing(root) as store:  # read-only, its own connection in the worker thread
                return export_reviewed(store, Path(out), merge_with=Path(merge_with) if merge_with else None,
                                       progress=progress)  # fmt: skip

        return self._run(work, "review-export", self._exported)

    def write_report(self, folder: str) -> ProgressJob:
        """A shift report (CSV and HTML) for the period and source chosen in the filters, into ``folder``."""
        from grace_core.review.report import shift_report, write_csv, write_html

        root, where = self.store_root, self.current_filter()
        stem = Path(folder) / time.strftime("grace-report-%Y%m%d-%H%M%S")

        def work(progress):
            with ReviewStore.open_existing(root) as store:
                report = shift_report(store, where.since, where.until, where.source_id)
            csv_path, html_path = stem.with_suffix(".csv"), stem.with_suffix(".html")
            write_csv(report, csv_path)
            write_html(report, html_path)
            return csv_path, html_path

        return self._run(work, "review-report", self._reported)

    def _run(self, work, name: str, on_done) -> ProgressJob:
        job = ProgressJob(work, name, self)
        job.done.connect(on_done)
        job.failed.connect(lambda message: self.banner.show_message("error", message))
        job.done.connect(lambda *_: self._jobs.remove(job) if job in self._jobs else None)
        job.failed.connect(lambda *_: self._jobs.remove(job) if job in self._jobs else None)
        self._jobs.append(job)
        self.banner.show_message("info", "Working…")
        return job.start()

    def _exported(self, report) -> None:
        data_yaml = str(report.data_yaml)
        self.last_export = report
        self.banner.show_message("info", f"Exported the reviewed frames to {data_yaml}; opened in the training tab.")
        self.dataset_exported.emit(data_yaml)

    def _reported(self, paths) -> None:
        self.last_report = paths
        self.banner.show_message("info", "Report written: " + " and ".join(str(p) for p in paths))

    def _ask_export(self) -> None:
        default = free_path(user_data_dir() / "datasets", time.strftime("reviewed-%Y%m%d-%H%M"))
        out = QFileDialog.getSaveFileName(self, "Export reviewed frames to a new dataset folder", str(default))[0]
        if not out:
            return
        merge = QMessageBox.question(
            self,
            "Merge with a dataset?",
            "Merge the reviewed frames with an existing dataset (for example the one the live model was trained on)?",
        )
        merge_with = None
        if merge == QMessageBox.StandardButton.Yes:
            merge_with = QFileDialog.getOpenFileName(self, "Dataset to merge with", "", "Dataset (*.yaml *.yml)")[0]
            if not merge_with:
                return
        self.export_to(out, merge_with)

    def _ask_report(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder for the report")
        if folder:
            self.write_report(folder)

    def _guard(self, action) -> None:
        try:
            action()
        except (GraceError, OSError, ValueError) as error:
            self.banner.show_message("error", f"Not saved: {error}")
            raise

    def shutdown(self) -> None:
        for job in list(self._jobs):
            job.join(60.0)  # an export or report finishing its files
        self._close_store()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh()  # frames the live tab flagged meanwhile


def _refill(combo: QComboBox, items: list[str]) -> None:
    current = combo.currentText()
    if [combo.itemText(i) for i in range(combo.count())] == items:
        return
    combo.blockSignals(True)
    combo.clear()
    combo.addItems(items)
    combo.setCurrentIndex(max(0, combo.findText(current)))
    combo.blockSignals(False)
