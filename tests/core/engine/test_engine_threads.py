"""The PyTorch engine's thread count: every core but one unless told, so inference never fights a training run."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from grace_core.cli.main import main as grace  # noqa: E402
from grace_core.engine import load_engine  # noqa: E402
from grace_core.engine.torch_engine import default_threads  # noqa: E402
from grace_core.paths import resource_path  # noqa: E402

SHIPPED = resource_path("models", "grace-neu-det.pt")


@pytest.fixture(autouse=True)
def _restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_the_default_leaves_one_core(monkeypatch) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 4)
    assert default_threads() == 3
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    assert default_threads() == 1
    monkeypatch.setattr("os.cpu_count", lambda: None)
    assert default_threads() == 1


def test_loading_sets_the_default_and_an_explicit_count(monkeypatch) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 3)
    torch.set_num_threads(1)
    load_engine(SHIPPED).close()
    assert torch.get_num_threads() == 2
    load_engine(SHIPPED, threads=1).close()
    assert torch.get_num_threads() == 1


def test_detect_refuses_a_thread_count_below_one(capsys) -> None:
    assert grace(["detect", "demo:tiles", "--model", "shipped", "--threads", "0", "--max-frames", "1"]) == 2
    assert "--threads must be 1 or more" in capsys.readouterr().err
