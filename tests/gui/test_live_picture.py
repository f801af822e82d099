"""The live picture: the whole of a large frame, zoom about the cursor, pan, fit; the tile grid; the heatmap scaled to
the frame; labels that never overlap; defects and uncertain detections told apart. Real widgets, real events."""

from __future__ import annotations

import itertools
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from app.imaging import bgr_to_qimage, qcolor_for_class, strength_to_qimage
from app.live.frame_view import DrawnBox
from app.live.live_view import LiveView
from grace_core.engine.slicing import plan_tiles

WAIT_MS = 60_000


def gradient(width: int, height: int) -> np.ndarray:
    """A BGR frame whose red channel grows left to right and green top to bottom (every spot differs)."""
    image = np.zeros((height, width, 3), np.uint8)
    image[..., 2] = (np.arange(width) * 255 // max(width - 1, 1)).astype(np.uint8)[None, :]
    image[..., 1] = (np.arange(height) * 255 // max(height - 1, 1)).astype(np.uint8)[:, None]
    return image


def make_view(qtbot, image: np.ndarray, heat: np.ndarray | None = None, size=(1000, 600)) -> LiveView:
    view = LiveView()
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    qtbot.waitExposed(view)
    view.show_frame(bgr_to_qimage(image), strength_to_qimage(heat) if heat is not None else None)
    return view


def wheel(view: LiveView, at: QPointF, notches: int) -> None:
    event = QWheelEvent(
        at, QPointF(view.mapToGlobal(at.toPoint())), QPoint(), QPoint(0, 120 * notches), Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False,
    )  # fmt: skip
    QApplication.sendEvent(view, event)


def mouse(view: LiveView, kind: QMouseEvent.Type, at: QPointF, buttons: Qt.MouseButton) -> None:
    button = Qt.MouseButton.LeftButton
    event = QMouseEvent(
        kind, at, QPointF(view.mapToGlobal(at.toPoint())), Qt.MouseButton.NoButton if kind == QMouseEvent.Type.MouseMove
        else button, buttons, Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    QApplication.sendEvent(view, event)


def drag(view: LiveView, start: QPointF, end: QPointF) -> None:
    mouse(view, QMouseEvent.Type.MouseButtonPress, start, Qt.MouseButton.LeftButton)
    mouse(view, QMouseEvent.Type.MouseMove, (start + end) / 2, Qt.MouseButton.LeftButton)
    mouse(view, QMouseEvent.Type.MouseMove, end, Qt.MouseButton.LeftButton)
    mouse(view, QMouseEvent.Type.MouseButtonRelease, end, Qt.MouseButton.NoButton)


def close(a: QPointF, b: QPointF, tolerance: float = 0.5) -> bool:
    return abs(a.x() - b.x()) <= tolerance and abs(a.y() - b.y()) <= tolerance


def test_a_large_frame_is_converted_once_and_exactly() -> None:
    frame = gradient(8192, 1024)
    image = bgr_to_qimage(frame)
    assert (image.width(), image.height()) == (8192, 1024) and image.format() == QImage.Format.Format_BGR888
    for x, y in ((0, 0), (8191, 1023), (4100, 517)):
        color = image.pixelColor(x, y)
        assert (color.red(), color.green(), color.blue()) == tuple(int(v) for v in frame[y, x, ::-1])
    crop = frame[100:300, 50:250]  # a view into a larger array is fine too
    assert bgr_to_qimage(crop).pixelColor(0, 0).red() == frame[100, 50, 2]


def test_a_large_frame_is_shown_whole_and_zooms_about_the_cursor_pans_and_fits(qtbot) -> None:
    view = make_view(qtbot, gradient(8192, 1024))
    fitted = view.target_rect()
    assert fitted.width() == 1000 and fitted.height() == 125 and view.fitted  # the whole strip, 8:1
    at = QPointF(700, 300)
    under = view.to_image(at)
    wheel(view, at, 3)
    assert view.zoom == 1.25**3 and close(view.to_image(at), under)  # the point under the cursor stays put
    wheel(view, at, 60)
    assert view.zoom == view.max_zoom() >= 8 / (1000 / 8192)  # down to 8 screen pixels per frame pixel
    assert close(view.to_image(at), under, 1.0)

    start, end = QPointF(500, 300), QPointF(380, 250)
    grabbed = view.to_image(start)
    drag(view, start, end)  # drag the picture with the left button
    assert close(view.to_image(end), grabbed)
    drag(view, QPointF(100, 300), QPointF(900, 300))
    drag(view, QPointF(100, 300), QPointF(99_000, 99_000))  # far beyond the frame's edge: it stops at the edge
    target = view.target_rect()
    assert target.left() == 0 and target.top() <= 0 and target.bottom() >= view.height()

    wheel(view, at, -2)
    zoom = view.zoom
    view.show_frame(bgr_to_qimage(gradient(8192, 1024)), None)  # the next frame of the same camera: same view
    assert view.zoom == zoom
    qtbot.mouseDClick(view, Qt.MouseButton.LeftButton, pos=QPoint(500, 300))
    assert view.fitted and view.target_rect() == fitted
    wheel(view, at, 2)
    view.show_frame(bgr_to_qimage(gradient(4096, 2048)), None)  # another size: shown whole
    assert view.fitted


def test_the_tile_grid_is_drawn_only_when_asked_for(qtbot) -> None:
    frame = np.zeros((512, 1024, 3), np.uint8)
    view = make_view(qtbot, frame, size=(1024, 512))  # one widget pixel per frame pixel
    tiles = plan_tiles(1024, 512, 224, 0.25)
    view.set_tiles(tiles)
    assert len(view.tiles) == len(tiles) > 1

    def brightest_at_tile_edge() -> int:
        image = view.grab().toImage()
        x = round(view.target_rect().x() + tiles[0].x1)  # the first tile's right edge, inside the frame
        return max(image.pixelColor(x + dx, 100).value() for dx in (-1, 0, 1))

    assert not view.drawing_tiles and brightest_at_tile_edge() < 10
    view.set_show_tiles(True)
    assert view.drawing_tiles and brightest_at_tile_edge() > 40


def test_a_heatmap_smaller_than_the_frame_covers_the_whole_frame(qtbot) -> None:
    frame = np.zeros((1024, 4096, 3), np.uint8)
    heat = np.ones((256, 1024), np.float32)  # a sliced frame's map: a quarter of the frame's size
    view = make_view(qtbot, frame, heat, size=(1000, 400))
    view.set_opacity(1.0)
    image = view.grab().toImage()
    target = view.target_rect()
    for x, y in ((target.left() + 2, target.top() + 2), (target.right() - 3, target.bottom() - 3)):
        color = image.pixelColor(round(x), round(y))
        assert color.value() > 60, "the map must be stretched over the whole frame"
        assert color.value() < 200, "the strongest attention stays see-through (at most half opaque)"
    outside = image.pixelColor(5, 5)  # the background beside the letterboxed frame: no overlay
    assert outside.value() < 40


def test_labels_never_overlap_and_uncertain_boxes_differ_by_more_than_the_dash(qtbot) -> None:
    view = make_view(qtbot, np.zeros((200, 200, 3), np.uint8), size=(600, 600))
    nested = [  # the field report: nested boxes of one class whose labels landed on each other
        DrawnBox(40, 40, 160, 160, "inclusion 0.26 ?", 1, True, 0.26),
        DrawnBox(30, 30, 170, 170, "inclusion 0.55", 1, False, 0.55),
        DrawnBox(42, 42, 80, 80, "scratches 0.31 ?", 5, True, 0.31),
        DrawnBox(44, 44, 90, 70, "scratches 0.71", 5, False, 0.71),
    ]
    view.set_boxes(nested)
    image = view.grab().toImage()
    spots = [spot for _, spot in view.placed_labels if spot is not None]
    assert len(spots) >= 3
    assert not any(a.intersects(b) for a, b in itertools.combinations(spots, 2))
    by_label = {box.label: spot for box, spot in view.placed_labels}
    defect, uncertain = by_label["inclusion 0.55"], by_label["inclusion 0.26 ?"]
    assert defect is not None and uncertain is not None
    color = qcolor_for_class(1)
    filled = image.pixelColor(round(defect.x() + 2), round(defect.center().y()))
    hollow = image.pixelColor(round(uncertain.x() + 2), round(uncertain.center().y()))
    assert (filled.red(), filled.green(), filled.blue()) == (color.red(), color.green(), color.blue())
    assert hollow.value() < 60  # a dark see-through tag, not filled with the class colour


def test_a_sliced_frame_shows_its_tiles_and_says_how_many(qtbot, make_window, tmp_path) -> None:
    tiles = [cv2.imread(str(p)) for p in sorted(Path("resources/demo").glob("*.jpg"))[:10]]
    mosaic = np.vstack([np.hstack(tiles[:5]), np.hstack(tiles[5:10])])  # 1000 × 400: larger than a model tile
    folder = tmp_path / "camera"
    folder.mkdir()
    cv2.imwrite(str(folder / "frame.png"), mosaic)
    window = make_window(source=str(folder))
    live = window.live
    live.start()
    qtbot.waitUntil(lambda: live.last_result is not None and live.view.has_frame, timeout=WAIT_MS)
    tiles = live.last_result.prediction.tiles
    assert len(tiles) > 1 and len(live.view.tiles) == len(tiles)
    assert live.status.picture.text() == f"1000 × 400 px, sliced into {len(tiles)} tiles"
    assert live.view.frame_size.width() == 1000 and live.view.fitted  # the whole frame
    assert not live.view.drawing_tiles
    live.tiles_toggle.setChecked(True)
    assert live.view.drawing_tiles and live.settings.show_tiles and window.tiles_action.isChecked()
    qtbot.waitUntil(lambda: not live.controller.running, timeout=WAIT_MS)  # a folder of one frame ends
