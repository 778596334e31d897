"""URI checks, host list edits, start-up precedence and saving over a broken file."""

from __future__ import annotations

from pathlib import Path

import pytest

from virttui.core.host.host_config import (
    URI_EXAMPLES,
    StartHost,
    startup_hosts,
    update_config,
    validate_uri,
    with_autoconnect,
    with_host,
    without_host,
)
from virttui.core.settings.config import (
    DEFAULT_REFRESH,
    Config,
    ConfigSaveError,
    HostEntry,
    LoadedConfig,
    load_config,
    save_config,
)


@pytest.mark.parametrize("uri", [u for u, _ in URI_EXAMPLES])
def test_examples_are_valid(uri: str) -> None:
    assert validate_uri(uri) is None


@pytest.mark.parametrize(
    "uri",
    [
        "qemu+ssh://root@localhost:2222/system?keyfile=/tmp/k&no_verify=1",
        "qemu+unix:///system?socket=/run/libvirt/libvirt-sock",
        "test+unix:///default",
        "qemu+tls://host.example.org/system",
        "test:///tmp/node.xml",
        "lxc:///system",
        "  qemu:///system  ",
    ],
)
def test_valid_uris(uri: str) -> None:
    assert validate_uri(uri) is None


@pytest.mark.parametrize(
    ("uri", "fragment"),
    [
        ("", "Enter a libvirt URI"),
        ("qemu", "driver[+transport]://"),
        ("qemu:///systen", "/system or /session"),
        ("qemu+ssh:///system", "needs a host name"),
        ("qemu+foo://h/system", "Unknown transport"),
        ("9p:///system", "Unknown scheme"),
        ("qemu+ssh://h:99999/system", "Port"),
        ("qemu:///system x", "spaces"),
        ("test://", "needs a path"),
    ],
)
def test_invalid_uris(uri: str, fragment: str) -> None:
    message = validate_uri(uri)
    assert message is not None and fragment in message


def test_host_list_edits() -> None:
    config = Config(hosts=(HostEntry("qemu:///system", "here", True),))
    config = with_host(config, HostEntry("test:///default", "t"))
    assert [h.uri for h in config.hosts] == ["qemu:///system", "test:///default"]
    config = with_host(config, HostEntry("qemu:///system", "renamed", True))
    assert config.hosts[0].label == "renamed"
    config = with_autoconnect(config, "test:///default", True)
    assert config.hosts[1].autoconnect
    config = with_autoconnect(config, "qemu:///session", True, "mine")
    assert config.hosts[2] == HostEntry("qemu:///session", "mine", True)
    config = without_host(config, "qemu:///system")
    assert [h.uri for h in config.hosts] == ["test:///default", "qemu:///session"]


def _loaded(*hosts: HostEntry, exists: bool = True) -> LoadedConfig:
    return LoadedConfig(Config(hosts=hosts), (), exists)


def test_startup_cli_wins_and_borrows_labels() -> None:
    loaded = _loaded(HostEntry("a:///x", "A", True), HostEntry("b:///x", "B", False))
    assert startup_hosts(["b:///x", "c:///x", "b:///x"], False, loaded, None) == [
        StartHost("b:///x", "B"),
        StartHost("c:///x", ""),
    ]
    assert startup_hosts([], True, loaded, None) == []  # --demo alone: only the demo host


def test_startup_config_autoconnect_then_default() -> None:
    loaded = _loaded(HostEntry("a:///x", "A", True), HostEntry("b:///x", "B", False))
    assert startup_hosts([], False, loaded, "env:///x") == [StartHost("a:///x", "A")]
    nothing_auto = _loaded(HostEntry("b:///x", "B", False))
    assert startup_hosts([], False, nothing_auto, "env:///x") == [StartHost("env:///x")]
    no_file = LoadedConfig(Config(), (), False)
    assert startup_hosts([], False, no_file, "env:///x") == [StartHost("env:///x")]
    assert startup_hosts([], False, no_file, None) == [StartHost("qemu:///system")]


def test_update_keeps_settings_and_backs_up_a_broken_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    save_config(Config(hosts=(HostEntry("test:///default", "t"),)), path)
    text = path.read_text().replace(f"refresh_seconds = {DEFAULT_REFRESH}", "refresh_seconds = 5.0")
    assert "refresh_seconds = 5.0" in text
    path.write_text(text)
    result = update_config(lambda c: with_host(c, HostEntry("qemu:///system")), path)
    assert result.backup is None
    loaded = load_config(path)
    assert loaded.config.settings.refresh_seconds == 5.0
    assert [h.uri for h in loaded.config.hosts] == ["test:///default", "qemu:///system"]

    path.write_text("hosts = [ this is not toml\n")
    result = update_config(lambda c: with_host(c, HostEntry("test:///default")), path)
    assert result.backup == tmp_path / "config.toml.broken"
    assert result.backup.read_text() == "hosts = [ this is not toml\n"
    fixed = load_config(path)
    assert not fixed.problems
    assert [h.uri for h in fixed.config.hosts] == ["qemu:///system", "test:///default"]


@pytest.mark.parametrize(
    "uri",
    ["qemu+ssh://root:hunter2@kvm01/system", "qemu+tls://admin:@kvm01/system"],
)
def test_password_in_uri_is_refused_with_a_hint(uri: str) -> None:
    message = validate_uri(uri)
    assert message is not None
    assert "password" in message and "ssh keys" in message and "auth.conf" in message
    assert "hunter2" not in message


def _broken(path: Path, mode: int) -> bytes:
    data = b"hosts = [ not toml\n"
    path.write_bytes(data)
    path.chmod(mode)
    return data


def test_broken_backup_keeps_the_originals_mode(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    data = _broken(path, 0o600)
    result = update_config(lambda c: with_host(c, HostEntry("test:///default")), path)
    assert result.backup == tmp_path / "config.toml.broken"
    assert result.backup.read_bytes() == data
    assert result.backup.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml", "config.toml.broken"]


def test_failed_backup_leaves_the_original_untouched(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    data = _broken(path, 0o600)
    (tmp_path / "config.toml.broken").mkdir()  # the backup cannot be written over a directory
    with pytest.raises(ConfigSaveError, match="nothing was written"):
        update_config(lambda c: with_host(c, HostEntry("test:///default")), path)
    assert path.read_bytes() == data
    assert path.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml", "config.toml.broken"]


def test_update_writes_through_a_symlinked_config(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "virttui.toml"
    real.parent.mkdir()
    save_config(Config(hosts=(HostEntry("test:///default", "t"),)), real)
    link = tmp_path / "config.toml"
    link.symlink_to(real)
    update_config(lambda c: with_host(c, HostEntry("qemu:///system")), link)
    assert link.is_symlink()
    assert [h.uri for h in load_config(real).config.hosts] == ["test:///default", "qemu:///system"]
