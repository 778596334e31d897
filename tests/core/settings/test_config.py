"""Config file: XDG location, atomic round trip, broken files give defaults and a message."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest
import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st

from virttui.core.settings.config import (
    DEFAULT_REFRESH,
    Config,
    ConfigSaveError,
    HostEntry,
    Settings,
    config_path,
    load_config,
    save_config,
    uri_has_password,
)

texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


def test_path_override_then_xdg_then_home(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VIRTTUI_CONFIG_FILE", str(tmp_path / "x.toml"))
    assert config_path() == tmp_path / "x.toml"
    monkeypatch.delenv("VIRTTUI_CONFIG_FILE")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_path() == tmp_path / "xdg" / "virttui" / "config.toml"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert config_path() == tmp_path / "home" / ".config" / "virttui" / "config.toml"


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    loaded = load_config(tmp_path / "none.toml")
    assert loaded.config == Config() and loaded.problems == () and not loaded.exists
    assert loaded.config.hosts[0].uri == "qemu:///system"


def test_round_trip_through_env_override(monkeypatch, tmp_path: Path) -> None:
    target = tmp_path / "deep" / "config.toml"
    monkeypatch.setenv("VIRTTUI_CONFIG_FILE", str(target))
    config = Config(
        hosts=(
            HostEntry("qemu:///system", "Local", True),
            HostEntry("qemu+ssh://root@host/system?keyfile=/k", 'he said "hi"\\', False),
            HostEntry("test:///default", "démo\tтест\n✓", False),
        ),
        settings=Settings(refresh_seconds=0.5, cpu_mode="vcpu", ascii_glyphs=True),
    )
    assert save_config(config) == target
    assert load_config() == load_config(target)
    loaded = load_config()
    assert loaded.config == config and loaded.problems == () and loaded.exists
    assert [p.name for p in target.parent.iterdir()] == ["config.toml"]  # no temp file left


@settings(max_examples=150, deadline=None)
@given(
    hosts=st.lists(
        st.builds(
            HostEntry,
            # No password in a URI (refused on load); duplicate URIs are tested on their own.
            uri=texts.filter(lambda s: s.strip() == s and s and not uri_has_password(s)),
            label=texts,
            autoconnect=st.booleans(),
        ),
        max_size=5,
        unique_by=lambda h: h.uri,
    ),
    refresh=st.floats(min_value=0.2, max_value=3600),
    cpu_mode=st.sampled_from(["host", "vcpu"]),
    ascii_glyphs=st.booleans(),
)
def test_hypothesis_config_round_trip(
    tmp_path_factory, hosts, refresh, cpu_mode, ascii_glyphs
) -> None:
    path = tmp_path_factory.mktemp("cfg") / "config.toml"
    config = Config(tuple(hosts), Settings(refresh, cpu_mode, ascii_glyphs))
    save_config(config, path)
    loaded = load_config(path)
    assert loaded.problems == ()
    assert loaded.config == config


toml_values = st.recursive(
    st.one_of(texts, st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False)),
    lambda children: st.lists(children, max_size=4),
    max_leaves=8,
)
toml_docs = st.recursive(
    st.dictionaries(texts, toml_values, max_size=4),
    lambda children: st.dictionaries(
        texts,
        st.one_of(toml_values, children, st.lists(children, min_size=1, max_size=3)),
        max_size=4,
    ),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(toml_docs)
def test_hypothesis_writer_matches_tomllib(doc) -> None:
    """The writer (tomli-w) reads back identically with tomllib for every shape virttui uses."""
    assert tomllib.loads(tomli_w.dumps(doc)) == doc


def test_writer_escapes_every_control_character(tmp_path: Path) -> None:
    every = "".join(chr(c) for c in range(0x80)) + "\u2028é"
    assert tomllib.loads(tomli_w.dumps({"k": every})) == {"k": every}
    # Through save_config: a label with every control character survives; a lone surrogate
    # cannot be written (the old file stays, see test_save_failure_keeps_the_old_file).
    path = tmp_path / "config.toml"
    config = Config(hosts=(HostEntry("test:///default", every),))
    save_config(config, path)
    assert load_config(path).config == config
    assert "\x1b" not in path.read_text() and "\x00" not in path.read_text()
    with pytest.raises(ConfigSaveError):
        save_config(Config(hosts=(HostEntry("test:///default", "\ud800"),)), path)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ('[[hosts]]\nuri = "qemu:///system"\nlabel = "unterminated\n', "not valid TOML"),
        ("hosts = 3\n", "[[hosts]] must be an array"),
        ("\x00\x01binary", "not valid TOML"),
    ],
)
def test_broken_file_gives_defaults_and_a_message(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    loaded = load_config(path)
    assert loaded.config.hosts == Config().hosts and loaded.exists
    assert len(loaded.problems) == 1 and fragment in loaded.problems[0].message
    assert str(path) in str(loaded.problems[0])


def test_bad_values_fall_back_one_by_one(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[settings]\nrefresh_seconds = "fast"\ncpu_mode = "vcpu"\nascii_glyphs = 1\n'
        '[[hosts]]\nlabel = "no uri"\n[[hosts]]\nuri = "test:///default"\nautoconnect = "yes"\n'
    )
    loaded = load_config(path)
    assert loaded.config.settings == Settings(DEFAULT_REFRESH, "vcpu", False)
    assert loaded.config.hosts == (HostEntry("test:///default", "", False),)
    assert len(loaded.problems) == 4


def test_undecodable_and_unreadable_files(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xff\xfe\x00bad")
    assert "cannot read" in load_config(path).problems[0].message
    directory = tmp_path / "dir.toml"
    directory.mkdir()
    loaded = load_config(directory)
    assert loaded.config == Config() and "cannot read" in loaded.problems[0].message


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_save_into_readonly_dir_raises_clear_error(tmp_path: Path) -> None:
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(ConfigSaveError, match="cannot write"):
            save_config(Config(), tmp_path / "config.toml")
    finally:
        tmp_path.chmod(0o700)


def test_save_failure_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    save_config(Config(), path)
    before = path.read_text()
    bad = Config(hosts=(HostEntry("test:///default", "\ud800"),))
    with pytest.raises(ConfigSaveError):
        save_config(bad, path)
    assert path.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]


def test_duplicate_uris_keep_the_first_and_say_so(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[[hosts]]\nuri = "test:///default"\nlabel = "first"\n'
        '[[hosts]]\nuri = "qemu:///system"\n'
        '[[hosts]]\nuri = " test:///default"\nlabel = "again"\nautoconnect = true\n'
    )
    loaded = load_config(path)
    assert loaded.config.hosts == (
        HostEntry("test:///default", "first", False),
        HostEntry("qemu:///system", "", False),
    )
    assert len(loaded.problems) == 1
    message = loaded.problems[0].message
    assert "host #3" in message and "host #1" in message and "test:///default" in message


@pytest.mark.parametrize(
    "text",
    [
        "a = " + "[" * 20000 + "]" * 20000 + "\n",
        "a = " + "{b = " * 20000 + "1" + "}" * 20000 + "\n",
    ],
    ids=["arrays", "inline-tables"],
)
def test_deeply_nested_file_gives_defaults_and_a_message(tmp_path: Path, text: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    loaded = load_config(path)  # no RecursionError
    assert loaded.config == Config() and loaded.exists
    assert len(loaded.problems) == 1 and "nested too deeply" in loaded.problems[0].message


def test_password_in_a_config_uri_is_refused_without_echoing_it(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[[hosts]]\nuri = "qemu+ssh://root:hunter2@kvm01/system"\n'
        '[[hosts]]\nuri = "test:///default"\n'
    )
    loaded = load_config(path)
    assert loaded.config.hosts == (HostEntry("test:///default"),)
    (problem,) = loaded.problems
    assert "password" in problem.message and "ssh keys" in problem.message
    assert "auth.conf" in problem.message and "hunter2" not in str(problem)


def test_save_writes_through_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "virttui.toml"
    real.parent.mkdir()
    save_config(Config(), real)
    link = tmp_path / "config.toml"
    link.symlink_to(real)
    config = Config(hosts=(HostEntry("test:///default", "t"),))
    save_config(config, link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert load_config(real).config == config
    assert sorted(p.name for p in real.parent.iterdir()) == ["virttui.toml"]


def test_shutdown_grace_setting(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    assert Settings().shutdown_grace == 60.0
    path.write_text("[settings]\nshutdown_grace = 3\n")
    loaded = load_config(path)
    assert loaded.config.settings.shutdown_grace == 3.0 and not loaded.problems
    save_config(loaded.config, path)
    assert load_config(path).config.settings.shutdown_grace == 3.0
    for bad in ("0", "-5", "true", '"soon"', "99999"):
        path.write_text(f"[settings]\nshutdown_grace = {bad}\n")
        loaded = load_config(path)
        assert loaded.config.settings.shutdown_grace == 60.0
        assert len(loaded.problems) == 1 and "shutdown_grace" in loaded.problems[0].message


def test_saved_file_is_private_even_with_a_lax_umask(tmp_path: Path) -> None:
    """0600 from the first byte: labels and URIs (user names, key paths) are nobody else's."""
    old = os.umask(0o000)
    try:
        path = save_config(Config(), tmp_path / "new" / "config.toml")
        assert path.stat().st_mode & 0o777 == 0o600
        save_config(Config(hosts=(HostEntry("test:///default"),)), path)
        assert path.stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old)


