"""Where a review store lives, from the one string a user gives: a folder, ``sqlite:///path`` or ``postgresql://…``.

A plain folder (or a :class:`~pathlib.Path`) is today's local store: SQLite plus image files under that folder.
``sqlite:///path`` is the same, spelled as a URL (``sqlite:////abs/path`` or ``sqlite:///rel/path``, as
SQLAlchemy writes them; ``sqlite:///~/x`` expands the home folder). ``postgresql://user[:password]@host[:port]/db``
(also ``postgres://``) is a central store on a PostgreSQL server, with the images in the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from grace_core.errors import StoreError

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
_PG_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")


@dataclass(frozen=True)
class StoreLocation:
    """``kind`` is ``"sqlite"`` (``path`` is the store folder) or ``"postgresql"`` (``url`` is the server's)."""

    kind: str
    path: Path | None = None
    url: str | None = None

    @property
    def is_central(self) -> bool:
        return self.kind == POSTGRESQL

    def display(self) -> str:
        """For messages and logs: the folder, or the URL with any password shown as ``***``."""
        return str(self.path) if self.path is not None else redact(self.url or "")

    def __str__(self) -> str:
        return self.display()


def parse_location(where: str | Path | StoreLocation | None, default: Path | None = None) -> StoreLocation:
    """The store ``where`` names; None is ``default`` (the app's folder). Raises StoreError for an unknown scheme."""
    if isinstance(where, StoreLocation):
        return where
    if where is None:
        if default is None:
            raise StoreError("no review store given: pass a folder, sqlite:///PATH or postgresql://USER@HOST/DB")
        return StoreLocation(SQLITE, path=Path(default))
    if isinstance(where, Path):
        return StoreLocation(SQLITE, path=where)
    text = str(where).strip()
    scheme = text.partition("://")[0].lower() if "://" in text else ""
    if not scheme or re.fullmatch(r"[a-z]", scheme):  # "C://…" would be a Windows drive, not a scheme
        return StoreLocation(SQLITE, path=Path(text).expanduser())
    if scheme == SQLITE:
        rest = text[len("sqlite://") :]
        if not rest.startswith("/") or rest == "/":
            raise StoreError(f"cannot read the store URL {text!r}: write sqlite:///relative/folder or sqlite:////abs")
        return StoreLocation(SQLITE, path=Path(rest[1:]).expanduser())
    if scheme in _PG_SCHEMES:
        parts = urlsplit(text)
        if not parts.hostname and "host=" not in (parts.query or ""):
            raise StoreError(f"the store URL {redact(text)} names no server: write postgresql://USER@HOST:PORT/DB")
        return StoreLocation(POSTGRESQL, url=urlunsplit(("postgresql", *parts[1:])))
    raise StoreError(
        f"unknown review store {redact(text)!r}: give a folder, sqlite:///PATH or postgresql://USER@HOST:PORT/DB"
    )


def redact(url: str) -> str:
    """``url`` with the password (``user:secret@``) and ``password=`` query values replaced by ``***``."""
    text = re.sub(r"(://[^/@:]*):[^/@]*@", r"\1:***@", url)
    return re.sub(r"(?i)(password=)[^&\s]*", r"\1***", text)
