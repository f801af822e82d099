"""The review tab: flagged frames from the review store, filters, the frame with its boxes and heatmap, and
keyboard-first verdicts and box corrections — every change audited with the reviewer's name, and undoable.

Keys (while the tab has focus): D defect · F false alarm · U unsure · N / P next / previous unreviewed ·
↑ / ↓ previous / next in the list · H heatmap · B draw a missed box · Delete remove the selected box ·
L drop the boxes below their flag threshold · Ctrl+Z undo the last verdict or box change.

Nothing typed is lost: a comment is saved with its frame when another frame is selected (or on Enter, a verdict,
or closing the app).
"""

from __future__ import annotations

import getpass
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import QItemSelectionModel, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QKeySequence, QShortcut
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
    QVBoxLayout,
    QWidget,
)

from app.banner import Banner
from app.imaging import bgr_to_qimage, strength_to_qimage
from app.live.frame_view import DrawnBox
from app.review.box_table import BOX_COLUMNS, BoxTable
from app.review.folders import datasets_dir, documents_dir
from app.review.frame_list import COLUMNS, VERDICT_TEXT, FrameListModel, coil_place
from app.review.review_view import ReviewView
from app.review.undo import UndoStack, UndoStep, undo_added_box, undo_deletes, undo_relabel, undo_verdict
from app.workers.progress_job import ProgressJob
from grace_core.errors import GraceError, StoreError
from grace_core.paths import free_path, user_data_dir
from grace_core.review.labels import BoxLabel, below_flag, label_plan
from grace_core.store import STORE_ERRORS as STORE_FAILURES
from grace_core.store import FrameFilter, NoStoreError, ReviewStore, StoreLocation
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
# the list fits its pane: short columns sized to their text, the long ones share the rest (cut, full in tooltips)
LIST_FIT = {"source": QHeaderView.ResizeMode.Stretch, "classes": QHeaderView.ResizeMode.Stretch}
COMMENT_DRAFT = "not saved yet: saved when you leave the frame, press Enter or give a verdict"
COMMENT_SAVED = "saved with the frame"
STORE_ERRORS = (GraceError, ValueError, *STORE_FAILURES)  # a busy or full database says so in the banner

T = TypeVar("T")


