"""Screenshot of the real main window for the README: run under Xvfb (a real X server, not offscreen).

    xvfb-run -s "-screen 0 1400x900x24" .venv/bin/python scripts/screenshot.py docs/images/live.png

Starts the app as a user would (the demo strip, shipped model), waits for a frame with boxes (with ``--class``: a
tile of that class of the ``demo:tiles`` source), pauses and grabs the screen. Meanwhile it acknowledges each alarm
as an operator would (the demo is full of defects, so the alarm is raised again and again), so that the alarm on
the picture is the shown frame's own.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--class", dest="wanted", default="", help="show a demo tile of this class (demo:tiles)")
    parser.add_argument("--dark", action="store_true", help="in the dark theme (View → Dark theme)")
    args = parser.parse_args()
    from shot_window import open_window, save_screen

    app, window = open_window()
    from PySide6.QtCore import QTimer

    if args.dark:
        window.dark_action.trigger()

    if args.wanted:
        window.live.source_picker.set_spec("demo:tiles")
    window.live.start()

    def alarm_is_for(result) -> bool:
        alarm = window.live.alarm
        return alarm.active and alarm.hits[0].frame_index == result.frame.index

    def check() -> None:
        result = window.live.last_result
        stem = str(result.frame.meta.get("stem", "")) if result else ""
        if result is not None and stem.startswith(args.wanted) and window.live.view.boxes and alarm_is_for(result):
            window.live.pause_button.setChecked(True)
            QTimer.singleShot(1500, shoot)  # let the trend, table and banner settle
        else:
            if result is not None and window.live.alarm.active and not alarm_is_for(result):
                window.live.acknowledge_alarm()
            QTimer.singleShot(50, check)

    def shoot() -> None:
        result = window.live.last_result  # a frame already on its way when we paused may have replaced it
        if (
            not str(result.frame.meta.get("stem", "")).startswith(args.wanted)
            or not alarm_is_for(result)
            or not window.live.view.boxes
        ):
            window.live.pause_button.setChecked(False)
            QTimer.singleShot(50, check)
            return
        window.live.banner.clear_message()  # the "Paused" note is ours, not the operator's view
        save_screen(app, args.out)
        window.close()
        app.quit()

    QTimer.singleShot(8000, check)  # a few seconds of history in the trend first
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
