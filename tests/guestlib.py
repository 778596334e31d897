"""The tiny real test guest: domain XML, disk images, lifecycle and serial-console helpers.

The guest is Debian's cloud kernel plus a busybox initramfs built by
`scripts/build-test-guest.sh` (`make guest`). It boots under TCG in a few seconds, prints
`virttui test guest ready` and keeps a root shell on the serial console (ttyS0) and on the VGA
text console (tty1).

Non-blocking streams (the serial console) need the libvirt event loop: call
`virttui.core.host.libvirt_runtime.ensure_event_loop()` (or `open_system_conn()`) before opening the
connection the guest lives on.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
import uuid as uuidlib
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import libvirt

from virttui.core.host.libvirt_runtime import ensure_event_loop

DEFAULT_GUEST_DIR = Path("/var/cache/virttui/test-guest/current")
IMAGES_DIR = Path("/var/lib/libvirt/images")
SYSTEM_URI = "qemu:///system"
GUEST_CMDLINE = "console=tty1 console=ttyS0"
READY_BANNER = "virttui test guest ready"
# PS1 is '\h:\w# ' and the shell starts in /root.
SHELL_PROMPT = "virttui-guest:~# "


def guest_dir() -> Path:
    """Directory holding `vmlinuz`, `initrd.gz` and `versions` (env VIRTTUI_GUEST_DIR)."""
    return Path(os.environ.get("VIRTTUI_GUEST_DIR") or DEFAULT_GUEST_DIR)


def guest_kernel() -> Path:
    return guest_dir() / "vmlinuz"


def guest_initrd() -> Path:
    return guest_dir() / "initrd.gz"


def guest_available() -> bool:
    """True when the kernel and initramfs have been built."""
    return guest_kernel().is_file() and guest_initrd().is_file()


def guest_versions() -> dict[str, str]:
    """The `versions` file of the build (kernel_release, kernel_version, busybox_version...)."""
    out: dict[str, str] = {}
    path = guest_dir() / "versions"
    if path.is_file():
        for line in path.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep:
                out[key.strip()] = value.strip()
    return out


def open_system_conn(uri: str = SYSTEM_URI) -> libvirt.virConnect:
    """Open a connection with the event loop running, so console streams work on it."""
    ensure_event_loop()
    return libvirt.open(uri)


def tiny_guest_xml(
    name: str,
    disk_path: str | os.PathLike[str],
    *,
    memory_mib: int = 128,
    vcpus: int = 1,
    uuid: str | None = None,
    vnc: bool = True,
    vnc_keymap: str | None = None,
    extra_devices: str = "",
    cmdline: str = GUEST_CMDLINE,
    serial_log: str | os.PathLike[str] | None = None,
    network: str | None = None,
    mac: str | None = None,
) -> str:
    """Domain XML for the tiny guest (TCG: `type='qemu'`, no KVM needed).

    The virtio NIC is user-mode networking unless `network` names a libvirt network (tests use
    isolated ones only, see `isolated_network`); its init runs `udhcpc -i eth0` in the background.

    `vnc_keymap` sets `<graphics keymap=...>` on the VNC display (QEMU's `-k`: the layout QEMU
    maps RFB keysyms through; None leaves it out, QEMU then uses en-us).

    `extra_devices` is raw XML (one or more elements) appended to `<devices>`. `serial_log`
    makes virtlogd copy everything the serial port prints into that file, connected or not.
    """
    kernel = guest_kernel().resolve()
    initrd = guest_initrd().resolve()
    dom = ET.Element("domain", type="qemu")
    ET.SubElement(dom, "name").text = name
    if uuid is not None:
        ET.SubElement(dom, "uuid").text = str(uuidlib.UUID(uuid))
    ET.SubElement(dom, "memory", unit="MiB").text = str(memory_mib)
    ET.SubElement(dom, "currentMemory", unit="MiB").text = str(memory_mib)
    ET.SubElement(dom, "vcpu", placement="static").text = str(vcpus)
    os_el = ET.SubElement(dom, "os")
    ET.SubElement(os_el, "type", arch="x86_64", machine="pc").text = "hvm"
    ET.SubElement(os_el, "kernel").text = str(kernel)
    ET.SubElement(os_el, "initrd").text = str(initrd)
    ET.SubElement(os_el, "cmdline").text = cmdline
    features = ET.SubElement(dom, "features")
    ET.SubElement(features, "acpi")
    ET.SubElement(dom, "on_poweroff").text = "destroy"
    ET.SubElement(dom, "on_reboot").text = "restart"
    ET.SubElement(dom, "on_crash").text = "destroy"

    devices = ET.SubElement(dom, "devices")
    disk = ET.SubElement(devices, "disk", type="file", device="disk")
    ET.SubElement(disk, "driver", name="qemu", type="qcow2")
    ET.SubElement(disk, "source", file=str(disk_path))
    ET.SubElement(disk, "target", dev="vda", bus="virtio")
    if network is None:
        iface = ET.SubElement(devices, "interface", type="user")
    else:
        iface = ET.SubElement(devices, "interface", type="network")
        ET.SubElement(iface, "source", network=network)
    if mac is not None:
        ET.SubElement(iface, "mac", address=mac)
    ET.SubElement(iface, "model", type="virtio")
    serial = ET.SubElement(devices, "serial", type="pty")
    if serial_log is not None:
        ET.SubElement(serial, "log", file=str(serial_log), append="off")
    ET.SubElement(serial, "target", port="0")
    console = ET.SubElement(devices, "console", type="pty")
    ET.SubElement(console, "target", type="serial", port="0")
    if vnc:
        graphics = ET.SubElement(
            devices, "graphics", type="vnc", port="-1", autoport="yes", listen="127.0.0.1"
        )
        if vnc_keymap is not None:
            graphics.set("keymap", vnc_keymap)
        video = ET.SubElement(devices, "video")
        ET.SubElement(video, "model", type="vga")
    ET.SubElement(devices, "memballoon", model="virtio")
    if extra_devices.strip():
        wrapper = ET.fromstring(f"<devices>{extra_devices}</devices>")
        devices.extend(list(wrapper))
    ET.indent(dom)
    return ET.tostring(dom, encoding="unicode")


def create_qcow2(path: str | os.PathLike[str], size: str = "64M") -> Path:
    """An empty qcow2 image (`qemu-img create -f qcow2`)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["qemu-img", "create", "-q", "-f", "qcow2", str(out), size],
        check=True,
        capture_output=True,
        text=True,
    )
    return out


