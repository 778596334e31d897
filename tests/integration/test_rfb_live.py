"""Live frames over RFB against the tiny guest's real VNC server (QEMU, through
virDomainOpenGraphicsFD): the first full frame equals virDomainScreenshot of the same moment;
text typed as RFB key events shows in the next frames; zlib from the real server; a
password-protected display (SKIPAUTH locally, VNC authentication with the right and a wrong
password); and the app's graphical console on the live path."""

from __future__ import annotations

import contextlib
import io
import socket
import threading
import time
from collections.abc import Callable, Iterator

import libvirt
import pytest
from PIL import Image, ImageChops

from tests.guestlib import (
    SYSTEM_URI,
    SerialConsole,
    running_guest,
    screenshot,
)
from tests.pilot_utils import wait_until
from virttui.app import HostSpec, VirtTUIApp
from virttui.core.console.keysyms import text_keysyms
from virttui.core.console.rfb import (
    ENC_DESKTOP_SIZE,
    ENC_ZLIB,
    RfbAuthError,
    RfbClient,
    bgrx_image,
)
from virttui.screens.console.graphics import open_graphical_console

PASSWORD = "vt-S3cr"
PASSWORD_DISPLAY = (
    f"<graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1' passwd='{PASSWORD}'/>"
    "<video><model type='vga'/></video>"
)


def connect(
    dom: libvirt.virDomain,
    flags: int = libvirt.VIR_DOMAIN_OPEN_GRAPHICS_SKIPAUTH,
    **kw: object,
) -> tuple[RfbClient, threading.Event, list[str]]:
    fd = dom.openGraphicsFD(0, flags)
    updated = threading.Event()
    errors: list[str] = []
    client = RfbClient(
        socket.socket(fileno=fd), on_update=updated.set, on_error=errors.append, **kw
    )  # type: ignore[arg-type]
    return client, updated, errors


def image_of(client: RfbClient) -> Image.Image:
    _v, data, w, h = client.snapshot()
    return bgrx_image(data, w, h)


def shot(dom: libvirt.virDomain) -> Image.Image:
    _mime, data = screenshot(dom)
    img = Image.open(io.BytesIO(data))
    img.load()
    return img.convert("RGB")


def differing(a: Image.Image, b: Image.Image) -> float:
    """Share of pixels that differ noticeably (the text cursor blinks between two frames)."""
    if a.size != b.size:
        return 1.0
    hist = ImageChops.difference(a, b).convert("L").histogram()
    return sum(hist[41:]) / (a.width * a.height)


