"""Per-coil reports (grace_core/coil_report): events of `grace detect … --coil C` → the coil map, exact rates per
100 m and per-metre density, the worst stretches, roll marks, and CSV + self-contained HTML files; `grace coil
report` on the command line."""

from __future__ import annotations

import csv
import itertools
import json
import math
import re
import time
from pathlib import Path

import numpy as np
import pytest

from grace_core.coil_report import (
    CoilDefect,
    build_coil_map,
    coil_report,
    coil_reports,
    file_stem,
    from_events,
    load_events,
    write_report,
)
from grace_core.errors import GraceError

NAMES = ("crazing", "inclusion", "patches", "pitted_surface", "rolled-in_scale", "scratches")


def record(index: int, class_id: int, coil_m: float | None, coil: str | None = "C4711", **extra) -> dict:
    """An events.jsonl line as EventsSink writes it."""
    return {
        "event": f"e{index}",
        "class_id": class_id,
        "class_name": NAMES[class_id],
        "status": extra.pop("status", "defect"),
        "confidence": extra.pop("confidence", 0.8),
        "box": [0, 0, 10, 10],
        "first_seen": 1_700_000_000.0 + index,
        "last_seen": 1_700_000_000.0 + index,
        "sightings": 1,
        "source_id": "demo",
        "along_m": coil_m,
        "across_mm": extra.pop("across_mm", 100.0 + index % 7 * 20),
        "coil": coil,
        "coil_m": coil_m,
        "station": "line-1",
        "source": "demo",
        "model": "grace-neu-det.onnx@x",
        **extra,
    }


def write_jsonl(path: Path, records: list[dict], tail: str = "") -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + tail, encoding="utf-8")
    return path


def known_coil() -> list[dict]:
    """1000 m of coil, random places (no pattern) with known counts: crazing 10 in each 100 m (100 events);
    inclusion 20 in 200–300 m; a cluster of 12 scratches in 640–646 m; 3 uncertain patches."""
    rng = np.random.default_rng(42)
    crazing = np.concatenate([rng.uniform(s + 0.5, s + 99.5, 10) for s in range(0, 1000, 100)])
    records = [record(i, 0, float(x)) for i, x in enumerate(crazing)]
    records += [record(100 + i, 1, float(x)) for i, x in enumerate(rng.uniform(200.5, 299.5, 20))]
    records += [record(200 + i, 5, float(x)) for i, x in enumerate(np.sort(rng.uniform(640.0, 646.0, 12)))]
    records += [record(300 + i, 2, 60.0 + 300 * i, status="uncertain") for i in range(3)]
    return records


def positions(records: list[dict], class_id: int) -> np.ndarray:
    return np.array([r["coil_m"] for r in records if r["class_id"] == class_id])


def test_counts_per_100_m_and_density_are_exact():
    records = known_coil()
    events = from_events(records)
    coil_map = build_coil_map(events.defects, "C4711", length_m=1000.0, class_names=NAMES)
    assert coil_map.counts() == {
        "crazing": 100, "inclusion": 20, "patches": 3, "pitted_surface": 0, "rolled-in_scale": 0, "scratches": 12
    }  # fmt: skip
    assert coil_map.per_100m() == pytest.approx(
        {"crazing": 10.0, "inclusion": 2.0, "patches": 0.3, "pitted_surface": 0.0, "rolled-in_scale": 0.0,
         "scratches": 1.2}
    )  # fmt: skip
    assert coil_map.counts("uncertain") == {**dict.fromkeys(NAMES, 0), "patches": 3}
    sections = coil_map.sections(100.0)
    assert sections.starts == tuple(float(s) for s in range(0, 1000, 100))
    assert sections.per_class["crazing"] == (10,) * 10
    assert sections.per_class["inclusion"] == (0, 0, 20, 0, 0, 0, 0, 0, 0, 0)
    assert sections.per_class["scratches"][6] == 12
    assert sum(sections.total) == 135
    per_metre = coil_map.density()  # 1 m bins
    assert len(per_metre.starts) == 1000 and per_metre.bin_m == 1.0
    for class_id, name in enumerate(NAMES):
        expected, _ = np.histogram(positions(records, class_id), bins=np.arange(0, 1001))
        assert per_metre.per_class[name] == tuple(expected), name
    assert sum(count for start, count in per_metre.series("scratches") if 640 <= start < 646) == 12


def test_a_defect_at_the_coils_very_end_is_in_the_last_bin():
    coil_map = build_coil_map(from_events([record(0, 0, 200.0)]).defects, "C4711", length_m=200.0)
    assert coil_map.sections(100.0).total == (0, 1)