def test_keys_table_bad_entries_are_skipped_one_by_one(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        "[keys]\n"
        '"domain.start" = "S"\n'
        '"domain.shutdown" = " ctrl+h , f6 "\n'
        '"domain.reboot" = ""\n'
        '"domain.pause" = 3\n'
        '"domain.destroy" = "a,,b"\n'
        '"list.filter" = ["f"]\n'
    )
    loaded = load_config(path)
    assert loaded.config.keys == (("domain.start", "S"), ("domain.shutdown", "ctrl+h,f6"))
    messages = [p.message for p in loaded.problems]
    assert len(messages) == 4
    for bad in ("domain.reboot", "domain.pause", "domain.destroy", "list.filter"):
        assert any(m.startswith(f"keys.{bad} ") and "skipped" in m for m in messages), bad
    # The keymap survives a rewrite (the connection manager saves the whole file).
    save_config(loaded.config, path)
    assert load_config(path).config.keys == loaded.config.keys


def test_keys_must_be_a_table(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('keys = "S"\n')
    loaded = load_config(path)
    assert loaded.config.keys == () and "[keys] must be a table" in loaded.problems[0].message


def test_one_default_refresh_interval() -> None:
    from virttui.cli import build_parser

    assert Settings().refresh_seconds == DEFAULT_REFRESH == Config().settings.refresh_seconds
    assert build_parser().parse_args([]).refresh is None  # not set: the config's value applies


def test_console_graphics_setting(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    assert Config().graphics == "auto"
    for mode in ("auto", "kitty", "sixel", "halfblocks"):
        path.write_text(f'[console]\ngraphics = "{mode}"\n')
        loaded = load_config(path)
        assert loaded.config.graphics == mode and not loaded.problems
    save_config(loaded.config, path)  # halfblocks survives a rewrite
    assert load_config(path).config.graphics == "halfblocks"
    for bad in ('"png"', "1", "true", '"Sixel"'):
        path.write_text(f"[console]\ngraphics = {bad}\n")
        loaded = load_config(path)
        assert loaded.config.graphics == "auto"
        assert len(loaded.problems) == 1
        message = loaded.problems[0].message
        assert "console.graphics" in message and '"kitty", "sixel", "halfblocks"' in message
    path.write_text('console = "sixel"\n')
    loaded = load_config(path)
    assert loaded.config.graphics == "auto" and "[console] must be a table" in str(
        loaded.problems[0]
    )
