"""``grace val``: mAP50, mAP50-95, precision, recall and per-class AP of a checkpoint on a dataset split."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from grace_core.engine.runtimes import BACKEND_CHOICES, PRECISIONS


def add_parser(commands) -> None:
    parser = commands.add_parser("val", help="evaluate a trained model on a dataset split")
    parser.add_argument(
        "--model", required=True, help="a trained .pt checkpoint, or an exported .onnx / OpenVINO .xml (grace export)"
    )
    parser.add_argument("--data", required=True, help="data.yaml, or a dataset folder holding one")
    parser.add_argument("--split", default="val", choices=("val", "test", "train"), help="split to evaluate (val)")
    parser.add_argument(
        "--imgsz", type=int, help="inference image size (default: the size the model was trained or exported at)"
    )
    parser.add_argument(
        "--backend", default="auto", choices=BACKEND_CHOICES, help="runtime for an exported model (auto: by its file)"
    )
    parser.add_argument(
        "--precision", default="f32", choices=PRECISIONS, help="exported model's arithmetic: f32 (exact) or bf16"
    )
    parser.add_argument("--batch", type=int, default=16, help="batch size (16)")
    parser.add_argument("--device", default="cpu", help="cpu, 0, 0,1 … (cpu)")
    parser.add_argument("--conf", type=float, default=0.001, help="confidence floor for the AP curves (0.001)")
    parser.add_argument("--iou", type=float, default=0.7, help="NMS IoU threshold (0.7)")
    parser.add_argument("--json", type=Path, help="also write the metrics to this JSON file")
    parser.add_argument(
        "--trust", action="store_true", help="allow a full unpickle of the checkpoint (only for files you made)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from grace_core.evaluation import validate
    from grace_core.training.stdio import stdout_to_stderr

    with stdout_to_stderr():  # stdout carries the table alone; ultralytics' progress and log lines go to stderr
        result = validate(
            args.model,
            args.data,
            split=args.split,
            imgsz=args.imgsz,
            batch=args.batch,
            device=args.device,
            conf=args.conf,
            iou=args.iou,
            trust=args.trust,
            backend=args.backend,
            precision=args.precision,
        )
    print(result.table())
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result.to_dict(), indent=2), encoding="utf-8")
    return 0
