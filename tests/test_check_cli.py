"""`virttui check` exit codes and output, called in-process through `virttui.check.main`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from virttui.check import main
from virttui.core.host.probe import kvmdev
from virttui.core.host.probe.cpuflags import TCG_CONSEQUENCE

FIXTURES = Path(__file__).parent / "fixtures" / "host"


@pytest.fixture
def working_kvm(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fixture tree's /dev/kvm is a plain file: make it answer like a real device."""
    monkeypatch.setattr(kvmdev.stat, "S_ISCHR", lambda mode: True)
    monkeypatch.setattr(kvmdev, "query_kvm", lambda path: kvmdev.KvmQuery(12, True, ""))


def test_exit_0_when_kvm_fully_usable(
    working_kvm: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--connect", "test:///default", "--root", str(FIXTURES / "intel_kvm")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "KVM hardware acceleration available" in out
    assert "[FAIL]" not in out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_exit_1_under_emulation(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["-c", "test:///default", "--root", str(FIXTURES / "tcg_only")])
    out = capsys.readouterr().out
    assert code == 1
    assert TCG_CONSEQUENCE in " ".join(out.split())  # wrapped over lines in text mode


def test_exit_1_when_a_check_fails_with_kvm(
    working_kvm: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    root = tmp_path / "host"
    shutil.copytree(FIXTURES / "intel_kvm", root)
    (root / "dev/net/tun").unlink()
    assert main(["-c", "test:///default", "--root", str(root), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["verdict"]["acceleration"] == "kvm"
    assert data["verdict"]["failed"] == ["dev.tun"]


def test_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--connect", "test:///default", "--json", "--root", str(FIXTURES / "tcg_only")])
    data = json.loads(capsys.readouterr().out)
    assert code == data["verdict"]["exit_code"] == 1
    assert data["schema_version"] == 1
    assert data["verdict"]["summary"] == TCG_CONSEQUENCE


def test_exit_2_when_unreachable(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--connect", "qemu+unix:///system?socket=/nonexistent"])
    captured = capsys.readouterr()
    assert code == 2
    assert "cannot connect" in captured.err and "/nonexistent" in captured.err
    assert "Traceback" not in captured.err and captured.out == ""


def test_default_uri_from_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LIBVIRT_DEFAULT_URI", "test:///default")
    code = main(["--json", "--root", str(FIXTURES / "tcg_only")])
    assert code == 1
    assert json.loads(capsys.readouterr().out)["uri"] == "test:///default"


def test_bad_argument_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--bogus"]) == 2
    assert main(["--help"]) == 0
    assert "--root" not in capsys.readouterr().out  # the fixture hook stays hidden


def test_check_opens_its_connection_read_only(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Both openers are the real libvirt calls, only recorded: the report needs no write access
    (and works through libvirt's read-only socket)."""
    import libvirt

    opened: list[tuple[str, str]] = []
    real_open, real_open_ro = libvirt.open, libvirt.openReadOnly

    def spy_open(uri: str | None = None) -> libvirt.virConnect:
        opened.append(("read-write", str(uri)))
        return real_open(uri)

    def spy_open_ro(uri: str | None = None) -> libvirt.virConnect:
        opened.append(("read-only", str(uri)))
        conn = real_open_ro(uri)
        assert conn.isAlive()
        return conn

    monkeypatch.setattr(libvirt, "open", spy_open)
    monkeypatch.setattr(libvirt, "openReadOnly", spy_open_ro)
    code = main(["-c", "test:///default", "--json", "--root", str(FIXTURES / "tcg_only")])
    data = json.loads(capsys.readouterr().out)
    assert code == data["verdict"]["exit_code"] == 1
    assert opened == [("read-only", "test:///default")]
    assert data["uri"] == "test:///default"


def test_domain_capabilities_refused_read_only_say_why(capsys: pytest.CaptureFixture[str]) -> None:
    """check opens read-only, and libvirt refuses getDomainCapabilities there: the section says
    so (libvirt's words), never a vague "not available from this driver"."""
    main(["--connect", "test:///default"])
    out = capsys.readouterr().out
    section = out.split("Domain capabilities", 1)[1].split("\n\n", 1)[0]
    assert "not available: " in section
    assert "read only access prevents" in " ".join(section.split())
