"""The spec's cloud-init answers (core/create/seed.py): every CloudSeed field reaches the seed's
options, each seed problem is keyed by its spec path (what the wizard shows next to its field),
`check_create` refuses a bad seed before anything is made, and presets round-trip the new
fields (the password never: the wizard leaves it out, tested in tests/screens/create)."""

from __future__ import annotations

import base64
import struct
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from virttui.core.create import cloudinit as C
from virttui.core.create.domain_xml import CreateCaps
from virttui.core.create.presets import load_preset, parse_preset, preset_text, save_preset
from virttui.core.create.seed import seed_field, seed_options, seed_problems
from virttui.core.create.spec import (
    CloudImageInstall,
    CloudSeed,
    CreateSpec,
    Disk,
    Graphics,
    KernelBoot,
    NewVolume,
)
from virttui.core.create.validate import SCHEMA_DIR, CreateFacts, check_create
from virttui.core.host.probe.domcaps import parse_domain_capabilities

MIB = 1 << 20
GIB = 1 << 30
DOMCAPS = (Path(__file__).parent.parent / "data" / "domcaps-qemu-tcg-x86_64.xml").read_text()
PW_HASH = C.sha512_crypt("secret", "saltsalt")
EXTRA = (
    "#cloud-config\n"
    "write_files:\n"
    "  - path: /etc/motd\n"
    "    content: |\n"
    '      say: "hi: there" # kept\n'
    "      'second' line\n"
    "timezone: Europe/Berlin\n"
)
NET = "version: 2\nethernets:\n  id0:\n    match: {name: 'en*'}\n    dhcp4: true\n"


def ssh_key() -> str:
    name = b"ssh-ed25519"
    blob = struct.pack(">I", len(name)) + name + struct.pack(">I", 32) + bytes(range(32))
    return f"ssh-ed25519 {base64.b64encode(blob).decode()} me@host"


def cloud_spec(**seed: object) -> CreateSpec:
    base = CloudSeed(hostname="web1", user="admin", password_hash=PW_HASH)
    return CreateSpec(
        name="cloudy",
        memory_bytes=512 * MIB,
        install=CloudImageInstall("/var/lib/libvirt/images/base.qcow2", replace(base, **seed)),  # type: ignore[arg-type]
        disks=(
            Disk(
                NewVolume(
                    "default", "cloudy.qcow2", 8 * GIB, backing="/var/lib/libvirt/images/base.qcow2"
                )
            ),
        ),
        graphics=Graphics("vnc"),
    )


def test_every_field_reaches_the_seed_options() -> None:
    spec = cloud_spec(
        ssh_keys=(ssh_key(),),
        packages=("curl",),
        sudo=False,
        ssh_password_login=True,
        extra_user_data=EXTRA,
        network_config=NET,
    )
    assert isinstance(spec.install, CloudImageInstall)
    opts = seed_options(spec, spec.install, "abc")
    assert (opts.hostname, opts.instance_id, opts.user) == ("web1", "iid-abc", "admin")
    assert opts.password_hash == PW_HASH and opts.ssh_keys == (ssh_key(),)
    assert opts.packages == ("curl",)
    assert opts.sudo is False and opts.ssh_password_login is True
    assert opts.extra_user_data == EXTRA and opts.network_config == NET
    files = C.seed_files(opts)
    user = yaml.safe_load(files["user-data"])
    assert "sudo" not in user["users"][0] and user["ssh_pwauth"] is True
    assert user["timezone"] == "Europe/Berlin"
    assert user["write_files"][0]["content"] == "say: \"hi: there\" # kept\n'second' line\n"
    assert yaml.safe_load(files["network-config"]) == yaml.safe_load(NET)
    # the defaults: sudo on, no password logins over SSH, no extra files
    plain = seed_options(cloud_spec(), cloud_spec().install)  # type: ignore[arg-type]
    assert plain.sudo is True and plain.ssh_password_login is False
    assert set(C.seed_files(plain)) == {"user-data", "meta-data"}


