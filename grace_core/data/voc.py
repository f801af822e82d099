"""Pascal VOC XML: read one annotation file (tolerantly, reporting positions) and write one."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grace_core.data.records import SkipFile

_POSITION_SUFFIX = re.compile(r": line \d+, column \d+$")


@dataclass(frozen=True)
class VocObject:
    """One ``<object>``; ``index`` counts objects from 1 in file order (used in messages as ``object #k``)."""

    index: int
    name: str
    xmin: float
    ymin: float
    xmax: float
    ymax: float
    difficult: bool = False


@dataclass(frozen=True)
class VocAnnotation:
    path: Path
    filename: str | None
    size: tuple[int, int] | None  # (width, height) as written in <size>, None when absent or not numeric
    objects: tuple[VocObject, ...]


def parse_voc(path: Path) -> VocAnnotation:
    """Parse a VOC file; raise :class:`SkipFile` (kind ``malformed_xml``) when it cannot be used at all."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as error:
        line, column = error.position
        reason = _POSITION_SUFFIX.sub("", str(error))
        raise SkipFile("malformed_xml", f"{path}:{line}:{column + 1}: {reason}") from None
    except OSError as error:
        raise SkipFile("malformed_xml", f"{path}: cannot read: {error.strerror or error}") from None
    if root.tag != "annotation":
        raise SkipFile("malformed_xml", f"{path}: root element is <{root.tag}>, expected <annotation>")
    objects = tuple(_parse_object(path, index, element) for index, element in enumerate(root.iter("object"), 1))
    filename = (root.findtext("filename") or "").strip() or None
    return VocAnnotation(path=path, filename=filename, size=_parse_size(root), objects=objects)


def _parse_object(path: Path, index: int, element: ET.Element) -> VocObject:
    name = (element.findtext("name") or "").strip()
    if not name:
        raise SkipFile("malformed_xml", f"{path}: object #{index}: missing or empty <name>")
    where = f"{path}: object #{index} '{name}'"
    bndbox = element.find("bndbox")
    if bndbox is None:
        raise SkipFile("malformed_xml", f"{where}: missing <bndbox>")
    values: list[float] = []
    for tag in ("xmin", "ymin", "xmax", "ymax"):
        text = (bndbox.findtext(tag) or "").strip()
        try:
            values.append(float(text))
        except ValueError:
            raise SkipFile("malformed_xml", f"{where}: <{tag}> is not a number: {text!r}") from None
        if values[-1] != values[-1] or values[-1] in (float("inf"), float("-inf")):
            raise SkipFile("malformed_xml", f"{where}: <{tag}> is not a finite number: {text!r}")
    difficult = (element.findtext("difficult") or "0").strip() == "1"
    return VocObject(index, name, values[0], values[1], values[2], values[3], difficult)


def _parse_size(root: ET.Element) -> tuple[int, int] | None:
    size = root.find("size")
    if size is None:
        return None
    try:
        return int(float(size.findtext("width") or "")), int(float(size.findtext("height") or ""))
    except ValueError:
        return None


def write_voc(
    path: Path,
    filename: str,
    size: tuple[int, int, int],
    objects: Sequence[tuple[str, float, float, float, float]],
    folder: str = "",
) -> None:
    """Write a VOC file; ``size`` is (width, height, depth), objects are (name, xmin, ymin, xmax, ymax)."""
    root = ET.Element("annotation")
    ET.SubElement(root, "folder").text = folder
    ET.SubElement(root, "filename").text = filename
    size_element = ET.SubElement(root, "size")
    for tag, value in zip(("width", "height", "depth"), size, strict=True):
        ET.SubElement(size_element, tag).text = str(value)
    ET.SubElement(root, "segmented").text = "0"
    for name, xmin, ymin, xmax, ymax in objects:
        obj = ET.SubElement(root, "object")
        ET.SubElement(obj, "name").text = name
        ET.SubElement(obj, "pose").text = "Unspecified"
        ET.SubElement(obj, "truncated").text = "0"
        ET.SubElement(obj, "difficult").text = "0"
        box = ET.SubElement(obj, "bndbox")
        for tag, value in zip(("xmin", "ymin", "xmax", "ymax"), (xmin, ymin, xmax, ymax), strict=True):
            ET.SubElement(box, tag).text = f"{value:g}"
    ET.indent(root, space="\t")
    path.write_bytes(ET.tostring(root, encoding="utf-8") + b"\n")
