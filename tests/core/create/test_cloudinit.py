"""cloud-init NoCloud seed: SHA-512-crypt against the specification's vectors and crypt(3),
SSH key shapes, user-data that survives hostile values (read back with PyYAML's SafeLoader, as
cloud-init does), the seed ISO read back with pycdlib, and the overlay on a cloud image with the
real qemu-img (the base never written)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import stat
import struct
import subprocess
import warnings
from pathlib import Path
from typing import Any

import pycdlib
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from virttui.core.create import cloudinit as C
from virttui.core.jobs import Job, JobDone, JobFailed, JobMessage
from virttui.core.storage import qemu_img as Q
from virttui.core.storage.used_by import User

HOSTILE = '": #\n\'"'  # quote, colon-space, hash, newline, apostrophe, quote


def ssh_key(key_type: str = "ssh-ed25519", comment: str = "me@host") -> str:
    name = key_type.encode()
    blob = struct.pack(">I", len(name)) + name + struct.pack(">I", 32) + bytes(range(32))
    line = f"{key_type} {base64.b64encode(blob).decode()}"
    return f"{line} {comment}" if comment else line


def opts(**kw: Any) -> C.SeedOptions:
    base: dict[str, Any] = {
        "hostname": "vm1",
        "instance_id": "iid-test",
        "password_hash": C.sha512_crypt("secret", "saltsalt"),
    }
    base.update(kw)
    return C.SeedOptions(**base)


def parse_user_data(text: str) -> Any:
    assert text.startswith("#cloud-config\n")
    return yaml.safe_load(text)


# ------------------------------------------------------------------------------------ password
def test_sha512_crypt_specification_vectors() -> None:
    # Ulrich Drepper's "Unix crypt using SHA-256 and SHA-512" test vectors
    assert C.sha512_crypt("Hello world!", "saltstring") == (
        "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdF"
        "CoEOfaS35inz1"
    )
    assert C.sha512_crypt("Hello world!", "saltstringsaltstring", 10000) == (
        "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8"
        "vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."
    )
    assert C.sha512_crypt("the minimum number is still observed", "roundstoolow", 10) == (
        "$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF"
        "4ZEQpyUNGc0dqbpBYYBaHHrsX."
    )


@pytest.mark.parametrize("password", ["a", "x" * 200, "pässwörd ✓ 🎉", HOSTILE, " lead"])
def test_sha512_crypt_matches_crypt3(password: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        crypt = pytest.importorskip("crypt")
    assert C.sha512_crypt(password, "abcdefgh") == crypt.crypt(password, "$6$abcdefgh$")


def test_hash_password_is_salted_and_never_keeps_the_clear_text() -> None:
    one, two = C.hash_password(HOSTILE), C.hash_password(HOSTILE)
    assert one != two and one.startswith("$6$") and C.is_password_hash(one)
    assert HOSTILE not in one
    with pytest.raises(C.SeedError):
        C.hash_password("")
    seed = opts(password_hash=one)
    assert one not in repr(seed)  # not in logs or tracebacks either
    assert not C.is_password_hash("hunter2")
    assert not C.is_password_hash("$1$salt$abc")  # MD5: too weak
    assert not C.is_password_hash("$y$j9T$salt$hash")  # old cloud-init: a clear-text password
    assert C.is_password_hash("$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6")
    assert not C.is_password_hash("$6$salt$has h")
    with pytest.raises(C.SeedError) as err:
        opts(password_hash="hunter2").validate()
    assert err.value.field == "password"


# ------------------------------------------------------------------------------------ ssh keys
def test_ssh_key_shapes() -> None:
    good = ssh_key()
    assert C.check_ssh_key("  " + good.replace(" ", "   ") + "\n") == good
    assert C.check_ssh_key(ssh_key("ecdsa-sha2-nistp256", comment="")) == ssh_key(
        "ecdsa-sha2-nistp256", comment=""
    )
    blob_of_ed25519 = ssh_key().split()[1]
    bad = [
        "",
        "hello",
        "ssh-ed25519",
        "ssh-ed25519 !!!notbase64",
        f"ssh-rsa {blob_of_ed25519}",  # blob names another type
        "ssh-ed25519 " + base64.b64encode(b"\x00\x00\x00\x0bssh-ed25519").decode(),  # no key
        ssh_key("ssh-dss"),
        "-----BEGIN OPENSSH PRIVATE KEY-----",
        good + "\nssh-ed25519 AAAA",
        'command="rm -rf /" ' + good,
    ]
    for line in bad:
        with pytest.raises(C.SeedError) as err:
            C.check_ssh_key(line)
        assert err.value.field == "ssh_keys"


# ------------------------------------------------------------------------------------ YAML
def test_user_data_survives_hostile_values() -> None:
    # a key line cannot hold a newline (refused below); everything else of HOSTILE can
    key = ssh_key(comment=f"a{HOSTILE.replace(chr(10), '')}b: #c ü  x")
    with pytest.raises(C.SeedError):
        C.check_ssh_key(ssh_key(comment=HOSTILE))
    pw_hash = C.hash_password(HOSTILE)
    seed = opts(
        hostname="yes",  # a YAML 1.1 boolean when written bare
        user="alice",
        password_hash=pw_hash,
        ssh_keys=(key,),
        packages=("qemu-guest-agent", "0123"),
    )
    doc = parse_user_data(C.user_data(seed))
    assert doc["hostname"] == "yes"
    (user,) = doc["users"]
    assert user == {
        "name": "alice",
        "shell": "/bin/bash",
        "sudo": "ALL=(ALL) NOPASSWD:ALL",
        "lock_passwd": False,
        "hashed_passwd": pw_hash,
        "ssh_authorized_keys": [key],
    }
    assert doc["packages"] == ["qemu-guest-agent", "0123"] and doc["package_update"] is True
    assert doc["chpasswd"] == {"expire": False} and doc["ssh_pwauth"] is False
    # the whole HOSTILE string, newline included, through the extra user-data
    extra = C._dump({"write_files": [{"path": "/etc/x", "content": HOSTILE + "\n  lead"}]})
    doc = parse_user_data(C.user_data(opts(extra_user_data=extra)))
    assert doc["write_files"] == [{"path": "/etc/x", "content": HOSTILE + "\n  lead"}]
    assert yaml.safe_load(C._dump({"password": HOSTILE, HOSTILE: "ü"})) == {
        "password": HOSTILE,
        HOSTILE: "ü",
    }


def test_user_data_default_user_and_fqdn() -> None:
    key = ssh_key()
    doc = parse_user_data(C.user_data(opts(hostname="web.example.org", ssh_keys=(key,))))
    assert doc["hostname"] == "web" and doc["fqdn"] == "web.example.org"
    assert "users" not in doc
    assert doc["password"] == C.sha512_crypt("secret", "saltsalt")
    assert doc["ssh_authorized_keys"] == [key]
    meta = yaml.safe_load(C.meta_data(opts(hostname="web.example.org")))
    assert meta == {"instance-id": "iid-test", "local-hostname": "web.example.org"}


def test_emitter_escapes_what_would_not_read_back() -> None:
    data = {"\x85": "", "k": "ü\x85\u2028x"}  # NEL: a line break to a YAML 1.1 reader
    assert yaml.safe_load(C._dump(data)) == data
    assert "ü" in C._dump({"k": "ü"})  # readable when it is safe


@settings(max_examples=300, deadline=None)
@given(
    value=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40),
    key=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20),
)
def test_any_text_round_trips_through_the_emitter(value: str, key: str) -> None:
    # every value the seed writes goes through this one emitter
    data = {key: value, "list": [value, {key: value}], "instance-id": value}
    assert yaml.safe_load(C._dump(data)) == data


@settings(max_examples=100, deadline=None)
@given(
    comment=st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=30
    ).map(str.strip)
)
def test_key_comments_round_trip(comment: str) -> None:
    key = ssh_key(comment=comment)
    normal = C.check_ssh_key(key)
    doc = parse_user_data(C.user_data(opts(user="bob", ssh_keys=(key,))))
    assert doc["users"][0]["ssh_authorized_keys"] == [normal]


def test_extra_user_data_is_merged() -> None:
    extra = (
        "#cloud-config\n"
        "packages: [htop]\n"
        "runcmd:\n  - [sh, -c, 'echo \"a: #b\" > /x']\n"
        "chpasswd: {list: 'root:$6$x$y'}\n"
        "ssh_pwauth: true\n"
    )
    doc = parse_user_data(C.user_data(opts(packages=("vim",), extra_user_data=extra)))
    assert doc["packages"] == ["vim", "htop"]  # lists: ours first
    assert doc["runcmd"] == [["sh", "-c", 'echo "a: #b" > /x']]
    assert doc["chpasswd"] == {"expire": False, "list": "root:$6$x$y"}  # mappings merged
    assert doc["ssh_pwauth"] is True  # scalars: the admin's extra text wins
    for bad in (
        "#!/bin/sh\necho hi\n",
        "- a\n- b\n",
        "a: [unclosed\n",
        "!!python/object:os.system {}",
    ):
        with pytest.raises(C.SeedError) as err:
            opts(extra_user_data=bad).validate()
        assert err.value.field == "extra_user_data"


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"hostname": ""}, "hostname"),
        ({"hostname": "bad_name"}, "hostname"),
        ({"hostname": "-x"}, "hostname"),
        ({"hostname": "a" * 64}, "hostname"),
        ({"hostname": "x\ny"}, "hostname"),
        ({"instance_id": ""}, "instance_id"),
        ({"instance_id": "a\nb"}, "instance_id"),
        ({"user": "Alice"}, "user"),
        ({"user": "a b"}, "user"),
        ({"user": "x: y"}, "user"),
        ({"packages": ("vim\nrm",)}, "packages"),
        ({"packages": ("-y",)}, "packages"),
        ({"network_config": "- not a mapping"}, "network_config"),
        ({"password_hash": ""}, "password"),  # no way to log in
    ],
)
def test_bad_options_name_their_field(kw: dict[str, Any], field: str) -> None:
    with pytest.raises(C.SeedError) as err:
        opts(**kw).validate()
    assert err.value.field == field


def test_network_config_optional() -> None:
    assert C.network_config(opts()) == ""
    net = "version: 2\nethernets:\n  id0:\n    match: {name: 'en*'}\n    dhcp4: true\n"
    files = C.seed_files(opts(network_config=net))
    assert yaml.safe_load(files["network-config"]) == yaml.safe_load(net)


# ------------------------------------------------------------------------------------ ISO
def read_iso(data: bytes) -> tuple[pycdlib.PyCdlib, dict[str, bytes]]:
    iso = pycdlib.PyCdlib()
    iso.open_fp(io.BytesIO(data))
    out: dict[str, bytes] = {}
    for child in iso.list_children(rr_path="/"):
        if child.is_dot() or child.is_dotdot():
            continue
        name = child.rock_ridge.name().decode()
        buf = io.BytesIO()
        iso.get_file_from_iso_fp(buf, rr_path=f"/{name}")
        out[name] = buf.getvalue()
    return iso, out


def test_seed_iso_has_cidata_and_the_files(tmp_path: Path) -> None:
    seed = opts(user="alice", ssh_keys=(ssh_key(comment=HOSTILE.replace("\n", " ")),))
    path = tmp_path / "seed.iso"
    assert C.build_seed_iso(seed, str(path)) == str(path)
    data = path.read_bytes()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(os.listdir(tmp_path)) == ["seed.iso"]  # no temporary file left
    iso, files = read_iso(data)
    try:
        assert iso.pvd.volume_identifier.decode().strip() == "cidata"
        assert files == {
            "user-data": C.user_data(seed).encode(),
            "meta-data": C.meta_data(seed).encode(),
        }
        for name, content in files.items():  # Joliet names too
            buf = io.BytesIO()
            iso.get_file_from_iso_fp(buf, joliet_path=f"/{name}")
            assert buf.getvalue() == content
    finally:
        iso.close()
    # isoinfo/blkid-style check of the label without pycdlib: the PVD's volume id field
    assert data[0x8000 + 40 : 0x8000 + 46] == b"cidata"


def test_seed_iso_read_by_other_tools(tmp_path: Path) -> None:
    """blkid (how cloud-init finds the NoCloud device: LABEL=cidata) and, when installed,
    xorriso (an ISO reader that is not pycdlib) see the label and the Rock Ridge names."""
    seed = opts(user="alice")
    path = tmp_path / "seed.iso"
    C.build_seed_iso(seed, str(path))
    if shutil.which("blkid"):
        out = subprocess.run(
            ["blkid", "-p", "-o", "export", str(path)], capture_output=True, text=True
        ).stdout
        assert "LABEL=cidata" in out.splitlines() and "TYPE=iso9660" in out.splitlines()
    if shutil.which("xorriso") is None:
        return
    out_dir = tmp_path / "extracted"
    subprocess.run(
        ["xorriso", "-osirrox", "on", "-indev", str(path), "-extract", "/", str(out_dir)],
        check=True,
        capture_output=True,
    )
    try:
        assert sorted(p.name for p in out_dir.iterdir()) == ["meta-data", "user-data"]
        assert (out_dir / "user-data").read_text() == C.user_data(seed)
        assert (out_dir / "meta-data").read_text() == C.meta_data(seed)
    finally:
        out_dir.chmod(0o755)  # xorriso restores the ISO's read-only modes


def test_seed_iso_never_clobbers(tmp_path: Path) -> None:
    path = tmp_path / "seed.iso"
    path.write_bytes(b"keep me")
    with pytest.raises(C.SeedError):
        C.build_seed_iso(opts(), str(path))
    assert path.read_bytes() == b"keep me"
    C.build_seed_iso(opts(), str(path), overwrite=True)
    assert path.read_bytes() != b"keep me" and stat.S_IMODE(path.stat().st_mode) == 0o600
    (tmp_path / "dir.iso").mkdir()
    with pytest.raises(C.SeedError):
        C.build_seed_iso(opts(), str(tmp_path / "dir.iso"), overwrite=True)
    with pytest.raises(Q.ImageError):
        C.build_seed_iso(opts(), "relative.iso")
    assert sorted(os.listdir(tmp_path)) == ["dir.iso", "seed.iso"]


def test_seed_bytes_with_network_config() -> None:
    seed = opts(network_config="version: 2\n")
    iso, files = read_iso(C.seed_iso_bytes(seed))
    iso.close()
    assert set(files) == {"user-data", "meta-data", "network-config"}


# ------------------------------------------------------------------------------------ overlay
def run(fn: Any) -> Any:
    messages: list[JobMessage] = []
    Job(fn, messages.append).run()
    last = messages[-1]
    if isinstance(last, JobFailed):
        raise Q.ImageError(last.message)
    assert isinstance(last, JobDone)
    return last.result


def image_info(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        ["qemu-img", "info", "--output=json", str(path)], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def fingerprint(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


@pytest.fixture
def cloud_image(tmp_path: Path) -> Path:
    base = tmp_path / "cloud.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(base), "32M"], check=True)
    subprocess.run(
        ["qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 0 1M", str(base)],
        check=True,
        capture_output=True,
    )
    return base


def test_overlay_on_a_qcow2_cloud_image(tmp_path: Path, cloud_image: Path) -> None:
    before = fingerprint(cloud_image)
    target = tmp_path / "vm1.qcow2"
    layer = run(lambda ctx: C.overlay_for_cloud_image(ctx, str(cloud_image), str(target), 64 << 20))
    assert layer.format == "qcow2" and layer.virtual_size == 64 << 20
    info = image_info(target)
    assert info["backing-filename"] == str(cloud_image)
    assert info["backing-filename-format"] == "qcow2"
    assert fingerprint(cloud_image) == before  # the cloud image was only read
    # the overlay sees the image's data
    out = subprocess.run(
        ["qemu-io", "-f", "qcow2", "-r", "-c", "read -P 0x5a 0 1M", str(target)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0 and "Pattern verification failed" not in out.stdout


def test_overlay_probes_a_raw_image_and_defaults_to_its_size(tmp_path: Path) -> None:
    base = tmp_path / "cloud.img"  # a raw cloud image named like a qcow2 one would be
    base.write_bytes(b"\0" * (8 << 20))
    before = fingerprint(base)
    target = tmp_path / "vm.qcow2"
    layer = run(lambda ctx: C.overlay_for_cloud_image(ctx, str(base), str(target)))
    assert layer.virtual_size == 8 << 20
    assert image_info(target)["backing-filename-format"] == "raw"
    assert fingerprint(base) == before


def test_overlay_refusals(tmp_path: Path, cloud_image: Path) -> None:
    before = fingerprint(cloud_image)
    link = tmp_path / "link.qcow2"
    link.symlink_to(cloud_image)
    existing = tmp_path / "existing.qcow2"
    existing.write_bytes(b"data")
    user = User(kind="domain", name="web", host="local", how="disk", running=False)
    cases: list[tuple[Any, str]] = [
        (lambda c: C.overlay_for_cloud_image(c, str(cloud_image), str(cloud_image)), "itself"),
        (lambda c: C.overlay_for_cloud_image(c, str(cloud_image), str(link)), "itself"),
        (lambda c: C.overlay_for_cloud_image(c, str(cloud_image), str(existing)), "exists"),
        (
            lambda c: C.overlay_for_cloud_image(
                c, str(cloud_image), str(tmp_path / "small.qcow2"), 16 << 20
            ),
            "smaller",
        ),
        (
            lambda c: C.overlay_for_cloud_image(
                c, str(tmp_path / "missing.qcow2"), str(tmp_path / "o1.qcow2")
            ),
            "no such file",
        ),
        (
            lambda c: C.overlay_for_cloud_image(
                c, str(cloud_image), str(tmp_path / "o2.qcow2"), base_users=[user]
            ),
            "disk of web",
        ),
        (lambda c: C.overlay_for_cloud_image(c, "cloud.qcow2", str(tmp_path / "o3")), "absolute"),
    ]
    for fn, words in cases:
        with pytest.raises(Q.ImageError, match=words):
            run(fn)
    assert existing.read_bytes() == b"data"
    assert fingerprint(cloud_image) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "cloud.qcow2",
        "existing.qcow2",
        "link.qcow2",
    ]
    # an image used through a backing chain (another overlay) is fine
    chained = User(kind="domain", name="db", host="local", how="backing chain", via="/x")
    run(
        lambda c: C.overlay_for_cloud_image(
            c, str(cloud_image), str(tmp_path / "ok.qcow2"), base_users=[chained]
        )
    )


# ------------------------------------------------------------------------------------ the seed's
# newer answers: sudo, SSH password login, extra user-data and network-config (issue 12)
TRICKY = "say: \"hi: there\" # not a comment\nsecond line 'x'\n  indented: y\n"


def test_sudo_rule_follows_the_option() -> None:
    with_sudo = parse_user_data(C.user_data(opts(user="bob")))
    assert with_sudo["users"][0]["sudo"] == C.SUDO_NOPASSWD
    without = parse_user_data(C.user_data(opts(user="bob", sudo=False)))
    assert "sudo" not in without["users"][0]
    assert "sudo" not in C.user_data(opts(user="bob", sudo=False))


def test_ssh_password_login_is_ssh_pwauth() -> None:
    assert parse_user_data(C.user_data(opts()))["ssh_pwauth"] is False
    assert parse_user_data(C.user_data(opts(ssh_password_login=True)))["ssh_pwauth"] is True
    # without a password it could never work: refused on its own field
    no_pw = opts(password_hash="", ssh_keys=(ssh_key(),), ssh_password_login=True)
    assert set(no_pw.problems()) == {"ssh_password_login"}
    with pytest.raises(C.SeedError) as err:
        no_pw.validate()
    assert err.value.field == "ssh_password_login"


def test_extra_user_data_with_quotes_colons_and_newlines_survives() -> None:
    extra = (
        "#cloud-config\n"
        "write_files:\n"
        "  - path: /etc/motd\n"
        "    content: |\n"
        + "".join(f"      {line}\n" for line in TRICKY.splitlines())
        + "runcmd:\n"
        "  - ['sh', '-c', 'echo \"a: b\" >> /etc/motd']\n"
        "users:\n"
        "  - name: extra\n"
        '    gecos: "Extra: \\"quoted\\" user"\n'
    )
    doc = parse_user_data(C.user_data(opts(user="bob", extra_user_data=extra)))
    assert doc["write_files"] == [{"path": "/etc/motd", "content": TRICKY}]
    assert doc["runcmd"] == [["sh", "-c", 'echo "a: b" >> /etc/motd']]
    # lists are concatenated: our user first, then the admin's
    assert [u["name"] for u in doc["users"]] == ["bob", "extra"]
    assert doc["users"][1]["gecos"] == 'Extra: "quoted" user'
    assert doc["hostname"] == "vm1"  # ours kept where the extra text says nothing


def test_network_config_in_the_iso_read_back_with_pycdlib(tmp_path: Path) -> None:
    net = (
        "network:\n"
        "  version: 2\n"
        "  ethernets:\n"
        "    id0:\n"
        "      match: {name: 'en*'}\n"
        "      addresses: ['192.0.2.10/24']\n"
        "      routes: [{to: default, via: 192.0.2.1}]\n"
        "      nameservers: {search: ['ex: \"quoted\"'], addresses: [192.0.2.53]}\n"
    )
    seed = opts(network_config=net, sudo=False, ssh_password_login=True)
    path = tmp_path / "seed.iso"
    C.build_seed_iso(seed, str(path))
    iso, files = read_iso(path.read_bytes())
    try:
        buf = io.BytesIO()
        iso.get_file_from_iso_fp(buf, joliet_path="/network-config")
        assert buf.getvalue() == files["network-config"]
    finally:
        iso.close()
    assert set(files) == {"user-data", "meta-data", "network-config"}
    assert yaml.safe_load(files["network-config"]) == yaml.safe_load(net)
    ns = yaml.safe_load(files["network-config"])["network"]["ethernets"]["id0"]["nameservers"]
    assert ns["search"] == ['ex: "quoted"']
    user = parse_user_data(files["user-data"].decode())
    assert user["ssh_pwauth"] is True and "users" not in user  # default user: no sudo rule


@pytest.mark.parametrize(
    "text",
    [
        "version: 2\n",
        "network:\n  version: 2\n  ethernets:\n    eth0: {dhcp4: true}\n",
        "version: 1\nconfig:\n  - type: physical\n    name: eth0\n    subnets: [{type: dhcp}]\n",
        "network: {config: disabled}\n",
        "config: disabled\n",
        "# only a comment\n",
    ],
)
def test_network_config_shapes_accepted(text: str) -> None:
    assert "network_config" not in opts(network_config=text).problems()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("ethernets:\n  eth0: {dhcp4: true}\n", "version: 1` or `version: 2"),
        ("version: 3\n", "version: 1` or `version: 2"),
        ("version: true\n", "version: 1` or `version: 2"),
        ("version: 1\nconfig: {type: physical}\n", "list of entries"),
        ("version: 2\nethernets: [eth0]\n", "`ethernets:` maps interface names"),
        ("network: [a]\n", "`network:` must hold a mapping"),
        ("- version: 2\n", "must be a YAML mapping"),
    ],
)
def test_network_config_shapes_refused(text: str, words: str) -> None:
    problems = opts(network_config=text).problems()
    assert words in problems["network_config"], problems


def test_yaml_errors_name_the_line() -> None:
    bad_net = "version: 2\nethernets:\n  eth0:\n    dhcp4: true\n   bad: x\n"
    msg = opts(network_config=bad_net).problems()["network_config"]
    assert msg.startswith("network-config is not valid YAML at line 5, column 4: "), msg
    assert "\n" not in msg
    bad_extra = "packages:\n  - curl\nruncmd\n  - ls\n"
    msg = opts(extra_user_data=bad_extra).problems()["extra_user_data"]
    # the key without its ':' is on line 3 (PyYAML notices it on line 5)
    assert msg.startswith("extra user-data is not valid YAML at line 3, column 1: "), msg
    assert msg.endswith("(while scanning a simple key; noticed at line 5)"), msg
    msg = opts(extra_user_data="a: [1, 2\nb: 3\nc: 4\n").problems()["extra_user_data"]
    assert "at line 2, column 2: " in msg and "(while parsing a flow sequence at line 1)" in msg
    with pytest.raises(C.SeedError) as err:
        opts(extra_user_data='a: "unclosed\n').validate()
    assert err.value.field == "extra_user_data" and "line 2" in str(err.value)


def test_problems_names_every_field_at_once() -> None:
    bad = opts(
        hostname="bad_name",
        user="Bob",
        password_hash="",
        ssh_keys=(ssh_key(), "ssh-rsa notbase64!"),
        packages=("ok", "-y"),
        extra_user_data="#!/bin/sh\n",
        network_config="version: 9\n",
        ssh_password_login=True,
    )
    problems = bad.problems()
    assert list(problems) == [
        "hostname",
        "user",
        "ssh_keys",
        "packages",
        "extra_user_data",
        "network_config",
    ]  # (extra user-data may set a password itself: no "no way to log in" then)
    assert problems["ssh_keys"].startswith("key 2: ")
    with pytest.raises(C.SeedError) as err:
        bad.validate()
    assert err.value.field == "hostname"  # the first one, in the form's order
    assert opts().problems() == {}
    no_login = opts(password_hash="", ssh_password_login=True, packages=("-y",)).problems()
    assert list(no_login) == ["packages", "password", "ssh_password_login"]


def test_hostname_from_a_domain_name() -> None:
    assert C.hostname_from_name("Web server #1 ü") == "Web-server-1"
    assert C.hostname_from_name("ü") == "localhost"
    assert len(C.hostname_from_name("a" * 100)) == 63
    C.check_hostname(C.hostname_from_name("-x-" * 40))
