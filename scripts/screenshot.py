"""Screenshot of the real main window for the README: run under Xvfb (a real X server, not offscreen).

    xvfb-run -s "-screen 0 1400x900x24" .venv/bin/python scripts/screenshot.py docs/images/live.png

Starts the app as a user would (demo source, shipped model), waits for a demo tile of ``--class`` with boxes,
pauses and grabs the screen.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--class", dest="wanted", default="inclusion", help="demo tile class to show (inclusion)")
    args = parser.parse_args()
    sandbox = Path(tempfile.mkdtemp(prefix="grace-shot-"))
    os.environ["GRACE_CONFIG_DIR"] = str(sandbox / "config")
    os.environ["GRACE_DATA_DIR"] = str(sandbox / "data")
    from app.qt_env import drop_opencv_qt_paths

    drop_opencv_qt_paths()
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow
    from app.settings import LiveSettings

    app = QApplication([])
    window = MainWindow(LiveSettings())
    window.setGeometry(0, 0, 1400, 900)
    window.show()
    window.live.start()

    def check() -> None:
        result = window.live.last_result
        stem = str(result.frame.meta.get("stem", "")) if result else ""
        if stem.startswith(args.wanted) and window.live.view.boxes:
            window.live.pause_button.setChecked(True)
            QTimer.singleShot(1500, shoot)  # let the trend, table and banner settle
        else:
            QTimer.singleShot(50, check)

    def shoot() -> None:
        result = window.live.last_result  # a frame already on its way when we paused may have replaced it
        if not str(result.frame.meta.get("stem", "")).startswith(args.wanted):
            window.live.pause_button.setChecked(False)
            QTimer.singleShot(50, check)
            return
        args.out.parent.mkdir(parents=True, exist_ok=True)
        window.live.banner.clear_message()  # the "Paused" note is ours, not the operator's view
        app.processEvents()
        app.primaryScreen().grabWindow(0).save(str(args.out))
        print(f"saved {args.out}")
        window.close()
        app.quit()

    QTimer.singleShot(8000, check)  # a few seconds of history in the trend first
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