def unique_name(prefix: str = "vt-test") -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


@contextlib.contextmanager
def transient_dir_pool(
    conn: libvirt.virConnect, prefix: str, path: Path | None = None
) -> Iterator[tuple[libvirt.virStoragePool, Path]]:
    """A transient dir pool named `prefix`-<random> over `path`, or over a fresh directory
    under /var/tmp that QEMU (libvirt-qemu) can traverse. Afterwards its volumes are deleted,
    the pool destroyed, and a directory made here removed (a given `path` stays its owner's)."""
    made = path is None
    root = Path(tempfile.mkdtemp(prefix=f"{prefix}-", dir="/var/tmp")) if path is None else path
    root.chmod(0o755)
    pool_el = ET.Element("pool", type="dir")
    ET.SubElement(pool_el, "name").text = unique_name(prefix)
    ET.SubElement(ET.SubElement(pool_el, "target"), "path").text = str(root)
    pool = conn.storagePoolCreateXML(ET.tostring(pool_el, encoding="unicode"), 0)
    try:
        yield pool, root
    finally:
        empty_and_stop_pool(pool)
        if made:
            shutil.rmtree(root, ignore_errors=True)


def empty_and_stop_pool(pool: libvirt.virStoragePool) -> None:
    """Test clean-up: delete the pool's volumes and destroy (stop) it, libvirt errors ignored
    (a persistent pool stays defined: undefine it after)."""
    with contextlib.suppress(libvirt.libvirtError):
        pool.refresh(0)
        for vol in pool.listAllVolumes(0):
            vol.delete(0)
    with contextlib.suppress(libvirt.libvirtError):
        pool.destroy()


def random_test_subnet() -> str:
    """A random /24 from the benchmarking range 198.18.0.0/15, as "198.18.N" (first 3 octets)."""
    n = secrets.randbelow(512)
    return f"198.{18 + n // 256}.{n % 256}"


