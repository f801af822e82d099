"""``grace coil report``: per-coil defect maps, rates per 100 m, worst stretches and roll marks (CSV + HTML) from the
``events.jsonl`` of ``grace detect … --coil C``."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from grace_core.errors import GraceError


def add_parser(commands: Any) -> None:
    coil = commands.add_parser("coil", help="per-coil reports: defect map, rates per 100 m, roll marks")
    sub = coil.add_subparsers(dest="coil_command", required=True, metavar="SUBCOMMAND")
    report = sub.add_parser(
        "report",
        help="a coil's defect map, defects per 100 m, worst stretches and repeating defects (CSV, HTML)",
        description="Report on the coils in events.jsonl files written by `grace detect … --coil C` (docs/coils.md).",
    )
    report.add_argument(
        "--events",
        type=Path,
        action="append",
        required=True,
        metavar="FILE",
        help="events.jsonl (or the --save-dir holding it); repeatable",
    )
    report.add_argument("--coil", help="only this coil (default: every coil in the events)")
    report.add_argument("--out", type=Path, default=Path("coil-report"), help="output folder (./coil-report)")
    report.add_argument(
        "--length", type=_metres, metavar="M", help="the coil's inspected length (default: up to its farthest defect)"
    )
    report.add_argument("--window", type=_metres, default=10.0, metavar="M", help="worst-stretch length (10 m)")
    report.add_argument("--top", type=int, default=5, metavar="N", help="how many worst stretches (5)")
    report.add_argument("--section", type=_metres, default=100.0, metavar="M", help="rate-table sections (100 m)")
    marks = report.add_argument_group("roll marks (repeating defects)")
    marks.add_argument("--min-pitch", type=_metres, default=0.3, metavar="M", help="shortest pitch sought (0.3 m)")
    marks.add_argument("--max-pitch", type=_metres, default=10.0, metavar="M", help="longest pitch sought (10 m)")
    marks.add_argument(
        "--tolerance", type=_metres, default=0.1, metavar="M", help="how far an event may lie off the pattern (0.1 m)"
    )
    marks.add_argument("--min-repeats", type=int, default=4, metavar="N", help="events that fit, at least (4)")
    report.set_defaults(func=run_report)


def run_report(args: argparse.Namespace) -> int:
    from grace_core.coil_report import coil_reports, load_events, write_report
    from grace_core.rollmarks import RollMarkSettings

    if args.top < 1:
        raise GraceError(f"--top must be 1 or more, got {args.top}")
    try:
        settings = RollMarkSettings(
            min_pitch_m=args.min_pitch,
            max_pitch_m=args.max_pitch,
            tolerance_m=args.tolerance,
            min_repeats=args.min_repeats,
        )
    except ValueError as error:
        raise GraceError(str(error)) from None
    events = load_events(args.events)
    for line in events.bad_lines[:5]:
        print(f"warning: skipped {line}", file=sys.stderr)
    if len(events.bad_lines) > 5:
        print(f"warning: skipped {len(events.bad_lines) - 5} more lines that are not events", file=sys.stderr)
    if not events.coils():
        print(f"no defect events in {', '.join(events.sources)}: nothing to report")
        return 0
    try:
        reports = coil_reports(
            events,
            coil=args.coil,
            all_coils=args.coil is None,
            length_m=args.length,
            window_m=args.window,
            top=args.top,
            roll_settings=settings,
            section_m=args.section,
        )
    except ValueError as error:
        raise GraceError(str(error)) from None
    for report in reports:
        paths = write_report(report, args.out)
        coil_map = report.map
        name = report.coil or "(no coil)"
        print(f"coil {name}: {len(coil_map.defects)} defect events on {coil_map.length_m:g} m; {paths[0]}")
        if coil_map.unplaced:
            print(f"  {coil_map.unplaced} events without a position along the coil are not on the map")
        for mark in report.roll_marks:
            print(f"  ROLL MARK: {mark.describe()}")
    return 0


def _metres(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"expected metres, more than 0, got {text!r}")
    return value
