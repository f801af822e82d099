"""Screenshot of the review tab for the README: run under Xvfb.

    xvfb-run -s "-screen 0 1400x900x24" .venv/bin/python scripts/screenshot_review.py docs/images/review.png

Inspects the demo with the shipped model for a few seconds (the live tab flags frames into a fresh review store),
then opens the review tab, gives the two newest frames a verdict and grabs the screen.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--seconds", type=float, default=12.0, help="how long the live tab inspects first")
    args = parser.parse_args()
    from shot_window import open_window, save_screen

    app, window = open_window()
    from PySide6.QtCore import QTimer

    window.live.start()

    def review() -> None:
        window.live.stop()
        window.tabs.setCurrentWidget(window.review)
        tab = window.review
        tab.set_verdict("defect")  # what D does (Xvfb without a window manager gives the window no key focus)
        tab.comment.setText("oil stain, not a defect")
        tab.set_verdict("false_alarm")
        tab.select_row(1)
        QTimer.singleShot(1500, shoot)

    def shoot() -> None:
        save_screen(app, args.out)
        window.close()
        app.quit()

    QTimer.singleShot(int(args.seconds * 1000), review)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