@contextlib.contextmanager
def isolated_network(
    conn: libvirt.virConnect, prefix: str = "vt-net", *, start: bool = True
) -> Iterator[tuple[libvirt.virNetwork, str]]:
    """A persistent isolated network (no <forward>: nothing leaves the machine) on a random
    198.18.x.0/24 with a DHCP range .100-.199; yields (network, "198.18.x"). Destroyed and
    undefined after, even on errors. Retries another subnet when libvirt finds a clash."""
    net: libvirt.virNetwork | None = None
    name = unique_name(prefix)
    # Bridge names are at most 15 characters.
    bridge = "vtb" + secrets.token_hex(4)
    try:
        for _ in range(8):
            base = random_test_subnet()
            xml = (
                f"<network><name>{name}</name><bridge name='{bridge}' stp='on' delay='0'/>"
                f"<ip address='{base}.1' netmask='255.255.255.0'>"
                f"<dhcp><range start='{base}.100' end='{base}.199'/></dhcp></ip></network>"
            )
            net = conn.networkDefineXML(xml)
            if not start:
                break
            try:
                net.create()
                break
            except libvirt.libvirtError:
                net.undefine()
                net = None
        if net is None:
            raise RuntimeError("no free 198.18.x.0/24 test subnet found")
        yield net, base
    finally:
        if net is not None:
            with contextlib.suppress(libvirt.libvirtError):
                if net.isActive():
                    net.destroy()
            with contextlib.suppress(libvirt.libvirtError):
                net.undefine()


def remove_domain(dom: libvirt.virDomain) -> None:
    """Destroy (if active) and undefine with every metadata flag; errors for a gone domain are
    ignored."""
    with contextlib.suppress(libvirt.libvirtError):
        if dom.isActive():
            dom.destroy()
    flags = (
        libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
        | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
        | libvirt.VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA
        | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM
    )
    try:
        dom.undefineFlags(flags)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return
        # Older daemons reject unknown flags; a transient domain has nothing to undefine.
        with contextlib.suppress(libvirt.libvirtError):
            dom.undefine()


def _live_handle(dom: libvirt.virDomain) -> libvirt.virDomain:
    """The same domain on a live connection: a test may have restarted libvirtd, which kills the
    connection the handle came from, and cleanup must still remove the guest."""
    try:
        dom.connect().getLibVersion()
        return dom
    except libvirt.libvirtError:
        pass
    for _ in range(50):  # libvirtd may still be coming back up
        try:
            return open_system_conn(SYSTEM_URI).lookupByUUIDString(dom.UUIDString())
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return dom
            time.sleep(0.2)
    return dom


@contextlib.contextmanager
def running_guest(
    conn: libvirt.virConnect,
    name_prefix: str = "vt-test",
    start: bool = True,
    *,
    disk_size: str = "64M",
    **kw: Any,
) -> Iterator[libvirt.virDomain]:
    """Define (persistent) a tiny guest with a fresh qcow2 disk, start it unless `start=False`,
    yield the virDomain; afterwards destroy, undefine and delete the disk, even on errors.

    Extra keywords go to `tiny_guest_xml` (memory_mib, vcpus, uuid, vnc, extra_devices...).
    The serial output is logged to /var/log/libvirt/qemu/<name>-serial0.log while it runs
    (`dom_serial_log(dom)`); that log and libvirt's <name>.log are deleted with the domain.
    """
    name = unique_name(name_prefix)
    IMAGES_DIR.mkdir(parents=True, exist_ok=True)
    disk = IMAGES_DIR / f"{name}.qcow2"
    log = serial_log_path(name)
    kw.setdefault("serial_log", log)
    dom: libvirt.virDomain | None = None
    try:
        create_qcow2(disk, disk_size)
        dom = conn.defineXML(tiny_guest_xml(name, disk, **kw))
        if start:
            dom.create()
        yield dom
    finally:
        if dom is not None:
            remove_domain(_live_handle(dom))
        # libvirt's own per-domain QEMU log is left behind by undefine.
        for path in (disk, log, log.with_name(f"{name}.log")):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def qcow2_volume(pool: libvirt.virStoragePool, name: str, size: int = 64 << 20) -> str:
    """Create a qcow2 volume in `pool`; returns its path."""
    xml = (
        f"<volume><name>{name}</name><capacity unit='bytes'>{size}</capacity>"
        "<target><format type='qcow2'/></target></volume>"
    )
    return pool.createXML(xml, 0).path()


