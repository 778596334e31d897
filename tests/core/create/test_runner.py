"""Pieces of the create runner that need no libvirt (the runs themselves are in
tests/integration/test_create_runner.py, test_create_cli.py, test_create_ssh.py)."""

from __future__ import annotations

import inspect
import xml.etree.ElementTree as ET

from virttui.core.create import runner as R
from virttui.core.create.spec import CloudImageInstall, CloudSeed, CreateSpec
from virttui.core.facade.host import HostFacade
from virttui.core.jobs import JobError, describe_error

MIB = 1 << 20


def test_create_failed_says_what_was_removed_and_what_stays() -> None:
    err = R.CreateFailed(
        "creating 'vm' failed: boom",
        field="disks[1].source",
        removed=("definition of 'vm'", "volume /p/vm.qcow2"),
        left=("volume /p/b.raw (permission denied)",),
        notes=("network 'n1' was started and stays running",),
    )
    assert isinstance(err, JobError)
    assert str(err).splitlines() == [
        "creating 'vm' failed: boom",
        "Removed what this run made: definition of 'vm'; volume /p/vm.qcow2.",
        "Could not remove: volume /p/b.raw (permission denied).",
        "network 'n1' was started and stays running",
    ]
    assert describe_error(err)[0] == str(err)
    assert err.field == "disks[1].source" and err.errors == {}


def test_uuid_goes_after_the_name() -> None:
    xml = "<domain type='qemu'>\n  <name>a &lt;/name&gt; b</name>\n  <memory>1</memory>\n</domain>"
    out = R._with_uuid(xml, "11111111-2222-3333-4444-555555555555")
    root = ET.fromstring(out)
    assert [el.tag for el in root] == ["name", "uuid", "memory"]
    assert root.findtext("name") == "a </name> b"


def test_seed_options_from_the_spec() -> None:
    spec = CreateSpec("Web server #1 ü", 512 * MIB)
    inst = CloudImageInstall("/img.qcow2", seed=CloudSeed(user="admin", ssh_keys=()))
    opts = R.seed_options(spec, inst, "abc")
    assert opts.hostname == "Web-server-1"  # derived from the name: a valid host name
    assert opts.instance_id == "iid-abc" and opts.user == "admin"
    named = CloudImageInstall("/img.qcow2", seed=CloudSeed(hostname="db1.example.org"))
    assert R.seed_options(spec, named).hostname == "db1.example.org"
    assert R.seed_options(spec, named).instance_id.startswith("iid-")


def test_interfaces_as_briefed() -> None:
    params = inspect.signature(R.create_domain).parameters
    assert list(params) == ["ctx", "conn", "spec", "uri", "local_files_host"]
    assert params["uri"].kind is inspect.Parameter.KEYWORD_ONLY
    assert list(inspect.signature(HostFacade.create_domain).parameters) == ["self", "ctx", "spec"]
    fields = [f for f in R.CreateResult.__dataclass_fields__]
    assert fields == ["name", "uuid", "started", "created", "notes"]


def test_url_scheme() -> None:
    assert R._url_scheme("/srv/tree") is None
    assert R._url_scheme("http://x/debian/") == "http"
    assert R._url_scheme("NFS://host/x") == "nfs"