def wait_for(cond: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def matches_screenshot(client: RfbClient, dom: libvirt.virDomain, timeout: float = 30) -> float:
    """Wait until the RFB framebuffer equals a screenshot of the same moment (tolerance 1%)."""
    deadline = time.monotonic() + timeout
    while True:
        share = differing(image_of(client), shot(dom))
        if share < 0.01 or time.monotonic() > deadline:
            return share
        time.sleep(0.3)


def vcs_count(console: SerialConsole, needle: str) -> int:
    return console.run("cat /dev/vcs1").count(needle)


def test_rfb_frames_match_screenshots_and_typing_shows(
    tiny_guest: libvirt.virDomain, guest_console: SerialConsole
) -> None:
    guest_console.run(r"printf '\033[2J\033[H' >/dev/tty1")
    guest_console.run("for i in 1 2 3 4; do echo '#### virttui rfb ####'; done >/dev/tty1")
    client, updated, errors = connect(tiny_guest)
    try:
        assert updated.wait(30), "no first frame"
        assert client.size == (720, 400)  # the VGA text mode
        assert matches_screenshot(client, tiny_guest) < 0.01
        before = image_of(client)
        lit = sum(before.convert("L").histogram()[61:])
        assert lit > 500  # the printed lines are in the framebuffer

        # Typing as RFB key events (keysyms) reaches the tty1 shell and shows in the frames.
        for group in text_keysyms("echo RFB_TYPED_$((6*7))\n"):
            client.keys(group)
        wait_for(lambda: vcs_count(guest_console, "RFB_TYPED_42") >= 1, 30, "typed text")
        wait_for(
            lambda: differing(before, image_of(client)) > 0.001, 30, "the frame did not change"
        )
        assert matches_screenshot(client, tiny_guest) < 0.01
        assert errors == []
    finally:
        client.close()
    assert not client.alive


def test_rfb_zlib_from_the_real_server(
    tiny_guest: libvirt.virDomain, guest_console: SerialConsole
) -> None:
    """zlib only (plus DesktopSize): QEMU compresses; one stream across all updates."""
    client, updated, errors = connect(tiny_guest, encodings=(ENC_ZLIB, ENC_DESKTOP_SIZE))
    try:
        assert updated.wait(30)
        for i in range(3):  # several updates through the same zlib stream
            guest_console.run(f"echo 'zlib round {i} ################' >/dev/tty1")
            time.sleep(0.5)
        assert matches_screenshot(client, tiny_guest) < 0.01
        assert errors == [] and client.updates >= 2
    finally:
        client.close()


def test_guest_shutdown_is_reported_once(system_conn: libvirt.virConnect) -> None:
    with running_guest(system_conn, "vt-rfbend") as dom:
        client, updated, errors = connect(dom)
        assert updated.wait(30)
        dom.destroy()
        wait_for(lambda: bool(errors), 30, "no error after the guest was destroyed")
        time.sleep(0.5)
        client.close()
        assert errors == ["the display closed the connection"]


@pytest.fixture
def password_guest(system_conn: libvirt.virConnect) -> Iterator[libvirt.virDomain]:
    with running_guest(system_conn, "vt-rfbpw", vnc=False, extra_devices=PASSWORD_DISPLAY) as dom:
        yield dom


def test_password_display(password_guest: libvirt.virDomain) -> None:
    # Locally libvirt skips the display's authentication: no password asked.
    asked: list[int] = []

    def prompt(answer: str) -> Callable[[], str]:
        def ask() -> str:
            asked.append(1)
            return answer

        return ask

    client, updated, _errors = connect(password_guest, password=prompt("unused"))
    try:
        assert updated.wait(30)
        assert asked == []
    finally:
        client.close()

    # Without SKIPAUTH: VNC authentication with the right password works...
    client, updated, errors = connect(password_guest, 0, password=prompt(PASSWORD))
    try:
        assert asked == [1]
        assert updated.wait(30)
        assert client.size[0] > 0 and errors == []
    finally:
        client.close()

    # ... a wrong one is refused with a clear error, and none at all too.
    with pytest.raises(RfbAuthError, match="refused the password"):
        connect(password_guest, 0, password=prompt("wrong-pw"))
    with pytest.raises(RfbAuthError, match="needs a password"):
        connect(password_guest, 0)


async def test_app_live_console(
    tiny_guest: libvirt.virDomain, guest_console: SerialConsole
) -> None:
    """The graphical console in the app takes the live RFB path; keys typed in the view reach
    tty1 as keysyms and the view's frame changes."""
    guest_console.run(r"printf '\033[2J\033[H' >/dev/tty1")
    app = VirtTUIApp([HostSpec(SYSTEM_URI)], refresh=30.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(
            pilot, lambda: SYSTEM_URI in app.hosts and app.hosts[SYSTEM_URI].connected, 30
        )
        screen = open_graphical_console(app, SYSTEM_URI, tiny_guest.UUIDString())
        await wait_until(pilot, lambda: screen.state == "connected", 30)
        assert screen.live
        assert "live RFB" in screen.status_extra()
        await wait_until(pilot, lambda: screen.view.frame is not None, 30)
        await pilot.pause(1.0)
        before = screen.view.frame
        assert before is not None
        await pilot.press(*"echo LIVE_$((5*5))", "enter")
        deadline = time.monotonic() + 30
        while vcs_count(guest_console, "LIVE_25") < 1:
            assert time.monotonic() < deadline
            await pilot.pause(0.3)
        await wait_until(
            pilot,
            lambda: (
                screen.view.frame is not None
                and differing(before.image, screen.view.frame.image) > 0.001
            ),
            30,
        )
        assert screen.frames_grabbed == 0  # no screenshots on the live path
        assert screen.frames_live >= 2
        # Hidden: no redraws while another screen is on top.
        await pilot.press("ctrl+right_square_bracket")
        await pilot.pause(0.5)
        live = screen.frames_live
        rfb = screen.handle.rfb
        updates = rfb.updates
        guest_console.run("echo hidden-update >/dev/tty1")
        await pilot.pause(1.0)
        assert screen.frames_live == live
        assert rfb.updates <= updates + 1  # paused: at most the update already asked for
        # Back: the changes made meanwhile arrive.
        before = screen.view.frame
        assert open_graphical_console(app, SYSTEM_URI, tiny_guest.UUIDString()) is screen
        await wait_until(
            pilot,
            lambda: screen.view.frame is not None and screen.view.frame.digest != before.digest,  # type: ignore[union-attr]
            30,
        )
        with contextlib.suppress(Exception):
            app.exit()


def test_session_falls_back_to_the_password(password_guest: libvirt.virDomain) -> None:
    """GraphicsSession.attach_rfb where libvirt refuses SKIPAUTH: the password is asked for;
    right -> live frames, wrong -> RfbAuthError, cancelled -> screenshots (they need none)."""
    from virttui.core.console.graphics import MODE_RFB, MODE_SCREENSHOTS, GraphicsSession

    def open_fd(flags: int) -> int:
        if flags & libvirt.VIR_DOMAIN_OPEN_GRAPHICS_SKIPAUTH:
            raise libvirt.libvirtError("SKIPAUTH refused (as on a read-only connection)")
        return int(password_guest.openGraphicsFD(0, flags))

    for answer, mode in ((PASSWORD, MODE_RFB), (None, MODE_SCREENSHOTS)):
        session = GraphicsSession.open(password_guest, lambda _m: None)
        try:
            updated = threading.Event()
            session.attach_rfb(open_fd, updated.set, password=lambda a=answer: a)  # type: ignore[misc]
            assert session.mode == mode
            if mode == MODE_RFB:
                assert updated.wait(30)
                frame = session.rfb_frame()
                assert frame is not None and frame.image.size == (720, 400)
                assert session.rfb_frame() is None or session.rfb is not None
            else:
                assert "no display password" in session.rfb_note
        finally:
            session.close()
    session = GraphicsSession.open(password_guest, lambda _m: None)
    try:
        with pytest.raises(RfbAuthError, match="refused the password"):
            session.attach_rfb(open_fd, lambda: None, password=lambda: "wrong-pw")
    finally:
        session.close()
