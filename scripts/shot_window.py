"""The main window as a fresh user sees it, for the screenshot scripts: private settings and data, 1400×900."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def open_window(training=None):
    """``(app, window)``: a shown MainWindow whose settings and runs live in a new temporary folder."""
    sandbox = Path(tempfile.mkdtemp(prefix="grace-shot-"))
    os.environ["GRACE_CONFIG_DIR"] = str(sandbox / "config")
    os.environ["GRACE_DATA_DIR"] = str(sandbox / "data")
    from app.qt_env import drop_opencv_qt_paths

    drop_opencv_qt_paths()
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow
    from app.settings import LiveSettings

    app = QApplication([])
    window = MainWindow(LiveSettings(), training=training)
    window.setGeometry(0, 0, 1400, 900)
    window.show()
    return app, window


def save_screen(app, out: Path) -> None:
    app.processEvents()
    out.parent.mkdir(parents=True, exist_ok=True)
    app.primaryScreen().grabWindow(0).save(str(out))
    print(f"saved {out}", flush=True)
