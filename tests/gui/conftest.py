"""GUI tests: real widgets driven by pytest-qt (offscreen), a private review store and settings file per test, and
a check that no test leaves an inspection, writer or source thread running (as napari's suite does for QThreads)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers.mqtt_broker import broker  # noqa: F401 (fixture: a real MQTT broker on 127.0.0.1)
from helpers.pg_fixtures import central_url, pg_server, pg_session  # noqa: F401 (fixtures: a real PostgreSQL)

from app.qt_env import drop_opencv_qt_paths

drop_opencv_qt_paths()  # before pytest-qt creates the QApplication


def _our_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(("grace-", "flagged-frame-writer"))]


@pytest.fixture(autouse=True)
def no_threads_left_behind() -> Iterator[None]:
    yield
    deadline_threads = _our_threads()
    if deadline_threads:  # daemons finishing a bounded join: give them a moment, then fail
        import time

        time.sleep(2.0)
        deadline_threads = _our_threads()
    assert deadline_threads == [], f"threads left running: {deadline_threads}"


@pytest.fixture(autouse=True)
def private_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GRACE_CONFIG_DIR", str(tmp_path / "config"))
    return tmp_path / "config"


@pytest.fixture
def make_window(qtbot, tmp_path: Path) -> Iterator[Callable[..., object]]:
    """``make_window(**settings)`` → a shown MainWindow with its own review store (or, given ``plant`` settings and
    no ``store_root``, the plant settings' store); closed at teardown."""
    from app.main_window import MainWindow
    from app.settings import LiveSettings

    windows = []

    def make(store_root: Path | str | None = None, training=None, plant=None, **values: object):
        settings = LiveSettings(**values)
        if store_root is None and plant is None:
            store_root = tmp_path / "review"
        window = MainWindow(
            settings, store_root=store_root, training=training, runs_root=tmp_path / "runs", plant=plant
        )
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()
