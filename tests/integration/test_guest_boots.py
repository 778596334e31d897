"""The tiny test guest really boots under TCG: serial shell, virtio disk, VGA console."""

from __future__ import annotations

import io
import time

import libvirt
import pytest
from PIL import Image, ImageChops

from tests.guestlib import (
    SerialConsole,
    guest_versions,
    running_guest,
    screenshot,
    type_keys,
    wait_for_shell,
)


def test_boots_to_serial_shell(
    system_conn: libvirt.virConnect, record_property: pytest.RecordProperty
) -> None:
    with running_guest(system_conn, start=False) as dom:
        t0 = time.monotonic()
        dom.create()
        with SerialConsole(dom) as console:
            boot = wait_for_shell(console, timeout=120)
            elapsed = time.monotonic() - t0
            record_property("boot_to_prompt_s", round(elapsed, 2))
            print(f"\ntiny guest: shell prompt {elapsed:.1f}s after create ({boot:.1f}s waited)")

            release = console.run("uname -r").strip()
            assert release == guest_versions()["kernel_release"]
            assert release.endswith("-cloud-amd64")

            # virtio_blk (and with it virtio_pci, virtio, virtio_ring) loaded: the disk is there.
            assert console.run("ls /dev/vda").strip() == "/dev/vda"
            assert console.run("cat /sys/block/vda/size").strip() == str(64 * 1024 * 1024 // 512)
            assert console.run("hostname").strip() == "virttui-guest"
            assert console.run("tty").strip() == "/dev/ttyS0"
            # The virtio NIC got its address from QEMU's user-mode network (slirp DHCP).
            assert "eth0" in console.run("ls /sys/class/net")


def _lit_pixels(png_or_ppm: bytes) -> tuple[Image.Image, int]:
    img = Image.open(io.BytesIO(png_or_ppm)).convert("L")
    return img, sum(img.histogram()[65:])


def test_vga_console_screenshot_and_tty1_shell(
    tiny_guest: libvirt.virDomain, guest_console: SerialConsole
) -> None:
    dom = tiny_guest
    # Blank tty1 (clear screen, cursor home): the screenshot shows (almost) nothing lit.
    guest_console.run(r"printf '\033[2J\033[H' >/dev/tty1")
    time.sleep(0.5)
    mime, blank_data = screenshot(dom)
    assert mime in ("image/x-portable-pixmap", "image/png")
    blank, blank_lit = _lit_pixels(blank_data)
    assert blank.size[0] >= 640 and blank.size[1] >= 350

    # Fill it with text: many more lit pixels, so the screenshot shows tty1 live.
    guest_console.run(
        "for i in 1 2 3 4 5 6 7 8 9 10; do "
        "echo 'virttui test guest on tty1: ########################################'; "
        "done >/dev/tty1"
    )
    time.sleep(0.5)
    _mime, text_data = screenshot(dom)
    text, text_lit = _lit_pixels(text_data)
    assert len(text.getcolors(1 << 16) or []) > 1, "screenshot is a uniform image"
    assert ImageChops.difference(blank, text).getbbox() is not None
    assert text_lit > blank_lit + 5000, (blank_lit, text_lit)

    # The tty1 shell reads the guest keyboard: type a command there, read its effect on ttyS0.
    type_keys(dom, "\ntty >/tmp/tty1-check\n")
    deadline = time.monotonic() + 30
    out = ""
    while time.monotonic() < deadline:
        out = guest_console.run("cat /tmp/tty1-check 2>/dev/null").strip()
        if out:
            break
        time.sleep(0.5)
    assert out == "/dev/tty1"
