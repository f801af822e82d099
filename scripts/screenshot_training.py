"""Screenshot of the training tab doing a real run, for the README: run under Xvfb.

    xvfb-run -s "-screen 0 1400x900x24" .venv/bin/python scripts/screenshot_training.py docs/images/training.png \
        --import-neu-det ../shared/datasets/NEU-DET --epochs 4 --compare

Drives the app as an engineer would: imports the dataset through the tab (or opens ``--data``), starts a GRACE-n
run with DS-CBSM++ (warm-up 1 epoch), and grabs the screen when the run ends (``--shoot-after-epoch`` earlier;
``--compare``: after comparing the run with the live model).
The run itself lands in a temporary folder.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", help="a YOLO data.yaml")
    source.add_argument("--import-neu-det", help="a NEU-DET folder to import through the tab")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--imgsz", type=int, default=224)
    parser.add_argument("--shoot-after-epoch", type=int, help="shoot while training, after this epoch")
    parser.add_argument("--compare", action="store_true", help="when the run ends, compare it with the live model")
    args = parser.parse_args()
    from shot_window import open_window, save_screen

    from app.settings import TrainingSettings

    app, window = open_window(TrainingSettings(epochs=args.epochs, imgsz=args.imgsz, dscbsm_warmup=1))
    from PySide6.QtCore import QTimer

    tab = window.training
    window.tabs.setCurrentWidget(tab)
    tab.dataset.dataset_ready.connect(lambda _: QTimer.singleShot(500, tab.start))
    if args.data:
        tab.dataset.set_dataset(args.data)
    else:
        tab.dataset.import_folder("neu-det", args.import_neu_det)

    def shoot(*_: object) -> None:
        save_screen(app, args.out)
        print(f"run folder {tab.run_folder}", flush=True)
        window.close()
        app.quit()

    def on_event(event) -> None:
        if args.shoot_after_epoch and event.type == "epoch" and event.get("epoch") == args.shoot_after_epoch:
            QTimer.singleShot(1000, shoot)

    tab.process.event.connect(on_event)

    def on_ended(end) -> None:
        if not args.compare:
            QTimer.singleShot(1500, shoot)
            return
        tab.promotion.compare()
        tab.promotion.process.ended.connect(lambda *_: QTimer.singleShot(1500, shoot_when_compared))

    def shoot_when_compared() -> None:
        if tab.promotion.compare_button.isEnabled():  # both validations are done
            shoot()

    tab.process.ended.connect(on_ended)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
