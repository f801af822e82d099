"""Copying frames (rows, boxes, images) and the audit trail from one store into another, idempotently.

Two users: ``grace review migrate --from sqlite:///… --to postgresql://…`` (a station's local store into the central
one, :func:`migrate`), and a station's spool forwarding what it kept while the central server was away
(:mod:`grace_core.store.spool`, :func:`copy_frame`).

Idempotent by key, so that running it twice, or again after a crash or a lost connection mid-copy, copies nothing
twice: a frame is keyed by its ``uid`` (the same in every store), an audit row by its ``uid`` — or, for a row
written before schema v3 gave rows one, by ``<source store id>:<row id>``. Each frame is copied in one transaction
with its boxes and images (never a row without its image). Frame ids differ between stores: audit rows are
re-pointed through the uid, and keep where they came from in ``details["copied_from"]``.

A frame already in the target is not updated: reviews made in the source after its first copy are not merged (their
audit rows are copied, so the trail shows them). Copy a local store once its station writes to the central store.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from grace_core.store.records import AUDIT_COLUMNS, AuditRecord, FrameRecord
from grace_core.store.review_store import MODEL_CLASSES_KEY, BoxRow, ReviewStore

log = logging.getLogger(__name__)

BATCH = 200


@dataclass
class CopyReport:
    """What :func:`migrate` did."""

    frames_copied: int = 0
    frames_present: int = 0  # already in the target (an earlier run, or the station wrote there itself)
    frames_missing_image: int = 0  # rows whose image the source could no longer read: not copied
    audit_copied: int = 0
    audit_present: int = 0
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = (
            f"copied {self.frames_copied} frames ({self.frames_present} already there) and {self.audit_copied} audit "
            f"rows ({self.audit_present} already there)"
        )
        if self.frames_missing_image:
            text += f"; {self.frames_missing_image} frames left out: their image could not be read"
        return text


def frame_row(record: FrameRecord) -> dict[str, Any]:
    """The ``frames`` columns of ``record`` but its id, as :meth:`ReviewStore.insert_frame` takes them."""
    row = dataclasses.asdict(record)
    del row["id"]
    row["reviewed"] = int(record.reviewed)
    return row


def copy_frame(
    source: ReviewStore, target: ReviewStore, record: FrameRecord, classes: dict[str, list[str] | None] | None = None
) -> tuple[int, bool]:
    """Copy one frame with its boxes (deleted ones too), images and its model's class list; returns (target id,
    copied). A uid the target already has is left as it is (``copied`` False). Raises what reading the source or
    writing the target raises (``StoreUnavailable`` when the central server went away: copy it again later)."""
    boxes: list[BoxRow] = [
        (box.class_id, box.class_name, box.confidence, *box.xyxy, box.origin, int(box.deleted))
        for box in source.detections(record.id, include_deleted=True)
    ]
    image = source.image_bytes(record)
    assert image is not None
    heatmap = source.image_bytes(record, heatmap=True)
    cache = classes if classes is not None else {}
    if record.model_id not in cache:
        cache[record.model_id] = source.model_classes(record.model_id)
    names = cache[record.model_id]
    model_classes = (record.model_id, names) if names is not None else None
    return target.insert_frame(frame_row(record), boxes, image, heatmap, model_classes)


def migrate(source: ReviewStore, target: ReviewStore, progress: Callable[[int, int], None] | None = None) -> CopyReport:
    """Copy every frame and audit row of ``source`` that ``target`` lacks (see the module doc)."""
    report = CopyReport()
    total = source.count()
    classes: dict[str, list[str] | None] = {}
    ids: dict[int, int] = {}  # source frame id → target frame id
    after = done = 0
    while batch := source.frames_in_order(after, BATCH):
        after = batch[-1].id
        present = target.known_uids([record.uid for record in batch])
        for record in batch:
            if record.uid in present:
                found = target.frame_by_uid(record.uid)
                if found is not None:
                    ids[record.id] = found.id
                report.frames_present += 1
                continue
            try:
                ids[record.id], copied = copy_frame(source, target, record, classes)
            except (OSError, AssertionError) as exc:  # a row whose file is gone: the rest still goes
                report.frames_missing_image += 1
                report.problems.append(f"frame {record.id} ({record.uid}): {exc}")
                continue
            report.frames_copied += copied
            report.frames_present += not copied
        done += len(batch)
        if progress is not None:
            progress(done, total)
    _copy_meta(source, target)
    _copy_audit(source, target, ids, report)
    return report


def _copy_meta(source: ReviewStore, target: ReviewStore) -> None:
    """Model class lists of models whose frames were evicted from the source still help an export's class list."""
    rows = source.database.execute("SELECT key, value FROM meta WHERE key LIKE ?", (MODEL_CLASSES_KEY + "%",))
    wanted = [(str(key), str(value)) for key, value in rows.fetchall()]
    with target.database.write() as database:
        for key, value in wanted:
            database.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", (key, value))


def _copy_audit(source: ReviewStore, target: ReviewStore, ids: dict[int, int], report: CopyReport) -> None:
    store_id = source.store_id or "unknown-store"
    after = 0
    while True:
        rows = source.database.execute(
            f"SELECT {AUDIT_COLUMNS} FROM audit WHERE id > ? ORDER BY id LIMIT ?", (after, BATCH)
        ).fetchall()
        if not rows:
            return
        records = [AuditRecord.from_row(row) for row in rows]
        after = records[-1].id
        with target.database.write() as database:
            for record in records:
                copied = database.insert(
                    "INSERT INTO audit (at, actor, action, frame_id, details_json, station, uid) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (uid) DO NOTHING",
                    _audit_values(record, store_id, ids),
                )
                report.audit_copied += copied is not None
                report.audit_present += copied is None


def _audit_values(record: AuditRecord, store_id: str, ids: dict[int, int]) -> tuple[Any, ...]:
    details = dict(record.details)
    details["copied_from"] = {"store": store_id, "audit_id": record.id, "frame_id": record.frame_id}
    frame_id = ids.get(record.frame_id) if record.frame_id is not None else None
    uid = record.uid or f"{store_id}:{record.id}"
    details_json = json.dumps(details, sort_keys=True, default=str)
    return (record.at, record.actor, record.action, frame_id, details_json, record.station, uid)
