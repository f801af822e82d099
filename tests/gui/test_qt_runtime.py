"""The Qt binding itself: a fault here kills the app after minutes of painting, whatever our code does."""

from __future__ import annotations

import sys

from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QLabel


def test_void_qt_calls_keep_their_reference_to_none(qtbot):
    """PySide6 6.12 drops a reference to None on each call of a method returning void; on Python < 3.12 (None not
    immortal) a live view reached zero after ~10 minutes and the interpreter aborted ("none_dealloc")."""
    image = QImage(8, 8, QImage.Format.Format_RGB32)
    label = QLabel()
    qtbot.addWidget(label)
    painter = QPainter(image)
    try:
        before = sys.getrefcount(None)
        for _ in range(2000):
            painter.setOpacity(0.5)
            painter.fillRect(QRectF(0, 0, 1, 1), QColor(1, 2, 3))
            label.setText("x")
        after = sys.getrefcount(None)
    finally:
        painter.end()
    assert after >= before - 100, f"None lost {before - after} references over 6000 void Qt calls"
