"""The launcher's check for the X11 libraries Qt's window plugin needs (app/system_libs.py imports no Qt)."""

import pytest

from app import system_libs


@pytest.mark.parametrize(
    ("soname", "package"),
    [
        ("libxcb-cursor.so.0", "libxcb-cursor0"),
        ("libxcb-icccm.so.4", "libxcb-icccm4"),
        ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
        ("libEGL.so.1", "libegl1"),
        ("libxcb-render-util.so.0.0.0", "libxcb-render-util0"),
    ],
)
def test_sonames_map_to_debian_packages(soname, package):
    assert system_libs.debian_package(soname) == package


def test_missing_libraries_give_the_exact_install_command(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(system_libs.sys, "platform", "linux")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.setattr(system_libs, "xcb_plugin", lambda: tmp_path / "libqxcb.so")
    monkeypatch.setattr(system_libs, "missing_libraries", lambda plugin: ["libxcb-cursor.so.0", "libxcb-icccm.so.4"])
    assert system_libs.main() == 1
    assert "sudo apt install libxcb-cursor0 libxcb-icccm4" in capsys.readouterr().err
    monkeypatch.setattr(system_libs, "missing_libraries", lambda plugin: [])
    assert system_libs.main() == 0


def test_the_plugin_of_this_install_is_checked_with_ldd():
    plugin = system_libs.xcb_plugin()
    assert plugin is not None and plugin.name == "libqxcb.so"
    missing = system_libs.missing_libraries(plugin)
    assert all(".so" in soname for soname in missing)  # whatever this machine lacks, named as sonames
