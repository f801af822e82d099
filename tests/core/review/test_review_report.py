"""Shift reports: exact counts per status, verdict and class, the timeline, top frames, models; CSV and HTML."""

from __future__ import annotations

import base64
import csv
import re
from pathlib import Path

import pytest

from grace_core.errors import ReviewError
from grace_core.review import shift_report, write_csv, write_html
from grace_core.review.report_csv import timeline_path
from grace_core.review.times import bin_width, parse_time
from grace_core.store.selection import ClassCount

EIGHT_HOURS = 8 * 3600

CLASSES = (
    # class id, name, boxes, frames, drawn by a reviewer, frames confirmed, frames false alarm
    ClassCount(0, "crazing", 3, 3, 0, 1, 2),  # A (defect), C and F (false alarms)
    ClassCount(1, "inclusion", 1, 1, 0, 0, 0),  # D (unsure); A's was relabelled
    ClassCount(2, "patches", 2, 2, 0, 2, 0),  # A (relabelled), B
    ClassCount(3, "scratches", 2, 2, 1, 1, 0),  # A (reviewer's; the model's was deleted), E
)


def test_counts_per_status_verdict_and_class(reviewed) -> None:
    report = shift_report(reviewed.store, reviewed.start, reviewed.start + EIGHT_HOURS)
    assert report.flagged == {"total": 6, "defect": 4, "uncertain": 2}
    assert report.verdicts == {"defect": 2, "false_alarm": 2, "unsure": 1, "unreviewed": 1}
    assert report.reviewed == 5
    assert report.classes == CLASSES
    assert (report.first, report.last) == (reviewed.start + 60, reviewed.start + 3800)
    assert [(m.model_id, m.frames) for m in report.models] == [
        ("grace-s.pt@0123456789ab", 5),
        ("grace-n.onnx@fedcba987654", 1),
    ]
    assert report.models[1].model_hash == "fedcba987654"
    assert [(s.source_id, s.source_kind, s.frames) for s in report.sources] == [
        ("camera:0", "camera", 4),
        ("camera:1", "camera", 2),
    ]


def test_timeline_in_quarter_hours_for_a_shift(reviewed) -> None:
    start = reviewed.start
    timeline = shift_report(reviewed.store, start, start + EIGHT_HOURS).timeline
    assert timeline.bin_s == 900 and len(timeline.starts) == 32
    assert timeline.starts[:3] == (start, start + 900, start + 1800)
    assert timeline.total[:6] == (1, 1, 2, 0, 2, 0) and sum(timeline.total) == 6
    assert list(timeline.per_class) == ["crazing", "inclusion", "patches", "scratches"]
    head = {name: counts[:5] for name, counts in timeline.per_class.items()}
    assert head == {
        "crazing": (1, 0, 1, 0, 1),
        "inclusion": (0, 0, 1, 0, 0),
        "patches": (1, 1, 0, 0, 0),
        "scratches": (1, 0, 0, 0, 1),
    }
    assert timeline.series("patches")[:2] == [(start, 1), (start + 900, 1)]


def test_open_period_uses_the_frames_own_range(reviewed) -> None:
    report = shift_report(reviewed.store)
    timeline = report.timeline
    assert timeline.bin_s == 300  # 62 minutes of frames: 5-minute bins
    assert timeline.starts[0] == reviewed.start and len(timeline.starts) == 13  # the last frame, at +3800 s, in bin 12
    assert timeline.total == (1, 0, 0, 1, 0, 0, 2, 0, 0, 0, 0, 0, 2)  # A; B; C, D; E, F


def test_filters_by_period_and_source(reviewed) -> None:
    start = reviewed.start
    middle = shift_report(reviewed.store, start + 900, start + 2700)  # B, C, D
    assert middle.flagged == {"total": 3, "defect": 2, "uncertain": 1}
    assert middle.verdicts == {"defect": 1, "false_alarm": 1, "unsure": 1, "unreviewed": 0}
    camera1 = shift_report(reviewed.store, source_id="camera:1")  # C, E
    assert camera1.verdicts == {"defect": 0, "false_alarm": 1, "unsure": 0, "unreviewed": 1}
    assert [(row.class_name, row.boxes) for row in camera1.classes] == [("crazing", 1), ("scratches", 1)]
    empty = shift_report(reviewed.store, start - 3600, start)
    assert empty.flagged == {"total": 0, "defect": 0, "uncertain": 0} and empty.classes == ()
    assert empty.timeline.bin_s == 300 and empty.timeline.total == (0,) * 12  # one hour in 5-minute bins
    with pytest.raises(ReviewError, match="the report period is empty"):
        shift_report(reviewed.store, start, start)


def test_top_frames_by_model_confidence(reviewed) -> None:
    top = shift_report(reviewed.store).top_frames
    ids = {value: key for key, value in reviewed.ids.items()}
    assert [ids[hit.frame_id] for hit in top] == ["B", "A", "E", "C", "F", "D"]
    assert [hit.confidence for hit in top] == pytest.approx([0.95, 0.9, 0.8, 0.6, 0.45, 0.4])
    a = top[1]
    assert (a.classes, a.source_id, a.status, a.verdict) == (
        ("crazing", "patches", "scratches"),
        "camera:0",
        "defect",
        "defect",
    )
    assert a.captured_at == reviewed.start + 60 and a.uid == reviewed.uid("A")
    assert [ids[hit.frame_id] for hit in shift_report(reviewed.store, top=2).top_frames] == ["B", "A"]


