"""screens/common/confirm.DialogScreen, the one dialog frame: a value or a sentence in the error
line, escape gives None, a telling dialog has one button; untrusted text drawn literally; the
fio typed-name dialog keeps its buttons on an 80x24 screen however many devices it names."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import Button, Input, Static

from tests.pilot_utils import wait_until
from virttui.core.fio.guard import TargetCheck, Verdict
from virttui.resources import stylesheets
from virttui.screens.common.confirm import DialogScreen
from virttui.screens.fio.form import ConfirmNamesScreen
from virttui.widgets.common.plain import plain

HOSTILE = "vm\x1b[2J[bold]x[/bold]"


class DialogApp(App[None]):
    CSS_PATH = stylesheets()  # type: ignore[assignment]  # a list of Paths, as the app's

    def compose(self) -> ComposeResult:
        yield Static("under the dialog")


class NameDialog(DialogScreen[str]):
    confirm_label = "Rename"
    hint = "hint: " + HOSTILE

    def body(self) -> ComposeResult:
        yield Input(id="name", compact=True)

    def collect(self) -> str:
        name = self.query_one("#name", Input).value
        if not name:
            raise ValueError("a name, please: " + HOSTILE)
        return name


class TellDialog(DialogScreen[None]):
    confirm_label = ""
    cancel_label = "Close"
    cancel_id = "close"
    destructive = True

    def body(self) -> ComposeResult:
        yield Static(plain(HOSTILE), id="told")


def shown(app: App[Any]) -> str:
    return "\n".join(str(s.render()) for s in app.screen.query(Static))


async def test_a_value_or_a_sentence_and_escape_gives_none() -> None:
    app = DialogApp()
    results: list[str | None] = []
    async with app.run_test(size=(80, 24)) as pilot:
        title = plain("Rename: " + HOSTILE)
        dialog = NameDialog(title)
        app.push_screen(dialog, results.append)
        await wait_until(pilot, lambda: dialog.is_current and bool(dialog.query(Button)))
        await wait_until(pilot, lambda: app.focused is dialog.query_one("#name"))
        assert dialog.query_one(".dialog").has_class("dialog") and not dialog.query(".danger")
        await pilot.press("enter")  # empty: refused, the sentence shows, the dialog stays
        await pilot.pause()
        assert app.screen is dialog and results == []
        error = str(dialog.query_one("#form-error", Static).render())
        assert error == "a name, please: vm\\e[2J[bold]x[/bold]"
        text = shown(app)
        assert "Rename: vm\\e[2J[bold]x[/bold]" in text  # the title, literally
        assert "hint: vm\\e[2J[bold]x[/bold]" in text
        assert "\x1b" not in text
        dialog.query_one("#name", Input).value = "new"
        dialog.query_one("#confirm", Button).press()
        await wait_until(pilot, lambda: results == ["new"])
        dialog2 = NameDialog(Text("again"))
        app.push_screen(dialog2, results.append)
        await wait_until(pilot, lambda: dialog2.is_current and bool(dialog2.query(Button)))
        await pilot.press("escape")
        await wait_until(pilot, lambda: results == ["new", None])
        dialog3 = NameDialog(Text("and cancel"))
        app.push_screen(dialog3, results.append)
        await wait_until(pilot, lambda: dialog3.is_current and bool(dialog3.query(Button)))
        dialog3.query_one("#cancel", Button).press()
        await wait_until(pilot, lambda: results == ["new", None, None])


async def test_a_telling_dialog_has_one_button_and_no_error_line() -> None:
    app = DialogApp()
    results: list[None] = []
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = TellDialog(Text("told"))
        app.push_screen(dialog, results.append)
        await wait_until(pilot, lambda: dialog.is_current and bool(dialog.query(Button)))
        assert [b.id for b in dialog.query(Button)] == ["close"]
        assert dialog.query_one("#close", Button).variant == "primary"
        assert dialog.query(".danger") and not dialog.query("#form-error")
        await wait_until(pilot, lambda: app.focused is dialog.query_one("#close"))
        assert "vm\\e[2J[bold]x[/bold]" in shown(app)
        await pilot.press("enter")
        await wait_until(pilot, lambda: results == [None])


async def test_many_typed_names_scroll_and_the_buttons_stay_on_screen() -> None:
    devices = [f"/dev/loop{i}" for i in range(8)]
    verdict = Verdict(
        True,
        tuple(TargetCheck(d, "block", "confirm", ("blank",), confirm_name=d) for d in devices),
    )
    app = DialogApp()
    results: list[bool | None] = []
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = ConfirmNamesScreen(verdict)
        app.push_screen(dialog, results.append)
        await wait_until(pilot, lambda: dialog.is_current and bool(dialog.query(Button)))
        await pilot.pause()
        for button_id in ("#cancel", "#confirm"):
            region = dialog.query_one(button_id, Button).region
            assert region.height > 0 and region.bottom <= 24, (button_id, region)
        for i, device in enumerate(devices):
            dialog.query_one(f"#confirm-name-{i}", Input).value = device
        dialog.query_one("#confirm", Button).press()
        await wait_until(pilot, lambda: results == [True])