def test_without_a_length_the_coil_ends_at_its_farthest_defect():
    records = known_coil()
    coil_map = build_coil_map(from_events(records).defects, "C4711")
    farthest = max(r["coil_m"] for r in records)
    assert coil_map.length_m == math.ceil(farthest) and not coil_map.length_known
    with pytest.raises(ValueError, match="shorter"):
        build_coil_map(from_events(records).defects, "C4711", length_m=900.0)


def test_the_worst_stretches_are_found_worst_first_without_overlap():
    records = known_coil()
    coil_map = build_coil_map(from_events(records).defects, "C4711", length_m=1000.0)
    stretches = coil_map.worst_stretches(window_m=10.0, count=5)
    assert len(stretches) == 5
    first = stretches[0]
    scratches = positions(records, 5)
    assert first.start_m <= scratches.min() and first.end_m >= scratches.max() and first.end_m - first.start_m == 10
    crazing = positions(records, 0)
    near = int(np.count_nonzero((crazing >= first.start_m) & (crazing <= first.end_m)))
    assert first.per_class == {"scratches": 12, **({"crazing": near} if near else {})} and first.count == 12 + near
    assert [s.count for s in stretches] == sorted((s.count for s in stretches), reverse=True)
    for a, b in itertools.combinations(stretches, 2):
        assert a.end_m <= b.start_m or b.end_m <= a.start_m
    for stretch in stretches:  # each count is what lies in it
        assert stretch.count == len(coil_map.in_stretch(stretch.start_m, stretch.end_m))
    # no 10 m window anywhere holds more than the worst one
    every = np.array([d.coil_m for d in coil_map.defects])
    assert max(np.count_nonzero((every >= s) & (every <= s + 10)) for s in np.arange(0, 990, 0.25)) <= first.count


def test_defect_events_of_the_app_are_placed_like_file_records():
    from grace_core.events import DefectEvent

    event = DefectEvent("abc", 2, "patches", "defect", 0.7, (0, 0, 1, 1), 1.0, 2.0, 1, "cam", across_mm=12.5,
                        coil="C1", coil_m=42.0)  # fmt: skip
    unplaced = DefectEvent("def", 2, "patches", "defect", 0.7, (0, 0, 1, 1), 1.0, 2.0, 1, "cam", coil="C1")
    events = from_events([event, unplaced])
    assert events.defects == (CoilDefect("C1", 42.0, 12.5, 2, "patches", 0.7, "defect", "abc", 1.0),)
    assert events.unplaced == {"C1": 1} and events.coils() == ["C1"]
    assert CoilDefect.from_event(event) == events.defects[0]


def test_events_files_are_read_with_bad_lines_named_and_repeats_counted_once(tmp_path):
    records = [*known_coil(), record(900, 0, None), record(901, 1, 12.0, coil=None), record(902, 3, 7.0, coil="C2")]
    path = write_jsonl(tmp_path / "events.jsonl", records, tail='{"event": "cut off by a cr')
    events = load_events([path, tmp_path])  # the file, and its folder: the same events
    assert len(events.defects) == len(records) - 1
    assert events.unplaced == {"C4711": 1}
    assert set(events.coils()) == {None, "C2", "C4711"}
    assert len(events.bad_lines) == 2 and re.match(r".*events\.jsonl:139: not JSON", events.bad_lines[0])
    with pytest.raises(GraceError, match="no such events file"):
        load_events(tmp_path / "missing.jsonl")
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    write_jsonl(garbage / "events.jsonl", [], tail="not json\n[1, 2]\n")
    with pytest.raises(GraceError, match="no defect event could be read"):
        load_events(garbage)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert load_events(empty).coils() == []


def test_files_written_by_the_events_sink_are_read_back(tmp_path):
    from grace_core.events import DefectEvent, EventUpdate
    from grace_core.sinks.base import InspectionContext, InspectionRecord
    from grace_core.sinks.files import EventsSink

    closed = tuple(
        DefectEvent(f"e{i}", 1, "inclusion", "defect", 0.9, (0, 0, 5, 5), 1.0, 1.0, 1, "demo", along_m=3.0 * i,
                    across_mm=50.0, coil="C9", coil_m=3.0 * i)
        for i in range(10)
    )  # fmt: skip
    sink = EventsSink(tmp_path / "events.jsonl")
    sink.submit(InspectionRecord(None, EventUpdate(closed=closed), None, InspectionContext(coil="C9")))
    sink.close(timeout=10.0)
    [report] = coil_reports(load_events(tmp_path / "events.jsonl"), "C9")
    assert report.map.counts() == {"inclusion": 10} and report.map.length_m == 27.0
    assert [(m.class_name, round(m.pitch_m, 3)) for m in report.roll_marks] == [("inclusion", 3.0)]


