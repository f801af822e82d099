"""The review store: flagged frames in SQLite (WAL) with their images on disk, and a non-blocking writer.

See ``docs/review-store.md`` for the layout, the write order, quota eviction, migrations and concurrency.
"""

from grace_core.errors import StoreError
from grace_core.store.query import FrameFilter
from grace_core.store.records import (
    VERDICTS,
    AuditRecord,
    DetectionRecord,
    FrameRecord,
    QuotaReport,
    to_detections,
)
from grace_core.store.review_store import DEFAULT_QUOTA_BYTES, NoStoreError, ReviewStore, default_root
from grace_core.store.schema import LATEST_VERSION
from grace_core.store.selection import Selection
from grace_core.store.writer import FlaggedFrameWriter, WriterStats

__all__ = [
    "DEFAULT_QUOTA_BYTES",
    "LATEST_VERSION",
    "VERDICTS",
    "AuditRecord",
    "DetectionRecord",
    "FlaggedFrameWriter",
    "FrameFilter",
    "FrameRecord",
    "NoStoreError",
    "QuotaReport",
    "ReviewStore",
    "Selection",
    "StoreError",
    "WriterStats",
    "default_root",
    "to_detections",
]