def test_problems_keyed_by_spec_path() -> None:
    assert seed_problems(cloud_spec()) == {}
    assert seed_problems(cloud_spec(hostname="")) == {}  # made of the domain's name
    bad = seed_problems(cloud_spec(network_config="version: 2\nethernets:\n  eth0: {dhcp4: true\n"))
    assert list(bad) == ["install.seed.network_config"]
    assert "not valid YAML at line 3, column 9" in bad["install.seed.network_config"], bad
    cases = {
        "install.seed.hostname": {"hostname": "bad_name"},
        "install.seed.user": {"user": "Bob"},
        "install.seed.password_hash": {"password_hash": ""},  # no way to log in
        "install.seed.ssh_keys": {"ssh_keys": ("ssh-ed25519 AAAA",)},
        "install.seed.packages": {"packages": ("a;b",)},
        "install.seed.extra_user_data": {"extra_user_data": "#!/bin/sh\necho\n"},
        "install.seed.network_config": {"network_config": "version: 5\n"},
        "install.seed.ssh_password_login": {
            "password_hash": "",
            "ssh_keys": (ssh_key(),),
            "ssh_password_login": True,
        },
    }
    for key, change in cases.items():
        assert set(seed_problems(cloud_spec(**change))) == {key}, (key, change)
    kernel = replace(cloud_spec(), install=KernelBoot("/k"))
    assert seed_problems(kernel) == {}


def test_seed_field_paths() -> None:
    assert seed_field("password") == "install.seed.password_hash"
    assert seed_field("network_config") == "install.seed.network_config"
    assert seed_field("instance_id") == "install.seed"
    assert seed_field("seed") == "install.seed"


def facts() -> CreateFacts:
    caps = CreateCaps.from_domain_capabilities(
        parse_domain_capabilities(DOMCAPS),
        pool_targets={"default": "/var/lib/libvirt/images"},
        pool_types={"default": "dir"},
    )
    return CreateFacts(
        caps=caps, domcaps_xml=DOMCAPS, machines=("pc", "q35"), domain_names=frozenset()
    )


@pytest.mark.skipif(
    not Path(SCHEMA_DIR, "domain.rng").is_file(), reason="libvirt schemas not installed"
)
def test_check_create_refuses_a_bad_seed_before_anything_is_made() -> None:
    good = cloud_spec(extra_user_data=EXTRA, network_config=NET)
    assert check_create(good, facts()) == {}
    bad = cloud_spec(network_config="version: 2\nethernets:\n  eth0: {dhcp4: true\n")
    errors = check_create(bad, facts())
    assert list(errors) == ["install.seed.network_config"]
    assert errors["install.seed.network_config"].startswith(
        "network-config is not valid YAML at line 3, column 9: "  # the '{' left open
    )
    both = cloud_spec(password_hash="", extra_user_data="- a list\n")
    assert set(check_create(both, facts())) == {"install.seed.extra_user_data"}
    nothing = cloud_spec(password_hash="")
    assert "no way to log in" in check_create(nothing, facts())["install.seed.password_hash"]


def test_presets_round_trip_the_new_fields(tmp_path: Path) -> None:
    spec = cloud_spec(
        ssh_keys=(ssh_key(),),
        sudo=False,
        ssh_password_login=True,
        extra_user_data=EXTRA + "bootcmd:\n  - ['sh', '-c', \"echo '\\\"x\\\"' > /y\"]\n",
        network_config='network:\n  version: 2\n  # a "comment": kept in the preset\n',
    )
    path = tmp_path / "cloud.toml"
    save_preset(spec, path)
    assert load_preset(path) == spec
    text = preset_text(spec)
    assert parse_preset(text) == spec
    assert "sudo = false" in text and "ssh_password_login = true" in text
    # defaults stay defaults
    loaded = parse_preset(preset_text(cloud_spec()))
    assert isinstance(loaded.install, CloudImageInstall)
    assert loaded.install.seed.sudo is True and loaded.install.seed.ssh_password_login is False
    assert loaded.install.seed.extra_user_data == "" and loaded.install.seed.network_config == ""
    # a preset of an older virttui (without the new keys) still reads, with the defaults
    old = preset_text(cloud_spec()).replace("sudo = true\n", "")
    old = old.replace("ssh_password_login = false\n", "")
    old = old.replace('extra_user_data = ""\n', "").replace('network_config = ""\n', "")
    assert "sudo" not in old and "network_config" not in old
    assert parse_preset(old) == cloud_spec()


def test_preset_field_type_errors_name_the_seed_field() -> None:
    text = preset_text(cloud_spec()).replace("sudo = true", 'sudo = "yes"')
    with pytest.raises(Exception) as err:
        parse_preset(text)
    assert getattr(err.value, "field", None) == "install.seed.sudo"
