"""HostFacade's fioform block: `fio_guard` scans the connection (and the others) for the disks
in use, then asks the fio guard; a scan that fails refuses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.core.facade.test_host_facade import ConnHost, facade, host  # noqa: F401
from virttui.core.facade.host import HostFacade
from virttui.core.fio.job import FioJob, JobFile
from virttui.core.jobs import JobContext


def ctx() -> JobContext:
    return JobContext(0, lambda _m: None)


def writing(path: Path) -> JobFile:
    return JobFile((FioJob(name="w", filename=str(path), size="1m", rw="randwrite"),))


def test_a_domains_disk_is_refused(facade: HostFacade, host: ConnHost, tmp_path: Path) -> None:  # noqa: F811
    disk = tmp_path / "guest disk.img"
    disk.write_bytes(b"\0" * 4096)
    xml = f"""<domain type='test'><name>fio-user</name><memory>65536</memory><vcpu>1</vcpu>
      <os><type arch='x86_64'>hvm</type></os><devices>
      <disk type='file' device='disk'><driver name='qemu' type='raw'/>
        <source file='{disk}'/><target dev='vda' bus='virtio'/></disk></devices></domain>"""
    host.conn.defineXML(xml)
    verdict = facade.fio_guard(ctx(), writing(disk))
    assert verdict.refused
    assert any("fio-user" in r for r in verdict.reasons), verdict.reasons
    spare = facade.fio_guard(ctx(), writing(tmp_path / "spare.test"))
    assert spare.decision == "ok", spare.reasons


class BrokenHost:
    uri = "test:///broken"
    is_local = True
    label = "broken"

    def call(self, fn: Any) -> Any:
        raise RuntimeError("the host is gone")


def test_a_failed_scan_refuses(tmp_path: Path) -> None:
    verdict = HostFacade(BrokenHost()).fio_guard(ctx(), writing(tmp_path / "x.test"))  # type: ignore[arg-type]
    assert verdict.refused
    assert "cannot read the domains' disks" in "\n".join(verdict.reasons)
