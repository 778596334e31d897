"""ssh argv for a qemu+ssh URI: the URI's user, port, key and verification options; every
remote argument quoted so that it arrives as one argument."""

from __future__ import annotations

import shlex
import subprocess

import pytest

from virttui.core.jobs import JobError, SshTarget, build_argv, ssh_target
from virttui.core.jobs.process import PID_MARKER, remote_command

HOSTILE = "a b'; touch x"


def test_local_uris_run_here() -> None:
    for uri in ("qemu:///system", "qemu:///session", "test:///default", "qemu+unix:///system"):
        assert ssh_target(uri) is None
        assert build_argv(["qemu-img", "info", HOSTILE], uri) == (
            ["qemu-img", "info", HOSTILE],
            None,
        )
    assert build_argv(["true"]) == (["true"], None)
    with pytest.raises(ValueError):
        build_argv([])


def test_ssh_argv_from_uri() -> None:
    uri = "qemu+ssh://admin@kvm1.example:2222/system?keyfile=/home/a/.ssh/id_kvm&no_verify=1"
    target = ssh_target(uri)
    assert target == SshTarget(
        host="kvm1.example", user="admin", port=2222, keyfile="/home/a/.ssh/id_kvm", no_verify=True
    )
    argv, got = build_argv(["qemu-img", "info", HOSTILE], uri)
    assert got == target
    assert argv == [
        "ssh",
        "-p", "2222",
        "-l", "admin",
        "-i", "/home/a/.ssh/id_kvm",
        "-T", "-e", "none", "-o", "BatchMode=yes",
        "-o", "StrictHostKeyChecking=no",
        "--", "kvm1.example",
        remote_command(["qemu-img", "info", HOSTILE]),
    ]  # fmt: skip


def test_ssh_defaults_and_other_options() -> None:
    target = ssh_target("qemu+ssh://kvm2/system")
    assert target == SshTarget(host="kvm2")
    assert target.command(["true"]) == [
        "ssh", "-T", "-e", "none", "-o", "BatchMode=yes", "--", "kvm2", "true",
    ]  # fmt: skip
    other = ssh_target(
        "qemu+ssh://root@[fe80::1]/system?known_hosts=/tmp/kh&command=/usr/local/bin/myssh&no_tty=1"
    )
    assert other is not None
    argv = other.command(["true"])
    assert argv[0] == "/usr/local/bin/myssh"
    at = argv.index("UserKnownHostsFile=/tmp/kh")
    assert argv[at - 1] == "-o"
    assert "StrictHostKeyChecking=no" not in argv
    assert argv[-2:] == ["fe80::1", "true"]
    with pytest.raises(ValueError):
        ssh_target("qemu+ssh:///system")


def test_remote_command_round_trips_hostile_arguments(tmp_path) -> None:
    """What the remote login shell does with the string: run here by sh -c, in a temp dir."""
    argv = ["printf", "%s\\n", HOSTILE, "$(touch y)", "`touch z`", "-n", "a\nb"]
    command = remote_command(argv)
    assert command.endswith(shlex.join(argv))
    out = subprocess.run(
        ["sh", "-c", command], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout
    first, _, rest = out.partition("\n")
    marker, pgid = first.split()
    assert marker == PID_MARKER and pgid.isdigit()
    assert rest == "".join(a + "\n" for a in argv[2:])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "uri",
    ["qemu+tls://far.example/system", "qemu://far.example/system", "qemu+tcp://10.0.0.9/system"],
)
def test_a_program_for_a_host_without_ssh_is_refused_never_run_here(uri: str) -> None:
    """qemu-img or fio for a tls/tcp host would act on this machine's files of the same path."""
    with pytest.raises(JobError, match="cannot run on .*only over ssh"):
        build_argv(["qemu-img", "resize", "/var/lib/libvirt/images/a.qcow2", "+1G"], uri)


@pytest.mark.parametrize(
    "uri",
    ["qemu:///system", "qemu+unix:///system", "test:///default", "qemu+tcp://localhost/system"],
)
def test_local_names_over_other_transports_run_here(uri: str) -> None:
    assert build_argv(["true"], uri) == (["true"], None)
