"""Write a YOLO dataset atomically: everything goes to ``OUT.partial-*`` beside OUT, renamed into place at the end."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from grace_core.data.records import ImageRecord
from grace_core.data.report import ImportReport
from grace_core.data.yolo import format_label_line, write_data_yaml
from grace_core.errors import DatasetError

REPORT_NAME = "import_report.json"


def check_output(out: Path, src: Path | None = None) -> None:
    """OUT may be missing or an empty folder; anything else stops the import before any work."""
    if out.exists() and not out.is_dir():
        raise DatasetError(f"output {out} exists and is not a folder: choose a new folder")
    if out.is_dir() and any(out.iterdir()):
        raise DatasetError(f"output folder not empty: {out}: choose a new folder or empty it")
    if src is not None and out.resolve().is_relative_to(src.resolve()):
        raise DatasetError(f"output folder {out} is inside the source folder {src}: choose a folder outside it")


@contextmanager
def staged_folder(out: Path) -> Iterator[Path]:
    """Yield a fresh sibling folder of ``out``; on success it becomes ``out``, on any error it is removed."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f"{out.name}.partial-", dir=out.parent))
    try:
        yield partial
        if out.is_dir():
            out.rmdir()  # empty (checked before the import); fails rather than overwrite if it filled meanwhile
        partial.rename(out)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


def copy_image(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)  # bytes as they are: no re-encoding


def write_labels(path: Path, record: ImageRecord) -> None:
    lines = [format_label_line(box, record.width, record.height) + "\n" for box in record.boxes]
    with path.open("w", encoding="utf-8", newline="\n") as file:
        file.writelines(lines)


class _Report(Protocol):
    def to_dict(self) -> dict: ...


def write_dataset(
    out: Path,
    records: Sequence[ImageRecord],
    class_names: Sequence[str],
    splits: Sequence[str],
    report: ImportReport | _Report,
    tick: Callable[[], None] = lambda: None,
    report_name: str = REPORT_NAME,
    extra: Callable[[Path], None] | None = None,
) -> None:
    """Write images, labels, data.yaml and the report; ``out`` appears only once all of it is written.

    ``extra(folder)`` may add more files to the staged folder (e.g. the images of a dataset merged in) before the
    data.yaml; it is part of the same all-or-nothing write.
    """
    final = out.resolve()
    try:
        with staged_folder(out) as partial:
            for split in splits:
                (partial / "images" / split).mkdir(parents=True)
                (partial / "labels" / split).mkdir(parents=True)
            for record in records:
                assert record.split is not None
                copy_image(record.source, partial / "images" / record.split / record.name)
                write_labels(partial / "labels" / record.split / f"{record.stem}.txt", record)
                tick()
            if extra is not None:
                extra(partial)
            write_data_yaml(partial / "data.yaml", final, splits, class_names)
            text = json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"
            (partial / report_name).write_text(text, encoding="utf-8")
    except OSError as error:
        raise DatasetError(f"cannot write the dataset to {out}: {error}; nothing was written there") from None
