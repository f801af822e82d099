"""The review store: flagged frames in a local store (SQLite in WAL mode, images on disk) or a central one
(PostgreSQL, images in the database), one interface for both; a non-blocking writer; a station's spool.

See ``docs/review-store.md`` for the layout, the write order, quota eviction, migrations, concurrency and the
central store.
"""

import sqlite3

from grace_core.errors import StoreError
from grace_core.store.database import StoreUnavailable
from grace_core.store.location import StoreLocation, parse_location
from grace_core.store.query import FrameFilter
from grace_core.store.records import (
    VERDICTS,
    AuditRecord,
    DetectionRecord,
    FrameRecord,
    QuotaReport,
    to_detections,
)
from grace_core.store.review_store import (
    DEFAULT_QUOTA_BYTES,
    NoStoreError,
    ReviewStore,
    VerdictChange,
    default_root,
    default_station,
    store_exists,
)
from grace_core.store.schema import LATEST_VERSION
from grace_core.store.selection import Selection
from grace_core.store.writer import FlaggedFrameWriter, WriterStats

# What using a store may raise besides a programming error: catch these to say "cannot use the store" and go on.
# (A local store lets sqlite3's own errors through in a few places, e.g. a locked database; a central one never
# lets psycopg's out.)
STORE_ERRORS: tuple[type[BaseException], ...] = (StoreError, OSError, sqlite3.Error)

__all__ = [
    "DEFAULT_QUOTA_BYTES",
    "LATEST_VERSION",
    "STORE_ERRORS",
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
    "StoreLocation",
    "StoreUnavailable",
    "VerdictChange",
    "WriterStats",
    "default_root",
    "default_station",
    "parse_location",
    "store_exists",
    "to_detections",
]