@contextlib.contextmanager
def defined_guest(
    conn: libvirt.virConnect, disk: str, prefix: str = "vt-test", extra_devices: str = ""
) -> Iterator[libvirt.virDomain]:
    """A defined (not started) tiny guest on an existing disk (e.g. a pool volume); removed after,
    with libvirt's per-domain log. The disk itself is the caller's."""
    dom = conn.defineXML(tiny_guest_xml(unique_name(prefix), disk, extra_devices=extra_devices))
    try:
        yield dom
    finally:
        name = dom.name()
        remove_domain(_live_handle(dom))
        with contextlib.suppress(FileNotFoundError):
            Path(f"/var/log/libvirt/qemu/{name}.log").unlink()


def serial_log_path(name: str) -> Path:
    return Path("/var/log/libvirt/qemu") / f"{name}-serial0.log"


def dom_serial_log(dom: libvirt.virDomain) -> str:
    """Everything the guest printed on ttyS0 so far (from virtlogd's file), for diagnostics."""
    try:
        return serial_log_path(dom.name()).read_text(errors="replace")
    except OSError:
        return ""


class SerialConsole:
    """The guest's serial console over a non-blocking libvirt stream.

    A reader thread collects everything into `text`; `wait_for` waits for a substring that
    appears after a given offset. Use as a context manager: the stream is always aborted.
    The connection must have been opened after `ensure_event_loop()`.
    """

    def __init__(self, dom: libvirt.virDomain, *, force: bool = True) -> None:
        self._dom = dom
        self._stream = dom.connect().newStream(libvirt.VIR_STREAM_NONBLOCK)
        self._cond = threading.Condition()
        self._buf = io.StringIO()
        self._closed = False
        self._eof = False
        self._error: BaseException | None = None
        flags = libvirt.VIR_DOMAIN_CONSOLE_FORCE if force else 0
        try:
            dom.openConsole(None, self._stream, flags)
        except BaseException:
            with contextlib.suppress(libvirt.libvirtError):
                self._stream.abort()
            raise
        self._thread = threading.Thread(target=self._read, name="serial-reader", daemon=True)
        self._thread.start()

    def __enter__(self) -> SerialConsole:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def dom(self) -> libvirt.virDomain:
        return self._dom

    @property
    def text(self) -> str:
        with self._cond:
            return self._buf.getvalue()

    def _read(self) -> None:
        while True:
            with self._cond:
                if self._closed:
                    return
            try:
                data = self._stream.recv(65536)
            except libvirt.libvirtError as exc:
                with self._cond:
                    if not self._closed:
                        self._error = exc
                    self._eof = True
                    self._cond.notify_all()
                return
            if data == -2:  # nothing yet (EAGAIN)
                time.sleep(0.02)
                continue
            if isinstance(data, bytes) and data:
                with self._cond:
                    self._buf.write(data.decode("utf-8", errors="replace"))
                    self._cond.notify_all()
                continue
            with self._cond:  # b"": the console was closed (guest stopped, or stolen)
                self._eof = True
                self._cond.notify_all()
            return

    def send(self, data: str | bytes) -> None:
        raw = data.encode() if isinstance(data, str) else data
        deadline = time.monotonic() + 10
        while raw:
            sent = self._stream.send(raw)
            if sent == -2:
                if time.monotonic() > deadline:
                    raise TimeoutError("serial console does not accept input")
                time.sleep(0.02)
                continue
            raw = raw[sent:]

    def mark(self) -> int:
        """Current length of the collected text: pass to `wait_for(start=...)`."""
        with self._cond:
            return len(self._buf.getvalue())

    def wait_for(self, needle: str, timeout: float, *, start: int = 0) -> str:
        """Wait until `needle` appears in the output after offset `start`; return the output
        from `start` up to and including it. Raises TimeoutError with the output seen."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                text = self._buf.getvalue()
                pos = text.find(needle, start)
                if pos >= 0:
                    return text[start : pos + len(needle)]
                if self._eof:
                    raise TimeoutError(
                        f"serial console closed before {needle!r} "
                        f"({self._error or 'end of stream'}); output:\n{text[start:]}"
                    )
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"{needle!r} not seen on the serial console within {timeout:.0f}s; "
                        f"output:\n{text[start:]}"
                    )
                self._cond.wait(min(left, 0.5))

    def run(self, command: str, timeout: float = 20.0) -> str:
        """Run a shell command on the serial shell and return its output (stdout and stderr,
        newlines normalised to "\\n").

        The output is cut out between two marker lines; the markers are typed split in
        quotes, so the echoed (and possibly wrapped) command line never matches them.
        The command must not read stdin.
        """
        tag = secrets.token_hex(4)
        begin, end = f"__vt_{tag}_begin__\r\n", f"__vt_{tag}_end__"
        start = self.mark()
        self.send(f"echo '__vt_{tag}''_begin__'; {command}; echo '__vt_{tag}''_end__'\n")
        text = self.wait_for(end, timeout, start=start)
        body = text[text.index(begin) + len(begin) : -len(end)]
        return body.replace("\r\n", "\n").replace("\r", "")

    def close(self) -> None:
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout=5)
        with contextlib.suppress(libvirt.libvirtError):
            self._stream.abort()


def wait_for_serial_text(dom: libvirt.virDomain, text: str, timeout: float = 60.0) -> str:
    """Open the serial console, wait for `text`, close it; return everything seen until then.

    Output printed before the console was opened is lost (QEMU drops it while no one reads
    the pty), so call this right after starting the domain, or use `SerialConsole`.
    """
    with SerialConsole(dom) as console:
        return console.wait_for(text, timeout)


def wait_for_shell(console: SerialConsole, timeout: float = 60.0, *, banner: bool = True) -> float:
    """Wait for the boot banner (unless `banner=False`) and then a working shell prompt;
    return the seconds waited.

    Sends a newline now and then, so a prompt printed before the console opened is re-printed.
    """
    t0 = time.monotonic()
    deadline = t0 + timeout
    if banner:
        # The banner may have been printed before the console was opened: the virtlogd copy
        # of the serial output has it anyway.
        while READY_BANNER not in console.text and READY_BANNER not in dom_serial_log(console.dom):
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"{READY_BANNER!r} not seen within {timeout:.0f}s; output:\n{console.text}"
                )
            time.sleep(0.1)
    while True:
        start = console.mark()
        console.send("\n")
        try:
            console.wait_for(
                SHELL_PROMPT, min(2.0, max(0.1, deadline - time.monotonic())), start=start
            )
            return time.monotonic() - t0
        except TimeoutError:
            if time.monotonic() >= deadline:
                raise


def screenshot(dom: libvirt.virDomain, screen: int = 0) -> tuple[str, bytes]:
    """Take a screenshot of the graphics console: (mime type, image bytes, usually PPM)."""
    stream = dom.connect().newStream(0)
    chunks: list[bytes] = []
    try:
        mime = dom.screenshot(stream, screen, 0)

        def sink(_st: libvirt.virStream, data: bytes, _opaque: object) -> int:
            chunks.append(data)
            return len(data)

        stream.recvAll(sink, None)
        stream.finish()
    except BaseException:
        with contextlib.suppress(libvirt.libvirtError):
            stream.abort()
        raise
    return str(mime), b"".join(chunks)


# Linux input keycodes (VIR_KEYCODE_SET_LINUX) for typing on the guest's keyboard (tty1).
_KEY_SHIFT = 42
_KEYS: dict[str, int] = {
    **{c: 2 + i for i, c in enumerate("123456789")},
    "0": 11,
    **dict(zip("qwertyuiop", range(16, 26), strict=True)),
    **dict(zip("asdfghjkl", range(30, 39), strict=True)),
    **dict(zip("zxcvbnm", range(44, 51), strict=True)),
    "-": 12,
    "=": 13,
    ";": 39,
    "'": 40,
    "\\": 43,
    ",": 51,
    ".": 52,
    "/": 53,
    " ": 57,
    "\n": 28,
}
_SHIFTED: dict[str, str] = {
    "!": "1", "@": "2", "#": "3", "$": "4", "%": "5", "^": "6", "&": "7", "*": "8",
    "(": "9", ")": "0", "_": "-", "+": "=", ":": ";", '"': "'", "|": "\\", "<": ",",
    ">": ".", "?": "/",
}  # fmt: skip


def type_keys(dom: libvirt.virDomain, text: str, *, hold_ms: int = 20) -> None:
    """Type ASCII text on the guest's keyboard (what the VGA console, tty1, reads)."""
    for ch in text:
        shift = ch.isupper() or ch in _SHIFTED
        base = _SHIFTED.get(ch, ch.lower())
        if base not in _KEYS:
            raise ValueError(f"no key for {ch!r}")
        codes = [_KEY_SHIFT, _KEYS[base]] if shift else [_KEYS[base]]
        dom.sendKey(libvirt.VIR_KEYCODE_SET_LINUX, hold_ms, codes, len(codes), 0)
