"""The review tab over stores it cannot list: a damaged database shows a red banner (not an empty list that looks
like "no frames"), and a folder that is not a store is said to be one and left exactly as it was."""

from __future__ import annotations

from pathlib import Path

from helpers.store_damage import damage_middle_pages, fill_store, snapshot


def _shown_tab(qtbot, root: Path):
    from app.review.review_tab import ReviewTab

    tab = ReviewTab(store_root=root)
    qtbot.addWidget(tab)
    tab.show()  # the tab reads the store when it is shown
    qtbot.waitUntil(tab.banner.isVisible, timeout=10_000)
    return tab


def test_a_damaged_store_shows_an_error_not_an_empty_list(qtbot, tmp_path: Path) -> None:
    root = tmp_path / "review"
    fill_store(root, 250)
    damage_middle_pages(root / "review.db")
    tab = _shown_tab(qtbot, root)
    assert tab.banner.level == "error"
    text = tab.banner.text()
    assert "damaged" in text and str(root / "review.db") in text and ".recover" in text
    assert "cannot be read" in tab.count_label.text() and tab.count_label.isVisible()
    assert "damaged" in tab.view.placeholder
    assert not tab.defect_button.isEnabled()
    tab.refresh()  # Refresh, or showing the tab again, says it again instead of clearing it
    assert tab.banner.level == "error" and "damaged" in tab.banner.text()
    tab.shutdown()


def test_a_folder_that_is_not_a_store_is_named_and_left_untouched(qtbot, tmp_path: Path) -> None:
    root = tmp_path / "review"
    root.mkdir()
    (root / "review.db").write_bytes(b"")  # e.g. a failed copy, or a file someone created by hand
    tab = _shown_tab(qtbot, root)
    assert tab.banner.level == "warning"
    assert f"no review store at {root}" in tab.banner.text()
    assert tab.store is None and tab.model.total == 0
    tab.shutdown()
    assert snapshot(root) == {"review.db": b""}  # no schema written, no frames folder


def test_no_store_yet_is_a_friendly_note(qtbot, tmp_path: Path) -> None:
    root = tmp_path / "review"
    tab = _shown_tab(qtbot, root)
    assert tab.banner.level == "info" and "No flagged frames yet" in tab.banner.text()
    tab.shutdown()
    assert not root.exists()
