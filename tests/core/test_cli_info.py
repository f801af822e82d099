import json
import re

from grace_core.cli.main import main
from grace_core.nn import build_model


def test_info_reports_grace_s_size_and_lite_fen_placement(capsys):
    assert main(["info", "grace-s"]) == 0
    out = capsys.readouterr().out
    parameters = int(re.search(r"parameters\s+([\d,]+)", out).group(1).replace(",", ""))
    assert parameters == sum(p.numel() for p in build_model("grace-s").parameters())
    assert "68,707 parameters" in out  # Lite-FEN's share, printed on its line
    assert "layer 5, after layer 4 (C3k2): 256 channels at stride 8" in out
    assert "6: crazing, inclusion, patches, pitted_surface, rolled-in_scale, scratches" in out


def test_info_json_and_image_size(capsys):
    assert main(["info", "yolo11n", "--imgsz", "320", "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["lite_fen"] == [] and facts["imgsz"] == 320
    assert 0 < facts["gflops"] < 6.5  # a quarter of the 640 figure (6.4)


def test_info_reads_class_names_from_a_dataset(tmp_path, capsys):
    data = tmp_path / "data.yaml"
    data.write_text("names:\n  0: pit\n  1: scratch\n")
    assert main(["info", "grace-n", "--data", str(data)]) == 0
    assert "2: pit, scratch" in capsys.readouterr().out


def test_info_on_bad_input_says_why_without_a_traceback(tmp_path, capsys):
    not_a_model = tmp_path / "weights.pt"
    not_a_model.write_text("hello")
    for argv, message in (
        (["info", "grace-zz"], "unknown model 'grace-zz'"),
        (["info", "grace-s", "--imgsz", "0"], "--imgsz must be a positive multiple of 32"),
        (["info", str(not_a_model)], "is not a readable ultralytics checkpoint"),
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err
