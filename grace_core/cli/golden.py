"""``grace golden``: the golden-sample check at shift start — the reference images through the live model and
thresholds, recall against the floor, the result in the review store's audit trail; exit 0 if it passed."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from grace_core.engine.runtimes import BACKEND_CHOICES
from grace_core.errors import GraceError
from grace_core.flagging import Thresholds


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "golden",
        help="golden-sample check: does the live model still find the reference images' known defects?",
        description="Run the station's reference images through the model and thresholds, check the known defects "
        "are found (recall at IoU 0.5 against a floor) and record the result in the review store's audit trail "
        "(docs/coils.md#golden-sample-check).",
    )
    parser.add_argument("--model", required=True, help="the live model: 'shipped', a .pt, .onnx or OpenVINO model")
    parser.add_argument("--backend", default="auto", choices=BACKEND_CHOICES)
    parser.add_argument(
        "--samples", type=Path, metavar="DIR", help="reference images with VOC annotations (default: the demo images)"
    )
    parser.add_argument(
        "--store",
        metavar="URL",
        help="review store for the audit record: a folder, sqlite:///PATH or postgresql://… (default: the app's)",
    )
    parser.add_argument("--no-record", action="store_true", help="check only; write nothing to the store")
    parser.add_argument("--thresholds", type=Path, metavar="FILE", help="thresholds as JSON (Thresholds.to_dict)")
    parser.add_argument("--conf", type=float, help="uncertain threshold of every class (0.25)")
    parser.add_argument("--flag", type=float, help="flag threshold of every class (0.5)")
    parser.add_argument("--iou", type=float, help="NMS IoU threshold (0.7)")
    parser.add_argument("--floor", type=float, help="least recall of the known defects (default: the model card's)")
    parser.add_argument("--defect-floor", type=float, help="least share flagged as defect (default: half the floor)")
    parser.add_argument("--json", action="store_true", help="print the full result as JSON")
    parser.set_defaults(func=run)


def thresholds_from(args: argparse.Namespace) -> Thresholds:
    """The thresholds file (if any) with --conf, --flag and --iou applied over it."""
    data: dict[str, Any] = {}
    if args.thresholds is not None:
        try:
            data = json.loads(args.thresholds.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise GraceError(f"{args.thresholds}: cannot read the thresholds ({error})") from None
        if not isinstance(data, dict):
            raise GraceError(f"{args.thresholds}: expected a JSON object of thresholds")
    for key, value in (("default_uncertain", args.conf), ("default_flag", args.flag), ("iou", args.iou)):
        if value is not None:
            data[key] = value
    try:
        return Thresholds.from_dict(data)
    except (TypeError, ValueError) as error:
        raise GraceError(f"thresholds: {error}") from None


def run(args: argparse.Namespace) -> int:
    from grace_core.golden import record_golden_check, run_golden_check
    from grace_core.models import resolve_model

    thresholds = thresholds_from(args)
    model, backend = resolve_model(args.model, args.backend)
    result = run_golden_check(model, thresholds, backend, args.samples, args.floor, args.defect_floor)
    if args.json:
        print(json.dumps(result.to_details(), indent=2))
    else:
        print(result.summary())
        for name, counts in result.per_class.items():
            print(f"  {name:<18} {counts['shown']:>3}/{counts['known']:<3} shown  {counts['flagged']:>3} flagged")
        print(f"  floor from {result.floor_source}; model {result.model_id} on {result.backend}")
    if not args.no_record:
        record_golden_check(result, args.store)
        print(f"recorded in the audit trail of {args.store or 'the app’s review store'}", file=sys.stderr)
    return 0 if result.passed else 1
