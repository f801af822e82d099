"""The install self-test: real checks on this install, a failure reported without stopping the others."""

from __future__ import annotations

from grace_core.selftest import bundled_backends, run_self_test


def test_this_install_passes_its_self_test():
    lines: list[str] = []
    checks = run_self_test(frames=4, train=True, log=lines.append)
    assert [c.name for c in checks] == [*(f"inspect demo ({b})" for b in bundled_backends()), "train 1 epoch (worker)"]
    assert bundled_backends() == ["onnxruntime", "openvino", "torch"]  # the source install bundles all three
    assert all(check.ok for check in checks), lines
    assert lines[-1] == f"self-test: {len(checks)}/{len(checks)} checks passed"


def test_a_broken_model_fails_its_check_and_the_rest_still_run(monkeypatch, tmp_path):
    import grace_core.models as models

    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    real = models.default_model
    monkeypatch.setattr(
        models, "default_model", lambda backend="torch": broken if backend == "onnxruntime" else real(backend)
    )
    lines: list[str] = []
    checks = run_self_test(frames=2, train=False, log=lines.append)
    by_name = {check.name: check for check in checks}
    assert (
        not by_name["inspect demo (onnxruntime)"].ok and "broken.onnx" in by_name["inspect demo (onnxruntime)"].detail
    )
    assert by_name["inspect demo (openvino)"].ok and by_name["inspect demo (torch)"].ok
    assert lines[-1] == "self-test: 2/3 checks passed"


def test_the_app_runs_the_self_test_without_a_window(monkeypatch):
    import grace_core.cli.main as cli

    calls = []
    monkeypatch.setattr(cli, "main", lambda argv: calls.append(argv) or 7)
    from app.__main__ import main

    assert main(["--self-test"]) == 7 and calls == [["selftest"]]