def test_report_files_are_written_parseable_and_self_contained(tmp_path):
    rng = np.random.default_rng(0)
    records = known_coil() + [record(500 + i, 3, 400.0 + 2.5 * i + rng.normal(0, 0.02)) for i in range(12)]
    events = from_events(records)
    coil_map = build_coil_map(events.defects, "C4711", length_m=1000.0, class_names=NAMES)
    report = coil_report(coil_map, window_m=10.0, top=5)
    assert [(m.class_name, round(m.pitch_m, 2)) for m in report.roll_marks] == [("pitted_surface", 2.5)]
    paths = write_report(report, tmp_path / "out")
    assert [p.name for p in paths] == [
        "C4711.html", "C4711_defects.csv", "C4711_classes.csv", "C4711_sections.csv", "C4711_stretches.csv",
        "C4711_roll_marks.csv",
    ]  # fmt: skip

    def rows(name: str) -> list[dict]:
        with (tmp_path / "out" / f"C4711_{name}.csv").open(encoding="utf-8", newline="") as file:
            return list(csv.DictReader(file))

    assert len(rows("defects")) == 147
    classes = {row["class_name"]: row for row in rows("classes")}
    assert classes["crazing"]["events"] == "100" and float(classes["crazing"]["per_100m"]) == 10.0
    assert classes["patches"]["uncertain"] == "3" and classes["rolled-in_scale"]["events"] == "0"
    sections = rows("sections")
    assert len(sections) == 10 and sections[2]["inclusion"] == "20" and sections[4]["pitted_surface"] == "12"
    assert rows("stretches")[0]["rank"] == "1" and rows("stretches")[0]["scratches"] == "12"
    [mark] = rows("roll_marks")
    assert mark["class_name"] == "pitted_surface" and float(mark["pitch_m"]) == pytest.approx(2.5, abs=0.01)
    assert float(mark["diameter_m"]) == pytest.approx(2.5 / np.pi, abs=0.01)

    html = (tmp_path / "out" / "C4711.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.count("<svg") == 2
    assert html.count("<circle") >= 147  # a dot per defect (and rings for the roll mark)
    assert re.search(r"pitted_surface</td><td>2\.(49|50)\d</td>", html)  # the roll-mark table
    outside = re.findall(r"""(?:src|href)\s*=\s*["']?(?!data:|#)[^"' >]+""", html)
    assert outside == [] and "<script" not in html and "<link" not in html and "@import" not in html
    assert re.findall(r"https?://[^\"' ]+", html) == ["http://www.w3.org/2000/svg"] * 2  # the SVG namespace only
    assert json.loads(json.dumps(report.to_dict()))["counts"]["crazing"] == 100


def test_coil_ids_make_safe_file_names():
    assert file_stem("C4711") == "C4711"
    assert file_stem("../etc/pass wd") == "_etc_pass_wd"
    assert file_stem(None) == "no-coil"


def test_the_command_line_reports_one_coil_or_every_coil(tmp_path, capsys):
    from grace_core.cli.main import main

    rng = np.random.default_rng(2)
    marks = [record(800 + i, 5, 100.0 + 3.1 * i + rng.normal(0, 0.02), coil="C2") for i in range(12)]
    events = write_jsonl(tmp_path / "events.jsonl", [*known_coil(), *marks, record(999, 0, 5.0, coil=None)])
    out = tmp_path / "report"
    assert main(["coil", "report", "--events", str(events), "--coil", "C2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "coil C2: 12 defect events" in printed and "ROLL MARK: scratches repeats every 3.1" in printed
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"C2{suffix}" for suffix in (".html", "_defects.csv", "_classes.csv", "_sections.csv", "_stretches.csv",
                                     "_roll_marks.csv")
    )  # fmt: skip
    started = time.time()
    assert main(["coil", "report", "--events", str(tmp_path), "--out", str(out), "--length", "500"]) == 2
    assert "shorter than where a defect lies" in capsys.readouterr().err  # C4711 has defects up to 995 m
    assert main(["coil", "report", "--events", str(tmp_path), "--out", str(out)]) == 0
    assert {p.name for p in out.glob("*.html")} == {"C2.html", "C4711.html", "no-coil.html"}
    assert time.time() - started < 60
    assert main(["coil", "report", "--events", str(events), "--coil", "C3", "--out", str(out)]) == 2
    assert "coil 'C3' is not in the events read (coils there:" in capsys.readouterr().err
