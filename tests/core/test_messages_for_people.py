"""Messages for people (issue 18, item 11): the CLI accepts what the app accepts, and a bad checkpoint is described
in our words — what is wrong with this file and what to do — not in another tool's."""

from __future__ import annotations

import json

import pytest
import torch

from grace_core.cli.main import main
from grace_core.errors import ModelError
from grace_core.nn.transfer import read_checkpoint


def test_detect_accepts_shipped_as_the_app_does(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["detect", "demo", "--model", "shipped", "--max-frames", "2", "--save-dir", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["frames"] == 2 and summary["model"].startswith("grace-neu-det.onnx@")  # the fastest on CPU
    assert "on onnxruntime" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"not a model at all\n", "its 19 bytes are not the zip archive torch.save writes (they begin b'not a mo')"),
        (b"", "the file is empty (0 bytes)"),
        (b"PK\x03\x04" + b"\x00" * 60, "its zip archive (64 bytes) is cut short or damaged"),
    ],
)
def test_a_bogus_checkpoint_says_what_is_wrong_with_it(tmp_path, content, expected):
    bogus = tmp_path / "bogus.pt"
    bogus.write_bytes(content)
    with pytest.raises(ModelError) as raised:
        read_checkpoint(bogus)
    message = str(raised.value)
    assert message.startswith(f"{bogus} is not a readable ultralytics checkpoint: {expected}.")
    assert "grace train" in message and "Copy it again" in message
    assert "yolo predict" not in message and "official Ultralytics" not in message and "❌" not in message


class _Custom:  # a class no allow-list knows
    pass


def test_a_checkpoint_with_foreign_objects_names_them_and_the_way_out(tmp_path):
    foreign = tmp_path / "foreign.pt"
    torch.save({"model": _Custom()}, foreign)
    with pytest.raises(ModelError) as raised:
        read_checkpoint(foreign)
    message = str(raised.value)
    assert f"type {__name__}._Custom, which a safe load does not open" in message
    assert "--trust" in message and "grace train" in message
    assert "yolo predict" not in message and "❌" not in message