class ReviewTab(QWidget):
    dataset_exported = Signal(str)  # data.yaml of an exported dataset, ready for the training tab

    def __init__(self, store_root: Path | str | StoreLocation | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store_root = store_root or default_root()
        self.store: ReviewStore | None = None
        self.model = FrameListModel(self)
        self.current: FrameRecord | None = None
        self.boxes: list[DetectionRecord] = []
        self.plan: list[BoxLabel] = []  # what D makes of each box
        self.facets = Facets((), (), ())
        self.undo_stack = UndoStack()
        self.box_columns = BOX_COLUMNS
        self._last_box_class: str | None = None  # the class last drawn or set: a new box's default
        self._jobs: list[ProgressJob] = []
        self.last_export = None
        self.last_report: tuple[Path, Path] | None = None
        self._build()
        self._connect()

    # -- layout ---------------------------------------------------------------------------------------------------

    def _build(self) -> None:
        left = self._build_list()
        centre = self._build_view()
        right = self._build_side()
        self.banner = Banner()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        for widget in (left, centre, right):
            self.splitter.addWidget(widget)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([430, 650, 360])
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addLayout(self._build_filters())
        layout.addWidget(self.splitter, 1)
        self._set_frame_controls(False)
        self._update_undo()

    def _build_filters(self) -> QHBoxLayout:
        self.class_filter = QComboBox()
        self.verdict_filter = QComboBox()
        self.verdict_filter.addItems([ANY, *VERDICT_FILTERS])
        self.uncertain_only = QCheckBox("uncertain only")
        self.period = QComboBox()
        self.period.addItems(list(PERIODS))
        self.source_filter = QComboBox()
        self.model_filter = QComboBox()
        self.station_filter = QComboBox()
        self.station_filter.setToolTip("the station that flagged the frame (a central store holds several)")
        self.coil_filter = QComboBox()
        self.coil_filter.setToolTip("the coil on the line when the frame was flagged (grace detect --coil, the plant)")
        self.refresh_button = QPushButton("Refresh")
        filters = QHBoxLayout()
        for label, widget in (
            ("Class", self.class_filter),
            ("Verdict", self.verdict_filter),
            ("When", self.period),
            ("Source", self.source_filter),
            ("Model", self.model_filter),
            ("Station", self.station_filter),
            ("Coil", self.coil_filter),
        ):
            filters.addWidget(QLabel(label))
            filters.addWidget(widget)
        filters.addWidget(self.uncertain_only)
        filters.addStretch(1)
        filters.addWidget(self.refresh_button)
        return filters

    def _build_list(self) -> QWidget:
        self.count_label = QLabel()
        self.list = QTableView()
        self.list.setModel(self.model)
        self.list.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerItem)  # scroll value = top row
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # every column fits
        self.list.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # a stream URL keeps its host and its path
        self.list.verticalHeader().setVisible(False)
        header = self.list.horizontalHeader()
        header.setStretchLastSection(False)
        for column, name in enumerate(COLUMNS):
            header.setSectionResizeMode(column, LIST_FIT.get(name, QHeaderView.ResizeMode.ResizeToContents))
        left = QWidget()
        left.setMinimumWidth(320)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.count_label)
        left_layout.addWidget(self.list, 1)
        return left

    def _build_view(self) -> QWidget:
        self.view = ReviewView()
        self.view.placeholder = "No flagged frame selected"
        self.heat_toggle = QCheckBox("Heatmap (H)")
        self.heat_toggle.setChecked(True)
        self.draw_button = QPushButton("Draw missed box (B)", checkable=True)
        self.new_box_class = QComboBox()
        self.new_box_class.setToolTip("class of the box you draw: the selected box's, else the last one used")
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
        return centre

    def _build_side(self) -> QWidget:
        self.box_table = BoxTable()
        self.relabel_class = QComboBox()
        self.relabel_button = QPushButton("Set class")
        self.delete_button = QPushButton("Delete box (Del)")
        self.drop_low_button = QPushButton("Drop boxes below the flag threshold (L)")
        self.drop_low_button.setToolTip("the model's boxes below their class's flag threshold stop being labels")
        box_bar = QHBoxLayout()
        box_bar.addWidget(self.relabel_class, 1)
        box_bar.addWidget(self.relabel_button)
        box_bar.addWidget(self.delete_button)
        self.defect_button = QPushButton("Defect (D)")
        self.defect_button.setToolTip("confirms the frame as a defect: the boxes marked 'label' become its labels")
        self.false_alarm_button = QPushButton("False alarm (F)")
        self.unsure_button = QPushButton("Unsure (U)")
        verdicts = QHBoxLayout()
        for button in (self.defect_button, self.false_alarm_button, self.unsure_button):
            verdicts.addWidget(button)
        self.comment = QLineEdit(placeholderText="comment (saved with the frame)")
        self.comment_state = QLabel()
        self.comment_state.setStyleSheet("color: gray;")
        self.reviewer = QLineEdit(getpass.getuser())
        self.previous_button = QPushButton("◀ Previous unreviewed (P)")
        self.next_button = QPushButton("Next unreviewed (N) ▶")
        navigation = QHBoxLayout()
        navigation.addWidget(self.previous_button)
        navigation.addWidget(self.next_button)
        self.undo_button = QPushButton("Undo (Ctrl+Z)")
        self.verdict_label = QLabel()
        self.verdict_label.setStyleSheet("font-weight: bold;")
        self.export_button = QPushButton("Export reviewed frames…")
        self.narrow_classes = QCheckBox("only the classes of reviewed boxes")
        self.narrow_classes.setToolTip(
            "off (recommended): the dataset keeps the live model's full class list, so a model trained on it still "
            "knows every class; on: only the classes that reviewed boxes carry"
        )
        self.report_button = QPushButton("Shift report…")
        self.open_report_button = QPushButton("Open report")
        self.open_report_button.setVisible(False)
        right = QWidget()
        form = QFormLayout(right)
        form.addRow(QLabel("<b>Boxes</b>"))
        form.addRow(self.box_table)
        form.addRow(box_bar)
        form.addRow(self.drop_low_button)
        form.addRow(QLabel("<b>Verdict</b>"))
        form.addRow(self.verdict_label)
        form.addRow(verdicts)
        form.addRow("Comment", self.comment)
        form.addRow("", self.comment_state)
        form.addRow("Reviewer", self.reviewer)
        form.addRow(navigation)
        form.addRow(self.undo_button)
        form.addRow(QLabel("<b>Turn reviews into data</b>"))
        form.addRow(self.export_button)
        form.addRow(self.narrow_classes)
        form.addRow(self.report_button)
        form.addRow(self.open_report_button)
        return right

    def _connect(self) -> None:
        for combo in (
            self.class_filter, self.verdict_filter, self.period, self.source_filter, self.model_filter,
            self.station_filter, self.coil_filter,
        ):  # fmt: skip
            combo.currentIndexChanged.connect(lambda *_: self.apply_filters())
        self.uncertain_only.toggled.connect(lambda *_: self.apply_filters())
        self.refresh_button.clicked.connect(self.refresh)
        self.list.selectionModel().currentRowChanged.connect(lambda current, _: self._show_row(current.row()))
        self.heat_toggle.toggled.connect(self.view.set_heat_visible)
        self.draw_button.toggled.connect(self.view.set_draw_mode)
        self.view.box_drawn.connect(self._add_drawn_box)
        self.new_box_class.activated.connect(lambda *_: self._remember_box_class(self.new_box_class.currentText()))
        self.relabel_button.clicked.connect(self.relabel_selected_box)
        self.delete_button.clicked.connect(self.delete_selected_box)
        self.drop_low_button.clicked.connect(self.drop_low_scores)
        self.box_table.itemSelectionChanged.connect(self._on_box_selected)
        self.defect_button.clicked.connect(lambda: self.set_verdict("defect"))
        self.false_alarm_button.clicked.connect(lambda: self.set_verdict("false_alarm"))
        self.unsure_button.clicked.connect(lambda: self.set_verdict("unsure"))
        self.next_button.clicked.connect(lambda: self.go_to_unreviewed(+1))
        self.previous_button.clicked.connect(lambda: self.go_to_unreviewed(-1))
        self.undo_button.clicked.connect(self.undo)
        shortcuts = {
            **{key: (lambda v=verdict: self.set_verdict(v)) for key, verdict in VERDICT_KEYS.items()},
            "N": lambda: self.go_to_unreviewed(+1),
            "P": lambda: self.go_to_unreviewed(-1),
            "H": self.heat_toggle.toggle,
            "B": self.draw_button.toggle,
            "L": self.drop_low_scores,
            "Delete": self.delete_selected_box,
        }
        for key, action in shortcuts.items():
            self._shortcut(QKeySequence(key), action)
        self._shortcut(QKeySequence(QKeySequence.StandardKey.Undo), self.undo)  # a comment box keeps its own
        self.comment.textEdited.connect(lambda *_: self.comment_state.setText(COMMENT_DRAFT))
        self.comment.returnPressed.connect(self._comment_entered)
        self.export_button.clicked.connect(self._ask_export)
        self.report_button.clicked.connect(self._ask_report)
        self.open_report_button.clicked.connect(self.open_report)

    def _shortcut(self, keys: QKeySequence, action: Callable[[], object]) -> None:
        shortcut = QShortcut(keys, self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(action)

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
            with self.store.errors():  # damage met after the open's check: say so, don't list nothing
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
            (self.station_filter, self.facets.stations),
            (self.coil_filter, self.facets.coils),
        ):
            _refill(combo, [ANY, *values])
        self._show_telling_columns()
        self._refill_class_choices()

    def _show_telling_columns(self) -> None:
        """Columns that would say the same on every row take no room from the others: *coil* until a frame carries
        one, *station* while the store holds a single station (the header line under the picture names both)."""
        self.list.setColumnHidden(COLUMNS.index("coil"), not self.facets.coils)
        self.list.setColumnHidden(COLUMNS.index("station"), len(self.facets.stations) <= 1)

    def _refill_class_choices(self) -> None:
        """The classes a box can be given: the shown frame's model's full list first, then the others in the store."""
        names = list(self._model_classes())
        names += [name for name in self.facets.class_names if name not in names]
        for combo in (self.new_box_class, self.relabel_class):
            _refill(combo, names)

    def _model_classes(self) -> list[str]:
        if self.current is None or self.store is None:
            return []
        try:
            return self.store.model_classes(self.current.model_id) or []
        except STORE_ERRORS:
            return []

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
        if self.station_filter.currentText() not in ("", ANY):
            values["station"] = self.station_filter.currentText()
        if self.coil_filter.currentText() not in ("", ANY):
            values["coil"] = self.coil_filter.currentText()
        if self.uncertain_only.isChecked():
            values["status"] = "uncertain"
        seconds = PERIODS.get(self.period.currentText())
        if seconds is not None:
            values["since"] = time.time() - seconds
        return FrameFilter(**values)

    def apply_filters(self) -> None:
        """Re-list with the filters; the selected frame stays selected (pages past the first are loaded for it) and
        stays where it was on screen."""
        if self.store is None:
            return
        self._save_comment()
        keep = self.current.id if self.current is not None else None
        offset = self._offset_on_screen()
        self.model.reset(self.store, self.current_filter())
        self.count_label.setText(f"{self.model.total} flagged frames (newest first)")
        row = self.model.locate(keep) if keep is not None else None
        if row is None:
            self.select_row(0)
        else:
            self.select_row(row, offset)

    def _offset_on_screen(self) -> int | None:
        """How many rows below the top of the list the selected frame is shown, if it is on screen."""
        current, top = self.list.currentIndex(), self.list.rowAt(0)
        if not current.isValid() or top < 0:
            return None
        bottom = self.list.rowAt(self.list.viewport().height() - 1)
        offset = current.row() - top
        return offset if offset >= 0 and (bottom < 0 or current.row() <= bottom) else None

    def select_row(self, row: int, offset: int | None = None) -> None:
        """Show the frame in ``row``; ``offset`` (rows below the list's top) keeps it where it was on screen."""
        if not 0 <= row < self.model.rowCount():
            self._save_comment()
            self.current = None
            self.comment.clear()
            self.comment_state.clear()
            self.view.clear("No flagged frame matches the filters")
            self._set_frame_controls(False)
            return
        index = self.model.index(row, 0)
        self.list.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        )
        if offset is not None:
            self.list.updateGeometries()  # the scroll range after a reset, before the layout catches up
            top = self.model.index(max(0, row - offset), 0)
            self.list.scrollTo(top, QAbstractItemView.ScrollHint.PositionAtTop)
        self.list.scrollTo(index)
        self._show_row(row)

    # -- the frame ------------------------------------------------------------------------------------------------

    def _show_row(self, row: int) -> None:
        self._save_comment()  # what was typed for the frame shown so far goes with it
        record = self.model.record(row)
        if record is None or self.store is None:
            return
        changed_frame = self.current is None or self.current.id != record.id
        self.current = record
        self.comment.setText(record.comment or "")  # before anything can fail: a comment belongs to its frame
        self.comment_state.setText(COMMENT_SAVED if record.comment else "")
        try:
            image = self.store.load_image(record.id)
            heat = self.store.load_heatmap(record.id)
        except (OSError, GraceError) as error:
            self.view.clear(f"Cannot read frame {record.id}: {error}")
            return
        self.view.show_frame(bgr_to_qimage(image), strength_to_qimage(heat) if heat is not None else None)
        if changed_frame:
            self.view.reset_view()
        self._refill_class_choices()
        self._show_boxes()
        when = time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(record.captured_at))
        self.frame_info.setText(
            f"Frame {record.id} · {when} · station {record.station or '?'}{_coil_text(record)} · {record.source_id} "
            f"(frame {record.frame_index}) · "
            f"{record.width}×{record.height} · flagged {record.status} by {record.model_id} ({record.model_hash[:10]})"
        )
        self._show_verdict()
        self._set_frame_controls(True)

    def _show_boxes(self) -> None:
        if self.current is None or self.store is None:
            return
        self.boxes = self.store.detections(self.current.id)
        self.plan = label_plan(self.boxes, self.current.thresholds)
        self.box_table.show_plan(self.plan)  # clears the selection: the boxes are drawn as that redraws
        labels = sum(entry.is_label for entry in self.plan)
        self.defect_button.setText(f"Defect (D): {labels} label{'' if labels == 1 else 's'}")
        self._on_box_selected()

    def _draw_boxes(self, highlight: int | None = None) -> None:
        """Labels solid, nested duplicates dashed; with a box selected in the table, only that one solid."""
        drawn = []
        for index, entry in enumerate(self.plan):
            box = entry.box
            label = f"{box.class_name} {box.confidence:.2f}" if box.origin == "model" else f"{box.class_name} (added)"
            if entry.nested:
                label += " (duplicate)"
            dashed = (highlight is not None and index != highlight) or (highlight is None and entry.nested)
            class_id = self._class_index(box.class_name, box.class_id)
            drawn.append(DrawnBox(*box.xyxy, label=label, class_id=class_id, uncertain=dashed, score=box.confidence))
        self.view.set_boxes(drawn)

    def _class_index(self, name: str, fallback: int) -> int:
        names = self._model_classes() or list(self.facets.class_names)
        return names.index(name) if name in names else fallback

    def _on_box_selected(self) -> None:
        """A new box takes the selected box's class, else the class last used."""
        row = self.box_table.selected_row()
        self._draw_boxes(highlight=row)
        name = self.boxes[row].class_name if row is not None and row < len(self.boxes) else self._last_box_class
        if name and self.new_box_class.findText(name) >= 0:
            self.new_box_class.setCurrentText(name)

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
            self.drop_low_button,
        ):
            widget.setEnabled(enabled)

    def _refresh_record(self, frame_id: int) -> None:
        """Re-read a changed frame into the list (and into ``current`` when it is the one shown)."""
        row = self.model.row_of(frame_id)
        if row is None:
            return
        self.model.refresh_row(row)
        if self.current is not None and self.current.id == frame_id:
            self.current = self.model.record(row)

    # -- comments -------------------------------------------------------------------------------------------------

    def _save_comment(self) -> None:
        """Save the comment typed for the shown frame, if it changed (audited; the verdict is left as it is)."""
        record = self.current
        if record is None or self.store is None:
            return
        text = self.comment.text().strip()
        if text == (record.comment or ""):
            return
        try:
            saved = self.store.set_comment(record.id, text or None, self.reviewer_name())
        except STORE_ERRORS as error:
            self.banner.show_message("error", f"The comment on frame {record.id} was not saved: {error}")
            return
        self._refresh_record(record.id)
        if saved:
            self.comment_state.setText(COMMENT_SAVED)
            self.banner.show_message("info", f"Comment saved with frame {record.id}.")

    def _comment_entered(self) -> None:
        self._save_comment()
        self.list.setFocus()

    # -- actions --------------------------------------------------------------------------------------------------

    def reviewer_name(self) -> str:
        return self.reviewer.text().strip() or getpass.getuser()

    def set_verdict(self, verdict: str) -> None:
        """Record the verdict and comment for the shown frame, then move on to the next unreviewed frame.

        A defect verdict drops the nested duplicates first (the boxes it would not make labels), in the same undo
        step.
        """
        record, store = self.current, self.store
        if record is None or store is None:
            return
        text = self.comment.text().strip()
        comment = text if text or record.comment else None  # empty box on a frame without one: no comment
        dropped = [entry for entry in self.plan if entry.nested] if verdict == "defect" else []
        actor = self.reviewer_name()

        def write() -> None:
            for entry in dropped:
                store.delete_box(entry.box.id, actor, reason=entry.reason)
            store.set_verdict(record.id, verdict, actor, comment)

        self._guard(write)
        reverse = undo_verdict(record.id, record.verdict, record.reviewed_at, [entry.box.id for entry in dropped])
        self._push(f"verdict {VERDICT_TEXT[verdict]} on frame {record.id}", record.id, reverse)
        self._refresh_record(record.id)
        self._show_verdict()
        if dropped:
            labels = len(self.plan) - len(dropped)
            self.banner.show_message(
                "info",
                f"Frame {record.id}: defect with {labels} label{'' if labels == 1 else 's'}; dropped "
                f"{len(dropped)} nested duplicate{'' if len(dropped) == 1 else 's'} (Ctrl+Z undoes).",
            )
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
        return self.box_table.selected_row()

    def delete_selected_box(self) -> None:
        row = self.selected_box_row()
        store, record = self.store, self.current
        if row is None or store is None or record is None or row >= len(self.boxes):
            return
        box = self.boxes[row]
        self._guard(lambda: store.delete_box(box.id, self.reviewer_name()))
        self._push(f"delete of the {box.class_name} box on frame {record.id}", record.id, undo_deletes([box.id]))
        self._after_box_change()

    def relabel_selected_box(self) -> None:
        row = self.selected_box_row()
        name = self.relabel_class.currentText()
        store, record = self.store, self.current
        if row is None or store is None or record is None or row >= len(self.boxes) or not name:
            return
        box = self.boxes[row]
        class_id = self._class_index(name, 0)
        self._guard(lambda: store.relabel_box(box.id, class_id, name, self.reviewer_name()))
        if (box.class_id, box.class_name) != (class_id, name):
            text = f"relabel {box.class_name} → {name} on frame {record.id}"
            self._push(text, record.id, undo_relabel(box.id, box.class_id, box.class_name))
        self._remember_box_class(name)
        self._after_box_change()

    def drop_low_scores(self) -> None:
        """L: the model's boxes below their class's flag threshold stop being labels (deleted, audited, undoable)."""
        store, record = self.store, self.current
        if store is None or record is None:
            return
        low = below_flag(self.boxes, record.thresholds)
        if not low:
            self.banner.show_message("info", f"No box on frame {record.id} scores below its flag threshold.")
            return
        if not any(entry.is_label and entry.flag is None for entry in self.plan):
            self.banner.show_message(
                "warning",
                f"Every label on frame {record.id} scores below its flag threshold: dropping them would leave none. "
                "Delete or relabel boxes one by one, or draw the right box (B).",
            )
            return
        actor = self.reviewer_name()

        def write() -> None:
            for entry in low:
                store.delete_box(entry.box.id, actor, reason=entry.reason)

        self._guard(write)
        what = f"{len(low)} box{'' if len(low) == 1 else 'es'} below the flag threshold on frame {record.id}"
        self._push(f"drop of {what}", record.id, undo_deletes([entry.box.id for entry in low]))
        self._after_box_change()
        self.banner.show_message("info", f"Dropped {what} (Ctrl+Z undoes).")

    def _add_drawn_box(self, x1: float, y1: float, x2: float, y2: float) -> None:
        name = self.new_box_class.currentText()
        store, record = self.store, self.current
        if record is None or store is None or not name:
            return
        class_id = self._class_index(name, 0)
        box_id = self._guard(lambda: store.add_box(record.id, class_id, name, (x1, y1, x2, y2), self.reviewer_name()))
        self._push(f"drawn {name} box on frame {record.id}", record.id, undo_added_box(box_id))
        self._remember_box_class(name)
        self.draw_button.setChecked(False)
        self._after_box_change()

    def _remember_box_class(self, name: str) -> None:
        """The class a new box gets when no box is selected: the one last drawn, set or picked."""
        self._last_box_class = name or self._last_box_class

    def _after_box_change(self) -> None:
        self._show_boxes()
        if self.current is not None:
            self._refresh_record(self.current.id)

    # -- undo -----------------------------------------------------------------------------------------------------

    def _push(self, text: str, frame_id: int, reverse) -> None:
        self.undo_stack.push(UndoStep(text, frame_id, reverse))
        self._update_undo()

    def _update_undo(self) -> None:
        step = self.undo_stack.top()
        self.undo_button.setEnabled(step is not None)
        self.undo_button.setText(f"Undo {step.text} (Ctrl+Z)" if step is not None else "Undo (Ctrl+Z)")

    def undo(self) -> None:
        """Reverse the last verdict or box change — written to the store and its audit trail like any change —
        and show the frame it was made on."""
        step = self.undo_stack.pop()
        if step is None or self.store is None:
            self.banner.show_message("info", "Nothing to undo.")
            return
        try:
            step.reverse(self.store, self.reviewer_name())
        except STORE_ERRORS as error:
            self.banner.show_message("error", f"Cannot undo the {step.text}: {error}")
            self._update_undo()
            return
        self._update_undo()
        self._refresh_record(step.frame_id)
        row = self.model.locate(step.frame_id)
        if row is not None:
            self.select_row(row)
        elif self.current is not None and self.current.id == step.frame_id:
            self._show_boxes()
        listed = "" if row is not None else f" (frame {step.frame_id} is not listed with these filters)"
        self.banner.show_message("info", f"Undone: {step.text}; recorded in the audit trail{listed}.")

    # -- export and report (core work in a background thread with its own store connection) --------------------

    def export_to(self, out: str, merge_with: str | None = None, narrow: bool | None = None) -> ProgressJob:
        """Export the reviewed frames to a new YOLO dataset at ``out`` (optionally merged with ``merge_with``).

        The class list is the live model's full list unless ``narrow`` (default: the tab's checkbox) keeps only
        the classes of the reviewed boxes.
        """
        from grace_core.review.export import export_reviewed

        root = self.store_root
        narrow_classes = self.narrow_classes.isChecked() if narrow is None else narrow

        def work(progress):
            with ReviewStore.open_existing(root) as store:  # read-only, its own connection in the worker thread
                return export_reviewed(store, Path(out), merge_with=Path(merge_with) if merge_with else None,
                                       progress=progress, narrow_classes=narrow_classes)  # fmt: skip

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

    def report_url(self) -> QUrl | None:
        """The HTML report last written, as the URL *Open report* opens."""
        return QUrl.fromLocalFile(str(self.last_report[1])) if self.last_report is not None else None

    def open_report(self) -> None:
        url = self.report_url()
        if url is not None and not QDesktopServices.openUrl(url):
            self.banner.show_message("warning", f"No program opened the report; it is at {url.toLocalFile()}")

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
        classes = f"{len(report.class_names)} classes: {report.class_source}"
        self.banner.show_message(
            "info", f"Exported the reviewed frames to {data_yaml} ({classes}); opened in the training tab."
        )
        self.dataset_exported.emit(data_yaml)

    def _reported(self, paths) -> None:
        self.last_report = paths
        self.open_report_button.setVisible(True)
        self.open_report_button.setToolTip(str(paths[1]))
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
            merge_with = QFileDialog.getOpenFileName(
                self, "Dataset to merge with", datasets_dir(), "Dataset (*.yaml *.yml)"
            )[0]
            if not merge_with:
                return
        self.export_to(out, merge_with)

    def _ask_report(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder for the report", documents_dir())
        if folder:
            self.write_report(folder)

    def _guard(self, action: Callable[[], T]) -> T:
        try:
            return action()
        except STORE_ERRORS as error:
            self.banner.show_message("error", f"Not saved: {error}")
            raise

    def set_store(self, where: Path | str | StoreLocation) -> None:
        """Review another store (Settings ▸ Plant connection…): a folder, ``sqlite:///…`` or ``postgresql://…``.
        The comment being typed is saved first; the undo steps belong to the old store and are dropped."""
        self._save_comment()
        self._close_store()
        self.store_root = where
        self.undo_stack = UndoStack()
        self._update_undo()
        self.current = None
        self.model.reset(None, FrameFilter())
        self.count_label.setText("")
        self.view.clear(self.view.placeholder)
        self._set_frame_controls(False)
        self.banner.clear_message()
        if self.isVisible():
            self.refresh()

    def shutdown(self) -> None:
        self._save_comment()  # closing the app keeps what was typed
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


def _coil_text(record: FrameRecord) -> str:
    """`` · coil C4711 @ 12.3 m`` for the frame's header line; nothing when no coil was known."""
    return f" · coil {coil_place(record)}" if record.coil else ""
