"""``grace-inspect``: the desktop app's entry point.

``grace-inspect [--source SPEC] [--model PATH] [--backend B] [--full-screen]``: opens the window and starts
inspecting (the built-in demo with the shipped model unless told otherwise or a previous session chose something
else).
``grace-inspect --grace-worker COMMAND …`` runs ``grace COMMAND …`` instead (how a frozen app starts its workers).
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import sys

from grace_core.engine.runtimes import BACKEND_CHOICES


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="grace-inspect", description="Live steel-surface defect inspection")
    parser.add_argument("--source", help="demo, camera:N, a video file, an image folder or an rtsp:// / http:// URL")
    parser.add_argument("--model", help="'shipped', a .pt checkpoint, an .onnx or an OpenVINO .xml")
    parser.add_argument("--backend", choices=BACKEND_CHOICES)
    parser.add_argument("--no-start", action="store_true", help="open the window without starting inspection")
    parser.add_argument("--full-screen", action="store_true", help="open full screen (F11 leaves it)")
    parser.add_argument(
        "--self-test", action="store_true", help="check this install inspects and trains, print a report, exit"
    )
    parser.add_argument("--exit-after", type=float, metavar="SECONDS", help=argparse.SUPPRESS)  # smoke tests
    return parser.parse_args(argv)


def apply_model_override(window, args: argparse.Namespace) -> None:
    """``--model`` / ``--backend`` go to the live tab's pickers for this start only: the settings keep the previous
    choice until the new model has loaded, so a bad file never becomes the choice the next plain start opens."""
    if args.model or args.backend:
        window.live.choose_model(args.model or window.live.settings.model, args.backend)


def _give_windowed_app_streams() -> None:
    """A windowed frozen app (Windows, no console) has ``sys.stdout``/``stderr`` = None: send them to a log file in
    the per-user log folder instead, so prints and tracebacks are kept and writing to them cannot crash the app."""
    if sys.stdout is not None and sys.stderr is not None:
        return
    import platformdirs

    folder = platformdirs.user_log_path("grace-inspect", appauthor=False)
    folder.mkdir(parents=True, exist_ok=True)
    log_file = open(folder / "grace-inspect.log", "a", encoding="utf-8", buffering=1)  # noqa: SIM115 (process-long)
    sys.stdout = sys.stdout or log_file
    sys.stderr = sys.stderr or log_file


def main(argv: list[str] | None = None) -> int:
    multiprocessing.freeze_support()
    _give_windowed_app_streams()
    argv = sys.argv[1:] if argv is None else argv
    from grace_core.training.worker import dispatch_worker

    worker_exit = dispatch_worker(argv)  # the frozen app re-invoked as a training/val/export worker: no Qt at all
    if worker_exit is not None:
        return worker_exit
    args = parse_args(argv)
    if args.self_test:  # no window: the same checks as `grace selftest`
        from grace_core.cli.main import main as grace_main

        return grace_main(["selftest"])
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from app.qt_env import allow_large_images, drop_opencv_qt_paths

    drop_opencv_qt_paths()  # before QApplication: OpenCV's bundled Qt plugins must not be picked up
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow
    from app.settings import load_live_settings

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("GRACE Inspect")
    allow_large_images()
    settings = load_live_settings()
    settings.source = args.source or settings.source
    window = MainWindow(settings)
    apply_model_override(window, args)
    app.aboutToQuit.connect(window.shutdown)
    window.show()
    if args.full_screen:
        window.set_full_screen(True)
    print(f"window shown: {window.windowTitle()} ({', '.join(window.tab_names())})", flush=True)
    if args.exit_after is not None:  # packaging smoke test: the frozen GUI starts, shows its window, quits cleanly
        from PySide6.QtCore import QTimer

        QTimer.singleShot(int(args.exit_after * 1000), window.close)
    if settings.autostart and not args.no_start:
        window.live.start()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
