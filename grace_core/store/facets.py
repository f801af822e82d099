"""What the review tab's filters can offer: the class names, sources, models, stations and coils in the store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from grace_core.store.database import Database


@dataclass(frozen=True)
class Facets:
    class_names: tuple[str, ...]  # ordered by class id, then name
    sources: tuple[str, ...]
    models: tuple[str, ...]
    stations: tuple[str, ...] = ()
    coils: tuple[str, ...] = ()  # without '': frames flagged with no coil known (or before schema v4)


def read_facets(database: Database) -> Facets:
    """Distinct values, each from one indexed or small scan (the store holds at most its quota of frames)."""
    classes = database.execute(
        "SELECT class_name FROM detections WHERE deleted = 0 GROUP BY class_name ORDER BY MIN(class_id), class_name"
    ).fetchall()
    sources = database.execute("SELECT DISTINCT source_id FROM frames ORDER BY source_id").fetchall()
    models = database.execute("SELECT DISTINCT model_id FROM frames ORDER BY model_id").fetchall()
    stations = database.execute("SELECT DISTINCT station FROM frames ORDER BY station").fetchall()
    coils = database.execute("SELECT DISTINCT coil FROM frames WHERE coil <> '' ORDER BY coil").fetchall()
    return Facets(
        class_names=tuple(str(row[0]) for row in classes),
        sources=tuple(str(row[0]) for row in sources),
        models=tuple(str(row[0]) for row in models),
        stations=tuple(str(row[0]) for row in stations),
        coils=tuple(str(row[0]) for row in coils),
    )
