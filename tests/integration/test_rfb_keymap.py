"""RFB key events are keysyms that QEMU maps through the VNC display's keymap (`<graphics
keymap=...>`) to scancodes; the tiny guest's kernel console uses the US layout and shows what
arrived (read back from /dev/vcs1 over the serial console).

- keymap='de': 'z' and 'y' sit on swapped keys of a German keyboard, so keysym 'z' arrives on
  the US 'y' key and 'y' on the 'z' key (capitals too, with Shift): the path really goes through
  QEMU's keymap, not through a US keycode table of ours.
- no keymap (QEMU's en-us): the same text arrives unchanged; QEMU adds no Shift (keysym '!'
  alone types '1'), so the client sends Shift_L for characters that need it.
- the app: a paste (Pilot `events.Paste`) is typed over RFB as keysyms and arrives exactly (a
  long one too: paced, nothing dropped), and the special-keys menu's Alt+SysRq+H arrives as
  keysyms (the kernel logs the SysRq).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator

import libvirt
import pytest
from textual import events

from tests.guestlib import SYSTEM_URI, SerialConsole, running_guest, wait_for_shell
from tests.pilot_utils import wait_until
from virttui.app import HostSpec, VirtTUIApp
from virttui.core.console.keysyms import XK_RETURN, text_keysyms
from virttui.core.console.rfb import RfbClient
from virttui.screens.console.graphics import open_graphical_console
from virttui.screens.console.special_keys import SpecialKeysMenu


@contextlib.contextmanager
def rfb(dom: libvirt.virDomain) -> Iterator[RfbClient]:
    fd = dom.openGraphicsFD(0, libvirt.VIR_DOMAIN_OPEN_GRAPHICS_SKIPAUTH)
    updated = threading.Event()
    errors: list[str] = []
    client = RfbClient(socket.socket(fileno=fd), on_update=updated.set, on_error=errors.append)
    try:
        assert updated.wait(30), "no first frame"
        yield client
        assert errors == []
    finally:
        client.close()


def screen_text(console: SerialConsole) -> str:
    return console.run("cat /dev/vcs1")


def wait_for(cond: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, what
        time.sleep(0.3)


def type_text(client: RfbClient, text: str) -> None:
    for group in text_keysyms(text):
        client.keys(group)
        time.sleep(0.02)


@contextlib.contextmanager
def guest_with_keymap(
    conn: libvirt.virConnect, keymap: str | None
) -> Iterator[tuple[libvirt.virDomain, SerialConsole]]:
    with running_guest(conn, "vt-rfbkm", vnc_keymap=keymap) as dom:
        assert (f"keymap='{keymap}'" in dom.XMLDesc(0)) == (keymap is not None)
        with SerialConsole(dom) as console:
            wait_for_shell(console, timeout=120)
            console.run(r"printf '\033[2J\033[H' >/dev/tty1")
            yield dom, console


async def test_keymap_de_maps_keysyms_to_german_keys(system_conn: libvirt.virConnect) -> None:
    with guest_with_keymap(system_conn, "de") as (dom, console):
        with rfb(dom) as client:
            type_text(client, "echo zykm1 ZYKM2\n")
            # A German layout's 'z' is the US 'y' key: the US guest shows y for z, z for y.
            wait_for(lambda: "yzkm1 YZKM2" in screen_text(console), 30, "typed text on tty1")
            text = screen_text(console)
            assert text.count("yzkm1 YZKM2") == 2  # the command line and echo's output
            assert "zykm1" not in text and "ZYKM2" not in text

        # The app reads the display's keymap and holds the modifiers each character needs on
        # a German keyboard: '/' Shift+7, '=' Shift+0, '+' its own key (the US ']' key), 'Z'
        # Shift+(US y). The US guest shows those keys: "&", ")", "]", "Y" (with the US rules
        # it would be "7", "0", "}", "Y").
        app = VirtTUIApp([HostSpec(SYSTEM_URI)], refresh=30.0)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(
                pilot, lambda: SYSTEM_URI in app.hosts and app.hosts[SYSTEM_URI].connected, 30
            )
            screen = open_graphical_console(app, SYSTEM_URI, dom.UUIDString())
            await wait_until(pilot, lambda: screen.state == "connected", 30)
            assert screen.live
            assert screen.handle.layout is not None and screen.handle.layout.name == "de"
            screen.view.post_message(events.Paste("kmde/=+Z"))
            await wait_until(pilot, lambda: screen.pasting is None and screen.pasted == 8, 30)
            deadline = time.monotonic() + 30
            while "kmde&)]Y" not in screen_text(console):
                assert time.monotonic() < deadline, screen_text(console)
                await pilot.pause(0.3)
            with contextlib.suppress(Exception):
                app.exit()


def test_no_keymap_types_unchanged_and_qemu_adds_no_shift(
    system_conn: libvirt.virConnect,
) -> None:
    with guest_with_keymap(system_conn, None) as (dom, console), rfb(dom) as client:
        type_text(client, "echo zykm3 ZYKM4\n")
        wait_for(lambda: "zykm3 ZYKM4" in screen_text(console), 30, "typed text on tty1")
        assert screen_text(console).count("zykm3 ZYKM4") == 2
        # keysym '!' without Shift_L: QEMU maps it to the '1' key and presses no Shift.
        type_text(client, "echo qb")
        client.keys([ord("!")])
        type_text(client, "qb")
        client.keys([XK_RETURN])
        wait_for(lambda: "qb1qb" in screen_text(console), 30, "unshifted '!'")
        # With Shift_L (what text_keysyms sends for it): '!'.
        type_text(client, "echo qc!qc\n")
        wait_for(lambda: screen_text(console).count("qc!qc") >= 2, 30, "shifted '!'")


def test_keymap_ru_needs_legacy_keysyms(system_conn: libvirt.virConnect) -> None:
    """Cyrillic on a Russian display: the legacy keysym (Cyrillic_zhe 0x6d6) finds the key (the
    US ';' key on the US guest); QEMU looks keysyms up by their low 16 bits, so the Unicode
    keysym 0x01000436 finds nothing and types nothing."""
    with guest_with_keymap(system_conn, "ru") as (dom, console), rfb(dom) as client:
        # л т ж м ф are the US k n ; v a keys.
        type_text(client, "лтжмф ")
        client.keys([0x01000000 + 0x0436])  # ж as a Unicode keysym
        type_text(client, "лт")
        # Had the Unicode keysym typed anything, it would sit between "va " and "kn".
        wait_for(lambda: "kn;va kn" in screen_text(console), 30, "typed text on tty1")


@pytest.fixture
def plain_guest(
    system_conn: libvirt.virConnect,
) -> Iterator[tuple[libvirt.virDomain, SerialConsole]]:
    with guest_with_keymap(system_conn, None) as pair:
        yield pair


async def test_app_paste_and_sysrq_over_rfb(
    plain_guest: tuple[libvirt.virDomain, SerialConsole],
) -> None:
    dom, console = plain_guest
    app = VirtTUIApp([HostSpec(SYSTEM_URI)], refresh=30.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(
            pilot, lambda: SYSTEM_URI in app.hosts and app.hosts[SYSTEM_URI].connected, 30
        )
        screen = open_graphical_console(app, SYSTEM_URI, dom.UUIDString())
        await wait_until(pilot, lambda: screen.state == "connected", 30)
        assert screen.live
        await wait_until(pilot, lambda: screen.view.frame is not None, 30)
        keycodes_before = screen.handle.keys_sent
        screen.view.post_message(events.Paste("echo Hello, World! 1+1=2\n"))
        await wait_until(pilot, lambda: screen.pasting is None and screen.pasted == 25, 30)
        deadline = time.monotonic() + 30
        while screen_text(console).count("Hello, World! 1+1=2") < 2:  # command and output
            assert time.monotonic() < deadline, screen_text(console)
            await pilot.pause(0.3)
        assert screen.handle.keys_sent == keycodes_before + 25  # as RFB key groups

        # A long paste (about 1100 key events, paced for QEMU's 10 ms per key event) arrives
        # whole: not one key dropped from QEMU's queue.
        digits = "0123456789" * 50
        screen.view.post_message(events.Paste(f"echo -n {digits} | wc -c | sed s/^/LEN=/\n"))
        await wait_until(pilot, lambda: screen.pasting is not None, 10)
        await wait_until(pilot, lambda: screen.pasting is None, 120)
        deadline = time.monotonic() + 30
        while "LEN=500" not in screen_text(console):
            assert time.monotonic() < deadline, screen_text(console)
            await pilot.pause(0.3)

        # The menu's Alt+SysRq+H as keysyms (Alt_L, Sys_Req, h): the kernel logs it.
        before = console.run("dmesg | grep -ci sysrq")
        await pilot.press("ctrl+backslash")
        await wait_until(pilot, lambda: isinstance(app.screen, SpecialKeysMenu), 10)
        menu = app.screen
        assert isinstance(menu, SpecialKeysMenu)
        menu.dismiss("sysrq-h")
        deadline = time.monotonic() + 30
        while console.run("dmesg | grep -ci sysrq") == before:
            assert time.monotonic() < deadline, console.run("dmesg | tail -5")
            await pilot.pause(0.3)
        assert "sysrq" in console.run("dmesg | tail -30").lower()
        with contextlib.suppress(Exception):
            app.exit()
