"""YOLO dataset files: label lines (read and write), class-name files and data.yaml."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from grace_core.data.records import Box, SkipFile
from grace_core.errors import DatasetError

DATA_YAML_NAMES: tuple[str, ...] = ("data.yaml", "dataset.yaml", "data.yml")
MAX_YAML_BYTES = 1 << 20  # a data.yaml is a few hundred bytes; more is the wrong file, or a hostile one


@dataclass(frozen=True)
class LabelLine:
    """One ``class cx cy w h`` line (normalised), with its 1-based line number."""

    line: int
    class_id: int
    cx: float
    cy: float
    w: float
    h: float

    def to_box(self, width: int, height: int) -> Box:
        return Box(
            self.class_id,
            (self.cx - self.w / 2) * width,
            (self.cy - self.h / 2) * height,
            (self.cx + self.w / 2) * width,
            (self.cy + self.h / 2) * height,
        )


def parse_label_file(path: Path) -> list[LabelLine]:
    """Read a YOLO label file; a malformed line raises :class:`SkipFile` (kind ``malformed_label``).

    Class ids are not range-checked here: the caller knows the class list.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SkipFile("malformed_label", f"{path}: cannot read label file: {error}") from None
    lines: list[LabelLine] = []
    for number, raw in enumerate(text.splitlines(), 1):
        fields = raw.split()
        if not fields:
            continue
        where = f"{path}:{number}:"
        if len(fields) != 5:
            raise SkipFile(
                "malformed_label", f"{where} expected 5 values 'class cx cy w h', got {len(fields)}: {raw.strip()!r}"
            )
        try:
            values = [float(field) for field in fields]
        except ValueError:
            raise SkipFile("malformed_label", f"{where} not a number in {raw.strip()!r}") from None
        if not all(math.isfinite(value) for value in values):
            raise SkipFile("malformed_label", f"{where} not a finite number in {raw.strip()!r}")
        if values[0] != int(values[0]):
            raise SkipFile("malformed_label", f"{where} class id {fields[0]!r} is not an integer")
        lines.append(LabelLine(number, int(values[0]), *values[1:]))
    return lines


def format_label_line(box: Box, width: int, height: int) -> str:
    """The YOLO line for a pixel box: ``class cx cy w h`` normalised to the image, 6 decimals."""
    cx = (box.x1 + box.x2) / 2 / width
    cy = (box.y1 + box.y2) / 2 / height
    w = (box.x2 - box.x1) / width
    h = (box.y2 - box.y1) / height
    return f"{box.class_id} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}"


def label_path_for(image: Path) -> Path:
    """Ultralytics' rule: the last ``images`` folder in the path becomes ``labels``, the suffix ``.txt``."""
    parts = list(image.parts)
    for index in range(len(parts) - 2, -1, -1):
        if parts[index] == "images":
            parts[index] = "labels"
            break
    return Path(*parts).with_suffix(".txt")


def names_from_yaml(path: Path) -> list[str]:
    """Class names from a data.yaml ``names`` entry (a list or an index→name mapping)."""
    data = load_yaml(path)
    names = data.get("names")
    if isinstance(names, Mapping):
        try:
            indexed = {int(key): value for key, value in names.items()}
        except (TypeError, ValueError):
            raise DatasetError(f"{path}: 'names' keys must be class indices 0..n-1") from None
        if sorted(indexed) != list(range(len(indexed))):
            raise DatasetError(f"{path}: 'names' keys must be the class indices 0..{len(indexed) - 1} without gaps")
        result = [indexed[index] for index in range(len(indexed))]
    elif isinstance(names, Sequence) and not isinstance(names, str):
        result = list(names)
    else:
        raise DatasetError(f"{path}: no 'names' list or mapping; add one or pass --classes")
    return check_names(_text_names(result, path), str(path))


def _text_names(names: list[object], path: Path) -> list[str]:
    """Class names must be text: a nested list or mapping is a malformed (or hostile) file, and even a number is
    more likely a mistake than a name; nothing is passed through ``str()``, which could expand a huge structure."""
    texts: list[str] = []
    for index, name in enumerate(names):
        if not isinstance(name, str):
            shown = repr(name) if isinstance(name, (int, float, bool)) or name is None else type(name).__name__
            raise DatasetError(
                f"{path}: class {index} has the name {shown:.40}, which is not text; "
                "write each name as a string (quote numbers: '0')"
            )
        texts.append(name)
    return texts


def names_from_txt(path: Path) -> list[str]:
    """Class names from a classes.txt file, one a line (blank lines ignored)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError(f"{path}: cannot read class names: {error}") from None
    return check_names([line.strip() for line in lines if line.strip()], str(path))


def check_names(names: Sequence[str], origin: str) -> list[str]:
    """Reject an empty list, empty or duplicate names; ``origin`` names where the list came from."""
    cleaned = [name.strip() for name in names]
    if not cleaned:
        raise DatasetError(f"{origin}: the class list is empty")
    if any(not name for name in cleaned):
        raise DatasetError(f"{origin}: empty class name in {list(cleaned)}")
    duplicates = sorted({name for name in cleaned if cleaned.count(name) > 1})
    if duplicates:
        raise DatasetError(f"{origin}: duplicate class names {duplicates}")
    return cleaned


class _PlainYamlLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` without anchors and aliases (``&a`` / ``*a``).

    A few hundred bytes of nested aliases ("billion laughs") describe a structure of billions of items; any code
    that walks or prints it then runs out of memory. A dataset description never needs them, so the composer
    refuses them before anything is built.
    """

    def compose_node(self, parent, index):  # PyYAML's signature
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise yaml.composer.ComposerError(
                None,
                None,
                "YAML anchors and aliases (&name, *name) are not allowed here; write the values out",
                event.start_mark,
            )
        return super().compose_node(parent, index)


def load_yaml(path: Path) -> dict:
    """A dataset's YAML file as a mapping; a file over ``MAX_YAML_BYTES``, with anchors or aliases, or not a
    mapping is a :class:`DatasetError` saying so."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_YAML_BYTES + 1)  # never more, whatever the file (or a device) holds
        if len(raw) > MAX_YAML_BYTES:
            raise DatasetError(
                f"{path}: larger than {MAX_YAML_BYTES // (1 << 20)} MB, too large for a dataset description "
                "(a data.yaml names the classes and split folders); check that this is the right file"
            )
        data = yaml.load(raw.decode("utf-8"), Loader=_PlainYamlLoader)  # a SafeLoader subclass: no arbitrary objects
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError(f"{path}: cannot read: {error}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
        raise DatasetError(f"{where}: invalid YAML: {getattr(error, 'problem', None) or error}") from None
    if not isinstance(data, dict):
        raise DatasetError(f"{path}: expected a YAML mapping with 'names' and split paths")
    return data


def write_data_yaml(path: Path, root: Path, splits: Sequence[str], names: Sequence[str]) -> None:
    """Write an Ultralytics data.yaml: absolute ``path`` (``root``), relative split folders, nc and names."""
    data: dict[str, object] = {"path": str(root)}
    for split in splits:
        data[split] = f"images/{split}"
    data["nc"] = len(names)
    data["names"] = dict(enumerate(names))
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
