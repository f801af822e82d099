"""``grace train``: train GRACE or a YOLO11 baseline, optionally streaming the JSON-lines progress protocol.

Exit codes: 0 completed, 130 cancelled (a clean stop: ``last.pt`` saved and resumable), 2 bad input, 1 failure.
Cancel: the line ``stop`` on stdin, SIGINT (Ctrl-C) or SIGTERM. A second SIGINT aborts at once.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import traceback
from pathlib import Path

from grace_core import __version__
from grace_core.cli.settings import parse_settings
from grace_core.errors import GraceError
from grace_core.training.cancel import CancelRequest

EXIT_CANCELLED = 130


def add_parser(commands) -> None:
    parser = commands.add_parser("train", help="train a model (DS-CBSM++ sampling by default)")
    parser.add_argument("--data", help="data.yaml of a YOLO dataset (see `grace data import`)")
    parser.add_argument("--model", default="grace-s", help="grace-n, grace-s, yolo11n, yolo11s, a .yaml or a .pt")
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--imgsz", type=int, default=640)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--device", default="cpu", help="cpu, 0, 0,1 … (cpu)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2, help="data-loading worker processes (2)")
    parser.add_argument("--patience", type=int, default=100, help="early-stopping patience in epochs (100)")
    parser.add_argument(
        "--hours", type=float, help="time budget: the number of epochs (and the LR schedule) is fitted to it"
    )
    parser.add_argument("--sampler", choices=("dscbsm", "uniform"), default="dscbsm")
    parser.add_argument("--dscbsm-warmup", type=int, default=3, help="uniform epochs before DS-CBSM++ steers (3)")
    parser.add_argument(
        "--dscbsm-loss-weighting", action="store_true", help="also scale the classification loss by class weights"
    )
    parser.add_argument(
        "--dscbsm-signal",
        choices=("quality", "bce", "localization"),
        default="quality",
        help="DS-CBSM++'s class difficulty: quality = shortfall of p*t (default), bce = |p - t| (the first "
        "definition), localization = 1 - mean IoU-aware target (docs/method.md)",
    )
    parser.add_argument(
        "--dscbsm-rarity",
        choices=("images", "instances"),
        default="images",
        help="DS-CBSM++'s rarity counts the training images holding a class (default) or its boxes",
    )
    parser.add_argument(
        "--dscbsm-set",
        dest="dscbsm_options",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="another DS-CBSM++ setting (docs/method.md §2.6), e.g. --dscbsm-set alpha=0.5 (repeatable)",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an ultralytics training setting, e.g. --set optimizer=AdamW --set lr0=0.0005 (repeatable)",
    )
    parser.add_argument(
        "--precision",
        choices=("auto", "fp32", "bf16"),
        default="auto",
        help="CPU arithmetic: auto = bf16 autocast where the CPU has native bf16, else fp32 (auto)",
    )
    parser.add_argument("--threads", type=int, help="CPU threads for the model (default: every core)")
    parser.add_argument("--weights", help="pretrained weights (.pt) to start from, e.g. a YOLO11 checkpoint")
    parser.add_argument("--project", help="folder for runs (default: the per-user data folder's runs/)")
    parser.add_argument("--name", help="run name (default MODEL-SAMPLER; a number is added if taken)")
    parser.add_argument("--resume", metavar="LAST_PT", help="resume an interrupted run from its weights/last.pt")
    parser.add_argument(
        "--trust",
        action="store_true",
        help="allow a full unpickle of --resume/--model/--weights checkpoints (only for files you made)",
    )
    parser.add_argument(
        "--events", choices=("jsonl",), help="stdout carries only JSON-lines progress events; logs go to stderr"
    )
    parser.add_argument(
        "--stop-when-stdin-closes",
        action="store_true",
        help="cancel cleanly when stdin reaches its end: how the app's worker stops if the app itself dies",
    )
    parser.set_defaults(func=run)


def _job(args: argparse.Namespace):
    from grace_core.training.job import TrainJob

    job = TrainJob(
        data=args.data or "",
        model=args.model,
        epochs=args.epochs,
        imgsz=args.imgsz,
        batch=args.batch,
        device=args.device,
        seed=args.seed,
        workers=args.workers,
        patience=args.patience,
        hours=args.hours,
        sampler=args.sampler,
        dscbsm_warmup=args.dscbsm_warmup,
        dscbsm_loss_weighting=args.dscbsm_loss_weighting,
        dscbsm_signal=args.dscbsm_signal,
        dscbsm_rarity=args.dscbsm_rarity,
        dscbsm_options=parse_settings(args.dscbsm_options, "--dscbsm-set"),
        extra=parse_settings(args.overrides, "--set"),
        precision=args.precision,
        threads=args.threads,
        weights=args.weights,
        name=args.name,
        resume=args.resume,
        trust=args.trust,
    )
    if args.project:
        job.project = str(Path(args.project).resolve())
    return job


def _watch_for_cancel(cancel: CancelRequest, stop_at_eof: bool = False) -> None:
    """SIGINT/SIGTERM and a ``stop`` line on stdin request a cancel; a second SIGINT raises KeyboardInterrupt.

    The handlers only set the request: writing an event from a signal handler could interrupt a write in progress.
    The training loop reports the reason when it acts on it, after the current batch. With ``stop_at_eof`` the end
    of stdin is a request too: a parent that dies (even killed) closes its end of the pipe, so no orphan trains on.
    """

    def on_signal(signum, frame):
        if cancel.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        cancel.request(f"received {signal.Signals(signum).name}")

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    def read_stdin() -> None:
        stream = sys.stdin
        if stream is None:
            return
        try:
            for line in stream:
                if line.strip().lower() == "stop":
                    cancel.request("stop requested on stdin")
                    return
        except (OSError, ValueError):
            pass  # stdin closed or unusable
        if stop_at_eof:
            cancel.request("stdin closed: the parent process is gone")

    threading.Thread(target=read_stdin, name="grace-stdin", daemon=True).start()


def run(args: argparse.Namespace) -> int:
    if args.events == "jsonl":
        from grace_core.training.protocol import EventWriter
        from grace_core.training.stdio import redirect_stdout_for_protocol  # before ultralytics is imported

        events = EventWriter(redirect_stdout_for_protocol())
    else:
        from grace_core.training.run import NullSink

        events = NullSink()
    cancel = CancelRequest()
    job = None
    try:
        job = _job(args)
        events.emit("hello", pid=os.getpid(), version=__version__, argv=sys.argv[1:], job=job.to_dict())
        _watch_for_cancel(cancel, stop_at_eof=args.stop_when_stdin_closes)
        from grace_core.training.run import run_training

        result = run_training(job, events, cancel)
    except GraceError as error:
        events.emit("error", message=str(error), traceback=None, kind="user")
        events.emit("done", status="failed", best=None, last=None, save_dir=None, metrics={}, seconds=0.0)
        raise
    except KeyboardInterrupt:
        events.emit("done", status="cancelled", best=None, last=None, save_dir=None, metrics={}, seconds=0.0)
        raise
    except Exception as error:
        events.emit(
            "error", message=f"{type(error).__name__}: {error}", traceback=traceback.format_exc(), kind="internal"
        )
        events.emit("done", status="failed", best=None, last=None, save_dir=None, metrics={}, seconds=0.0)
        print(traceback.format_exc(), file=sys.stderr)
        return 1
    events.emit(
        "done",
        status=result.status,
        best=result.best,
        last=result.last,
        save_dir=result.save_dir,
        metrics=result.metrics,
        seconds=result.seconds,
    )
    print(f"{result.status}: run folder {result.save_dir}", file=sys.stderr)
    if result.best:
        print(f"best weights: {result.best}", file=sys.stderr)
    return EXIT_CANCELLED if result.status == "cancelled" else 0
