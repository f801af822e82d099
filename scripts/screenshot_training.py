"""Screenshot of the training tab doing a real run, for the README: run under Xvfb.

    xvfb-run -s "-screen 0 1400x900x24" .venv/bin/python scripts/screenshot_training.py docs/images/training.png \
        --import-neu-det ../shared/datasets/NEU-DET --epochs 4

Drives the app as an engineer would: imports the dataset through the tab (or opens ``--data``), starts a GRACE-n
run with DS-CBSM++ (warm-up 1 epoch), and grabs the screen when the run ends (``--shoot-after-epoch`` earlier).
The run itself lands in a temporary folder.
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
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", help="a YOLO data.yaml")
    source.add_argument("--import-neu-det", help="a NEU-DET folder to import through the tab")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--imgsz", type=int, default=224)
    parser.add_argument("--shoot-after-epoch", type=int, help="shoot while training, after this epoch")
    args = parser.parse_args()
    sandbox = Path(tempfile.mkdtemp(prefix="grace-shot-"))
    os.environ["GRACE_CONFIG_DIR"] = str(sandbox / "config")
    os.environ["GRACE_DATA_DIR"] = str(sandbox / "data")
    from app.qt_env import drop_opencv_qt_paths

    drop_opencv_qt_paths()
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow
    from app.settings import LiveSettings, TrainingSettings

    app = QApplication([])
    training = TrainingSettings(epochs=args.epochs, imgsz=args.imgsz, dscbsm_warmup=1)
    window = MainWindow(LiveSettings(), training=training)
    window.setGeometry(0, 0, 1400, 900)
    window.show()
    tab = window.training
    window.tabs.setCurrentWidget(tab)
    tab.dataset.dataset_ready.connect(lambda _: QTimer.singleShot(500, tab.start))
    if args.data:
        tab.dataset.set_dataset(args.data)
    else:
        tab.dataset.import_folder("neu-det", args.import_neu_det)

    def shoot(*_: object) -> None:
        app.processEvents()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        app.primaryScreen().grabWindow(0).save(str(args.out))
        print(f"saved {args.out}; run folder {tab.run_folder}", flush=True)
        window.close()
        app.quit()

    def on_event(event) -> None:
        if args.shoot_after_epoch and event.type == "epoch" and event.get("epoch") == args.shoot_after_epoch:
            QTimer.singleShot(1000, shoot)

    tab.process.event.connect(on_event)
    tab.process.ended.connect(lambda end: QTimer.singleShot(1500, shoot))
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
