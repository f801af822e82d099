"""``grace review export|report|migrate|status``: reviewed frames → a YOLO dataset; a shift report; a local store
copied into the central one; where a store (and a station's spool) stands.

``--store`` takes a folder, ``sqlite:///PATH`` or ``postgresql://USER@HOST:PORT/DB`` (docs/review-store.md).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from grace_core.errors import StoreError


def add_parser(commands: Any) -> None:
    review = commands.add_parser(
        "review", help="export reviewed frames as training data; shift reports; copy a store into the central one"
    )
    sub = review.add_subparsers(dest="review_command", required=True, metavar="SUBCOMMAND")
    store_help = (
        "review store: a folder, sqlite:///PATH or postgresql://USER@HOST:PORT/DB (default: the app's folder, under "
        "the per-user data folder)"
    )

    export = sub.add_parser(
        "export",
        help="write the reviewed frames as a YOLO dataset (defect: boxes; false alarm: background image)",
        description="Write the reviewed frames of a review store as a new YOLO dataset (see docs/review-store.md).",
    )
    export.add_argument("--store", metavar="URL", help=store_help)
    export.add_argument("--out", type=Path, required=True, help="new (or empty) output folder")
    export.add_argument("--merge-with", type=Path, metavar="DATA_YAML", help="also include this YOLO dataset")
    export.add_argument(
        "--classes",
        help="comma-separated class names, in id order (default: the full class list of the model that flagged the "
        "frames, so a class without reviewed boxes is kept)",
    )
    export.add_argument("--val", type=float, default=0.2, help="share of the review frames for validation (0.2)")
    export.add_argument("--seed", type=int, default=0, help="split seed (default 0)")
    export.set_defaults(func=run_export)

    report = sub.add_parser(
        "report",
        help="flagged and reviewed frames over a period, per class and over time (CSV, HTML)",
        description="Summarise the frames captured in [--since, --until) (ISO 8601; local time unless a zone "
        "is given).",
    )
    report.add_argument("--store", metavar="URL", help=store_help)
    report.add_argument("--since", help="first capture time, e.g. 2024-05-01T06:00 (default: the first frame)")
    report.add_argument("--until", help="end of the period, exclusive (default: the last frame)")
    report.add_argument("--source", help="only frames from this source id, e.g. camera:0")
    report.add_argument("--csv", type=Path, metavar="FILE", help="counts per class (and FILE_timeline.csv beside it)")
    report.add_argument("--html", type=Path, metavar="FILE", help="a self-contained HTML report with the chart")
    report.set_defaults(func=run_report)

    migrate = sub.add_parser(
        "migrate",
        help="copy a store's frames, images, verdicts and audit trail into another (e.g. a station's into the "
        "central one); running it again copies nothing twice",
        description="Copy every frame (with its boxes, images, verdict) and audit row of --from that --to does not "
        "hold yet. Frames are keyed by uid, so a second run copies nothing twice. --to is created if needed.",
    )
    migrate.add_argument("--from", dest="source", metavar="URL", required=True, help="the store to copy from")
    migrate.add_argument("--to", dest="target", metavar="URL", required=True, help="the store to copy into")
    migrate.set_defaults(func=run_migrate)

    status = sub.add_parser(
        "status",
        help="frames per station, verdict conflicts, and this station's spool backlog",
        description="Where a review store stands: frames per station (reviewed / all), verdict conflicts, and the "
        "frames a station's spool still holds for the central store.",
    )
    status.add_argument("--store", metavar="URL", help=store_help)
    status.add_argument("--spool", type=Path, metavar="FOLDER", help="a station's spool folder (default: this user's)")
    status.set_defaults(func=run_status)


def _open_store(root: str | None) -> Any:
    """The existing store at ``root`` (default: the app's), read-only: export and report never create or change it."""
    from grace_core.store.review_store import NoStoreError, ReviewStore

    try:
        return ReviewStore.open_existing(root, readonly=True)
    except NoStoreError as error:
        raise StoreError(f"{error}: give the review store with --store") from error


def run_export(args: argparse.Namespace) -> int:
    from grace_core.cli.data import _parse_classes, _progress_bar
    from grace_core.review.export import export_reviewed

    classes = _parse_classes(args.classes)
    with _open_store(args.store) as store:
        bar = _progress_bar("exporting")
        try:
            report = export_reviewed(
                store,
                args.out,
                classes,
                merge_with=args.merge_with,
                val_fraction=args.val,
                seed=args.seed,
                progress=bar,
            )
        finally:
            bar.close()
    print(format_export_summary(report))
    return 0


def format_export_summary(report: Any) -> str:
    """The CLI summary of an :class:`ExportReport`."""
    exported = report.exported
    lines = [
        f"exported {report.frames_exported} reviewed frames: {exported['defect']} defect (with boxes), "
        f"{exported['false_alarm']} false alarm (background images)",
        "left out: " + ", ".join(f"{count} {kind.replace('_', ' ')}" for kind, count in report.skipped.items()),
        "split: " + ", ".join(f"{split} {count}" for split, count in report.images_per_split.items()),
        "boxes: " + ", ".join(f"{name} {count}" for name, count in report.boxes_per_class.items()),
    ]
    if report.merged_from:
        merged = ", ".join(f"{split} {count}" for split, count in report.merged_images.items())
        lines.append(f"merged with {report.merged_from}: {merged}")
        if report.replaced:
            lines.append(f"({report.replaced} earlier exports of reviewed frames replaced by their current review)")
    for issue in report.issues[:10]:
        lines.append(f"  {issue.message}")
    lines.append(f"data.yaml: {report.data_yaml}")
    return "\n".join(lines)


def run_report(args: argparse.Namespace) -> int:
    from grace_core.review.report import shift_report, write_csv, write_html
    from grace_core.review.times import parse_time, show_time
    from grace_core.store.query import FrameFilter

    since = parse_time(args.since) if args.since else None
    until = parse_time(args.until) if args.until else None
    with _open_store(args.store) as store:
        report = shift_report(store, since, until, args.source)
        with store.errors():
            stations = store.select(FrameFilter(since=since, until=until, source_id=args.source)).stations()
    flagged, verdicts = report.flagged, report.verdicts
    print(
        f"flagged {flagged['total']} frames ({flagged['defect']} defect, {flagged['uncertain']} uncertain)"
        + (f" from {show_time(report.first)} to {show_time(report.last)}" if report.first is not None else "")
    )
    print(
        f"reviewed {report.reviewed}: {verdicts['defect']} defect, {verdicts['false_alarm']} false alarm, "
        f"{verdicts['unsure']} unsure; {verdicts['unreviewed']} not reviewed"
    )
    for row in report.classes:
        print(f"  {row.class_name}: {row.boxes} boxes in {row.frames} frames")
    if len(stations) > 1 or (stations and stations[0].station):
        print("stations: " + ", ".join(f"{row.station or '(none)'} {row.frames}" for row in stations))
    if args.csv is not None:
        print("csv: " + ", ".join(str(path) for path in write_csv(report, args.csv)))
    if args.html is not None:
        print(f"html: {write_html(report, args.html)}")
    return 0


def run_migrate(args: argparse.Namespace) -> int:
    from grace_core.store import transfer
    from grace_core.store.location import parse_location
    from grace_core.store.review_store import ReviewStore

    source_at, target_at = parse_location(args.source), parse_location(args.target)
    if source_at == target_at:
        raise StoreError(f"--from and --to are the same store ({source_at}); nothing to copy")
    # read-write only so that an older store is upgraded first (as the app does); nothing else in it changes
    with (
        ReviewStore.open_existing(source_at, readonly=False) as source,
        ReviewStore.open(target_at) as target,
        source.errors(),
        target.errors(),
    ):
        report = transfer.migrate(source, target)
    print(f"{report.summary()}; from {source_at} to {target_at}")
    for problem in report.problems[:10]:
        print(f"  {problem}")
    return 0


def run_status(args: argparse.Namespace) -> int:
    from grace_core.store.spool import default_spool_dir

    with _open_store(args.store) as store, store.errors():
        stations = store.select().stations()
        conflicts = store.conflicts(limit=1000)
        print(f"review store {store.location}: {sum(row.frames for row in stations)} frames")
        for row in stations:
            print(f"  station {row.station or '(none)'}: {row.frames} frames, {row.reviewed} reviewed")
        print(f"verdict conflicts (a reviewer overrode another's different verdict): {len(conflicts)}")
        for entry in conflicts[:10]:
            details = entry.details
            print(
                f"  frame {entry.frame_id}: {details.get('from')} by {details.get('from_actor')} → "
                f"{details.get('to')} by {entry.actor}"
            )
    spool = args.spool or default_spool_dir(store.location)
    if args.spool is not None or (spool / "review.db").is_file():
        with _open_store(str(spool)) as spooled:
            print(
                f"spool {spool}: {spooled.count()} frames ({spooled.usage_bytes()} bytes) not yet in the central store"
            )
    return 0
