"""What the review tab's filters can offer: the class names, sources and models present in the store."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True)
class Facets:
    class_names: tuple[str, ...]  # ordered by class id, then name
    sources: tuple[str, ...]
    models: tuple[str, ...]


def read_facets(conn: sqlite3.Connection) -> Facets:
    """Distinct values, each from one indexed or small scan (the store holds at most its quota of frames)."""
    classes = conn.execute(
        "SELECT class_name FROM detections WHERE deleted = 0 GROUP BY class_name ORDER BY MIN(class_id), class_name"
    ).fetchall()
    sources = conn.execute("SELECT DISTINCT source_id FROM frames ORDER BY source_id").fetchall()
    models = conn.execute("SELECT DISTINCT model_id FROM frames ORDER BY model_id").fetchall()
    return Facets(
        class_names=tuple(str(row[0]) for row in classes),
        sources=tuple(str(row[0]) for row in sources),
        models=tuple(str(row[0]) for row in models),
    )