def test_csv_files(reviewed, tmp_path: Path, berlin_time) -> None:
    report = shift_report(reviewed.store, reviewed.start, reviewed.start + EIGHT_HOURS)
    paths = write_csv(report, tmp_path / "shift.csv")
    assert paths == [tmp_path / "shift.csv", tmp_path / "shift_timeline.csv"] == [paths[0], timeline_path(paths[0])]
    with paths[0].open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert rows == [
        {
            "class_id": str(row.class_id),
            "class_name": row.class_name,
            "boxes": str(row.boxes),
            "frames": str(row.frames),
            "reviewer_boxes": str(row.reviewer_boxes),
            "confirmed_frames": str(row.confirmed_frames),
            "false_alarm_frames": str(row.false_alarm_frames),
        }
        for row in CLASSES
    ]
    with paths[1].open(newline="") as file:
        bins = list(csv.reader(file))
    assert bins[0] == ["bin_start", "bin_end", "flagged_frames", "crazing", "inclusion", "patches", "scratches"]
    assert len(bins) == 33
    assert bins[1] == ["2023-11-14T23:00:00+01:00", "2023-11-14T23:15:00+01:00", "1", "1", "0", "1", "1"]
    assert bins[3] == ["2023-11-14T23:30:00+01:00", "2023-11-14T23:45:00+01:00", "2", "1", "1", "0", "0"]


def test_html_is_self_contained_with_counts_and_an_embedded_chart(reviewed, tmp_path: Path, berlin_time) -> None:
    report = shift_report(reviewed.store, reviewed.start, reviewed.start + EIGHT_HOURS)
    path = write_html(report, tmp_path / "out" / "shift.html")
    html = path.read_text(encoding="utf-8")

    assert "2023-11-14 23:00 CET to 2023-11-15 07:00 CET" in html  # the period, in local time
    assert "Times are local (CET)" in html
    assert '<tr><td>flagged</td><td class="n">6</td></tr>' in html
    assert '<tr><td>… verdict false alarm</td><td class="n">2</td></tr>' in html
    assert '<tr><td>not reviewed</td><td class="n">1</td></tr>' in html
    assert (
        '<tr><td>crazing</td><td class="n">3</td><td class="n">3</td><td class="n">0</td><td class="n">1</td>'
        '<td class="n">2</td></tr>'
    ) in html
    assert '<tr><td>grace-n.onnx@fedcba987654</td><td>fedcba987654</td><td class="n">1</td>' in html
    assert f'<tr><td class="n">{reviewed.ids["A"]}</td><td>2023-11-14 23:01:00 CET</td><td>camera:0</td>' in html

    (png,) = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    data = base64.b64decode(png)
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 5000
    assert not re.search(r"(src|href)=\"(?!data:)", html) and "<script" not in html and "<link" not in html


def test_an_empty_store_still_gives_a_report(store_root: Path, tmp_path: Path) -> None:
    from grace_core.store import ReviewStore

    with ReviewStore.open(store_root) as store:
        report = shift_report(store)
    assert report.flagged["total"] == 0 and report.timeline.starts == ()
    html = write_html(report, tmp_path / "r.html").read_text()
    assert "no frames" in html and "data:image/png;base64," in html
    write_csv(report, tmp_path / "r.csv")
    assert (tmp_path / "r.csv").read_text().splitlines() == [",".join(
        ("class_id", "class_name", "boxes", "frames", "reviewer_boxes", "confirmed_frames", "false_alarm_frames")
    )]  # fmt: skip


def test_html_escapes_what_people_and_sources_typed(store_root: Path, tmp_path: Path, add) -> None:
    from grace_core.store import ReviewStore

    with ReviewStore.open(store_root) as store:
        add(store, 1_700_000_000.0, [(0, 0.9, (1, 1, 30, 30))], source_id="rtsp://cam/<b>")
        html = write_html(shift_report(store), tmp_path / "r.html").read_text()
    assert "rtsp://cam/&lt;b&gt;" in html and "<b>" not in html


@pytest.mark.parametrize(
    ("span", "width"),
    [(0, 60), (48 * 60, 60), (3740, 300), (8 * 3600, 900), (12 * 3600, 900), (86400, 1800), (7 * 86400, 21600)],
)
def test_bin_width(span: float, width: int) -> None:
    assert bin_width(span) == width


def test_parse_time(berlin_time) -> None:
    assert parse_time("2023-11-14T23:00") == 1_699_999_200.0  # local (CET)
    assert parse_time("2023-11-14T22:00:00Z") == 1_699_999_200.0
    assert parse_time("2023-11-14T22:00:00+00:00") == 1_699_999_200.0
    assert parse_time("2023-11-15") == 1_700_002_800.0  # local midnight
    with pytest.raises(ReviewError, match="cannot read the time 'yesterday'"):
        parse_time("yesterday")
