"""The image screen: one disk image (a file on a host), its backing chain, its internal snapshots,
and every qemu-img action on it.

`open_image(app, uri, path)` opens it (the lead wires it to volume rows and the file browser);
the command palette has "Image: open a path..." (`prompt_open_image`).

Every action runs as a job (`core/jobs`, `screens/common/jobs.start_job`): qemu-img runs on the
host of `uri` (over ssh for `qemu+ssh`, each argument quoted) or on this machine when `uri` is
"". Before any writing action the guard (`core/storage/guard`, through the host's facade) asks
every open connection who uses the image: a running domain -> refused, naming it and libvirt's
live route; shut-off users or overlays -> a confirmation; read-only queries on an image in use
run with -U and say the data may be stale. Long actions show a progress bar with an ETA and are
cancelled with `x` (a convert's partial target is removed).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, Literal

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, ProgressBar, Static

from virttui.core.common.units import human_bytes
from virttui.core.jobs import Job, JobContext, JobDone, JobFailed, JobProgress, ssh_target
from virttui.core.storage import qemu_img as Q
from virttui.core.storage.guard import READ_ONLY, Action, Verdict, guard
from virttui.screens.common.confirm import ConfirmScreen
from virttui.screens.common.jobs import start_job
from virttui.screens.common.readonly import READ_ONLY_MESSAGE, action_name, read_only_fallbacks
from virttui.screens.common.services import AppServices, services
from virttui.screens.storage.image_forms import Field, ImageFormScreen, Values, typed_confirmation
from virttui.widgets.common.plain import plain
from virttui.widgets.storage.image_view import ImageChainTree, SnapshotTable

GuardCall = Callable[[], list[Verdict]]
OUT_FORMATS = ("qcow2", "raw", "vmdk", "vdi", "vhdx", "vpc")


def _services(node: Any) -> AppServices | None:
    try:
        return services(node)
    except TypeError:  # a bare App (tests, embedding): no open hosts to ask
        return None


def merge_verdicts(verdicts: Sequence[Verdict]) -> Verdict:
    """One verdict for several guard answers: any refusal wins, then any confirmation."""
    for decision in ("refuse", "confirm"):
        found = [v for v in verdicts if v.decision == decision]
        if found:
            first = found[0]
            message = "\n\n".join(v.message for v in found if v.message)
            return Verdict(
                first.action,
                first.paths,
                first.decision,
                message,
                first.running,
                first.stopped,
                first.images,
                first.live_route,
                force_share=any(v.force_share for v in verdicts),
            )
    first = verdicts[0]
    message = "\n\n".join(v.message for v in verdicts if v.message)
    return Verdict(
        first.action,
        first.paths,
        "ok",
        message,
        force_share=any(v.force_share for v in verdicts),
    )


def unguarded(action: Action, paths: Sequence[str]) -> Verdict:
    """No libvirt connection to the image's host is open: nobody can be asked who uses it, so a
    writing action needs a confirmation that says so."""
    if action in READ_ONLY:
        return Verdict(action, tuple(paths), "ok", "")
    message = (
        "No libvirt connection to this host is open: virttui cannot tell whether a guest uses "
        "the image. Writing to an image a running guest uses corrupts it."
    )
    return Verdict(action, tuple(paths), "confirm", message)


# Refused writes that have a live route on the running domain's disk (core/domain/blockjobs.py).
LIVE_ROUTE_ACTIONS = frozenset({"grow", "commit", "rebase"})

# Keys that write an image (or a new one): hidden and refused on a read-only app or host.
WRITE_ACTIONS = frozenset(
    {
        "repair",
        "create",
        "convert",
        "resize",
        "snapshot_create",
        "snapshot_apply",
        "snapshot_delete",
        "commit",
        "rebase",
    }
)


class ImageScreen(Screen[None]):
    BINDINGS = [
        Binding("r", "reload", "Reload", id="image.reload"),
        Binding("k", "check", "Check", id="image.check"),
        Binding("K", "repair", "Repair", id="image.repair", show=False),
        Binding("n", "create", "New", id="image.create"),
        Binding("o", "convert", "Convert", id="image.convert"),
        Binding("z", "resize", "Resize", id="image.resize"),
        Binding("s", "snapshot_create", "Snapshot", id="image.snapshot_create"),
        Binding("a", "snapshot_apply", "Apply", id="image.snapshot_apply", show=False),
        Binding("d", "snapshot_delete", "Delete snap", id="image.snapshot_delete", show=False),
        Binding("m", "commit", "Commit", id="image.commit", show=False),
        Binding("b", "rebase", "Rebase", id="image.rebase", show=False),
        Binding("x", "cancel_job", "Cancel job", id="image.cancel"),
        Binding("escape", "back", "Back", id="image.back"),
    ]
    BINDINGS += read_only_fallbacks(BINDINGS, WRITE_ACTIONS)

    def __init__(self, uri: str, path: str) -> None:
        super().__init__()
        self.uri = uri
        self.path = path
        self.info: Q.ImageInfo | None = None
        self.last_verdict: Verdict | None = None
        self.check_result: Q.CheckResult | None = None
        self.job: Job[Any] | None = None
        self.job_title = ""

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        where = f" on {self.uri}" if self.uri else " (this machine)"
        title = Text()
        title.append("Image ", "bold")
        title.append_text(plain(self.path))
        title.append(where, "dim")
        yield Static(title, id="image-title")
        yield Static(id="image-status")
        with Vertical(id="image-body"):
            yield ImageChainTree(id="image-chain")
            yield Static(Text("Internal snapshots", "bold"), id="image-snap-title")
            yield SnapshotTable(id="image-snapshots")
            yield Static(id="image-check")
        with Horizontal(id="image-progress-row"):
            yield ProgressBar(total=100, show_eta=False, id="image-progress")
            yield Static(id="image-progress-text")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#image-progress-row").display = False
        self.query_one("#image-check").display = False
        self.query_one("#image-chain", ImageChainTree).focus()
        self.action_reload()

    # ------------------------------------------------------------------ read-only
    @property
    def read_only(self) -> bool:
        """The app runs read-only, or the image's host is a read-only connection."""
        app = _services(self)
        if app is None:
            return False
        if app.readonly:
            return True
        facade = app.facade(self.uri) if self.uri else None
        return facade is not None and facade.readonly

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        name = action_name(action)
        if name == "read_only":
            return self.read_only
        if name in WRITE_ACTIONS and self.read_only:
            return False  # hidden; the key falls through to `read_only`, which says why
        return True

    def action_read_only(self) -> None:
        self.notify(READ_ONLY_MESSAGE, severity="warning", markup=False)

    # ------------------------------------------------------------------ plumbing
    @property
    def run_uri(self) -> str | None:
        """The URI qemu-img runs on (None: this machine)."""
        return self.uri if self.uri and ssh_target(self.uri) is not None else None

    @property
    def fmt(self) -> str:
        return self.info.top.format if self.info is not None else ""

    def status(self, message: str, *, error: bool = False) -> None:
        text = plain(message, "bold red" if error else "", multiline=True)
        self.query_one("#image-status", Static).update(text)

    def guard_call(self, checks: Sequence[tuple[Action, Sequence[str]]]) -> GuardCall:
        """A blocking call (run it in a job) asking the guard about each (action, paths), with
        the open connections read here, on the UI thread."""
        app = _services(self)
        hosts = list(app.hosts.values()) if app is not None else []
        facade = app.facade(self.uri) if app is not None and self.uri else None
        if facade is not None:
            others = [h for h in hosts if h.uri != self.uri]
            return lambda: [facade.image_guard(a, list(p), others) for a, p in checks]
        local = self.run_uri is None
        conns = [h for h in hosts if h.is_local] if local else hosts
        if not conns:
            return lambda: [unguarded(a, p) for a, p in checks]
        return lambda: [guard(a, list(p), conns, local=local) for a, p in checks]

    def offer_live_route(self, verdict: Verdict) -> None:
        """A write refused because a domain of this host runs on the image: offer the block job
        libvirt has for it (blockResize, blockCommit, blockPull) on that domain's disk."""
        from virttui.screens.storage.live import open_live_route_for_path

        app = _services(self)
        facade = app.facade(self.uri) if app is not None and self.uri else None
        if facade is None or verdict.action not in LIVE_ROUTE_ACTIONS or not verdict.live_route:
            return
        users = [u for u in verdict.running if u.kind == "domain" and u.host == facade.label]
        if len(users) != 1:
            return  # several running users (or on another host): no single disk to act on
        user, path = users[0], verdict.paths[0]

        def answered(ok: bool | None) -> None:
            if ok:
                open_live_route_for_path(self.app, self.uri, user.name, path, verdict.action)

        question = Text()
        question.append_text(plain(user.name, "bold"))
        question.append(f" runs on this image. Use libvirt's live route ({verdict.live_route})?")
        self.app.push_screen(ConfirmScreen(question, confirm_label="Live route"), answered)

    def guarded(
        self,
        checks: Sequence[tuple[Action, Sequence[str]]],
        question: str,
        then: Callable[[Verdict], None],
        *,
        button: str = "Go on",
    ) -> None:
        """Ask the guard; on a refusal say why; otherwise confirm (the guard's warning and/or
        `question`) and call `then(verdict)`."""
        call = self.guard_call(checks)
        self.status("checking who uses the image...")

        def done(message: JobDone) -> None:
            verdict = merge_verdicts(message.result)
            self.last_verdict = verdict
            if verdict.decision == "refuse":
                self.status(verdict.message, error=True)
                self.notify(
                    verdict.message, title="Refused", severity="error", markup=False, timeout=15
                )
                self.offer_live_route(verdict)
                return
            self.status(verdict.message if verdict.force_share else "")
            parts = [verdict.message] if verdict.needs_confirmation else []
            if question:
                parts.append(question)
            if not parts:
                then(verdict)
                return

            def answered(ok: bool | None) -> None:
                if ok:
                    then(verdict)
                else:
                    self.status("not done")

            self.app.push_screen(
                ConfirmScreen(plain("\n\n".join(parts), multiline=True), confirm_label=button),
                answered,
            )

        def failed(message: JobFailed) -> None:
            if not message.cancelled:
                self.status(
                    f"Refused: cannot tell who uses the image ({message.message})", error=True
                )

        start_job(
            self,
            lambda _ctx: call(),
            title="Who uses the image",
            on_done=done,
            on_failed=failed,
            cancel_on_close=True,
            group="image-guard",
        )

    def run(
        self,
        title: str,
        fn: Callable[[JobContext], Any],
        done: Callable[[Any], None] | None = None,
        *,
        reload: bool = True,
    ) -> None:
        """Run an action as a job with the progress row; one at a time."""
        if self.job is not None:
            self.notify(f"{self.job_title} is still running (x cancels it)", markup=False)
            return
        self.job_title = title
        row = self.query_one("#image-progress-row")
        row.display = True
        self.query_one("#image-progress", ProgressBar).update(total=100, progress=0)
        self.query_one("#image-progress-text", Static).update(plain(f"{title}..."))

        def finished() -> None:
            self.job = None
            row.display = False

        def on_done(message: JobDone) -> None:
            finished()
            if done is not None:
                done(message.result)
            else:
                self.status(f"{title}: done")
            if reload:
                self.action_reload()

        def on_failed(message: JobFailed) -> None:
            finished()
            if message.cancelled:
                self.status(f"{title}: cancelled")
            else:
                self.status(f"{title} failed: {message.message}", error=True)

        self.job = start_job(
            self,
            fn,
            title=title,
            on_progress=self.show_progress,
            on_done=on_done,
            on_failed=on_failed,
            cancel_on_close=True,
            group="image-action",
        )

    def show_progress(self, message: JobProgress) -> None:
        if message.fraction is not None:
            self.query_one("#image-progress", ProgressBar).update(progress=message.fraction * 100)
        if message.text:
            self.query_one("#image-progress-text", Static).update(plain(message.text))

    # ------------------------------------------------------------------ reading
    def action_reload(self) -> None:
        call = self.guard_call([("info", [self.path])])
        path, uri = self.path, self.run_uri

        def job(ctx: JobContext) -> tuple[Q.ImageInfo, str]:
            try:
                verdict = call()[0]
                force, note = verdict.force_share, verdict.message
            except Exception as exc:  # noqa: BLE001 - reading is harmless; say what is unknown
                force, note = False, f"cannot tell who uses the image: {exc}"
            image = Q.info(ctx, path, uri=uri, force_share=force)
            return image, note or image.stale_note

        def done(message: JobDone) -> None:
            image, note = message.result
            self.info = image
            self.query_one("#image-chain", ImageChainTree).show(image)
            self.query_one("#image-snapshots", SnapshotTable).show(image.top.snapshots)
            self.status(note)

        def failed(message: JobFailed) -> None:
            if message.cancelled:
                return
            self.info = None
            self.query_one("#image-chain", ImageChainTree).show_error(message.message)
            self.query_one("#image-snapshots", SnapshotTable).show(())
            self.status(message.message, error=True)

        start_job(
            self, job, on_done=done, on_failed=failed, cancel_on_close=True, group="image-info"
        )

    def show_check(self, result: Q.CheckResult) -> None:
        self.check_result = result
        box = self.query_one("#image-check", Static)
        box.update(plain("\n".join(["Check:", *result.lines()]), multiline=True))
        box.display = True
        self.status("check: clean" if result.clean else "check: problems found", error=False)

    def action_check(self) -> None:
        path, uri, fmt = self.path, self.run_uri, self.fmt

        def then(verdict: Verdict) -> None:
            force = verdict.force_share
            self.run(
                "Check",
                lambda ctx: Q.check(ctx, path, uri=uri, force_share=force, fmt=fmt),
                self.show_check,
                reload=False,
            )

        self.guarded([("check", [path])], "", then)

    def action_repair(self) -> None:
        path, uri, fmt = self.path, self.run_uri, self.fmt

        def build(values: Values) -> Literal["leaks", "all"]:
            return "all" if values["mode"] == "all" else "leaks"

        def chosen(mode: Literal["leaks", "all"] | None) -> None:
            if not mode:
                return
            question = f"Repair {path} with qemu-img check -r {mode}? " + (
                "-r all also rewrites corrupted metadata: data in those clusters may be lost."
                if mode == "all"
                else "-r leaks frees leaked clusters only (safe)."
            )
            self.guarded(
                [("repair", [path])],
                question,
                lambda _v: self.run(
                    f"Repair ({mode})",
                    lambda ctx: Q.check(ctx, path, uri=uri, repair=mode, fmt=fmt),
                    self.show_check,
                ),
                button="Repair",
            )

        self.app.push_screen(
            ImageFormScreen(
                "Repair the image",
                [Field("mode", "Repair", "choice", "leaks", (("leaks", "leaks"), ("all", "all")))],
                build,
                hint="leaks: free leaked clusters (safe). all: also fix corruptions.",
            ),
            chosen,
        )

    # ------------------------------------------------------------------ create
    def create_fields(self) -> list[Field]:
        folder = os.path.dirname(self.path) or "/"
        return [
            Field("path", "Path", default=os.path.join(folder, "new.qcow2")),
            Field("format", "Format", "choice", "qcow2", [(f, f) for f in Q.FORMATS]),
            Field("size", "Size", placeholder="10G (empty: the backing file's)"),
            Field(
                "compat",
                "Compat",
                "choice",
                "",
                [("default", ""), ("0.10", "0.10"), ("1.1", "1.1")],
            ),
            Field("cluster", "Cluster size", placeholder="64K (qcow2)"),
            Field(
                "prealloc",
                "Preallocation",
                "choice",
                "",
                [("default", ""), *((p, p) for p in Q.PREALLOCATION["qcow2"])],
            ),
            Field(
                "lazy",
                "Lazy refcounts",
                "choice",
                "",
                [("default", ""), ("on", "on"), ("off", "off")],
            ),
            Field("backing", "Backing file", placeholder="/path/base.qcow2 (overlay)"),
            Field(
                "backing_fmt",
                "Backing format",
                "choice",
                "",
                [("-", ""), ("qcow2", "qcow2"), ("raw", "raw")],
            ),
            Field("luks", "LUKS encrypt", "flag", False),
            Field("passphrase", "Passphrase", "secret"),
            Field("passphrase2", "Again", "secret"),
            Field("options", "More -o", placeholder="e.g. refcount_bits=16"),
            Field("overwrite", "Overwrite", "flag", False),
        ]

    @staticmethod
    def build_create(values: Values) -> tuple[str, Q.CreateOptions, bool]:
        path = str(values["path"]).strip()
        size_text = str(values["size"]).strip()
        cluster = str(values["cluster"]).strip()
        lazy = str(values["lazy"])
        if values["passphrase"] != values["passphrase2"]:
            raise ValueError("the two passphrases differ")
        opts = Q.CreateOptions(
            format=str(values["format"]),
            size=Q.parse_image_size(size_text) if size_text else None,
            compat=str(values["compat"]),
            cluster_size=Q.parse_image_size(cluster, "cluster size") if cluster else None,
            preallocation=str(values["prealloc"]),
            lazy_refcounts=None if not lazy else lazy == "on",
            backing_file=str(values["backing"]).strip(),
            backing_format=str(values["backing_fmt"]),
            luks=bool(values["luks"]),
            passphrase=str(values["passphrase"]),
            extra_options=str(values["options"]),
        )
        try:
            Q.check_path(path, "path")
            opts.validate()
        except Q.ImageError as exc:
            raise ValueError(str(exc)) from None
        return path, opts, bool(values["overwrite"])

    def action_create(self) -> None:
        uri = self.run_uri

        def chosen(result: tuple[str, Q.CreateOptions, bool] | None) -> None:
            if result is None:
                return
            path, opts, overwrite = result
            question = f"Overwrite {path} if it exists?" if overwrite else ""

            def go(_verdict: Verdict) -> None:
                self.run(
                    "Create",
                    lambda ctx: Q.create(ctx, path, opts, uri=uri, overwrite=overwrite),
                    lambda _r: self.status(f"created {path}"),
                    reload=False,
                )

            self.guarded([("create", [path])], question, go, button="Create")

        self.app.push_screen(
            ImageFormScreen("New image (qemu-img create)", self.create_fields(), self.build_create),
            chosen,
        )

    # ------------------------------------------------------------------ convert
    def convert_fields(self) -> list[Field]:
        base, _ext = os.path.splitext(self.path)
        return [
            Field("target", "Target", default=f"{base}-copy.qcow2"),
            Field("out", "Format (-O)", "choice", "qcow2", [(f, f) for f in OUT_FORMATS]),
            Field("compress", "Compress (-c)", "flag", False),
            Field("sparse", "Sparse (-S)", placeholder="4k (0: write zeros)"),
            Field("options", "Options (-o)", placeholder="e.g. compat=1.1"),
            Field("src_fmt", "Source (-f)", default=self.fmt, placeholder="probe"),
            Field("rate", "Rate (-r)", placeholder="e.g. 50M (per second)"),
            Field("overwrite", "Overwrite", "flag", False),
        ]

    @staticmethod
    def build_convert(values: Values) -> tuple[str, Q.ConvertOptions, bool]:
        target = str(values["target"]).strip()
        rate = str(values["rate"]).strip()
        opts = Q.ConvertOptions(
            out_format=str(values["out"]),
            src_format=str(values["src_fmt"]).strip(),
            compress=bool(values["compress"]),
            sparse_size=str(values["sparse"]).strip(),
            options=str(values["options"]).strip(),
            rate_limit=Q.parse_image_size(rate, "rate limit") if rate else None,
        )
        try:
            Q.convert_args("/source", target, opts)
        except Q.ImageError as exc:
            raise ValueError(str(exc)) from None
        return target, opts, bool(values["overwrite"])

    def action_convert(self) -> None:
        src, uri = self.path, self.run_uri

        def chosen(result: tuple[str, Q.ConvertOptions, bool] | None) -> None:
            if result is None:
                return
            target, opts, overwrite = result
            if os.path.normpath(target) == os.path.normpath(src):
                self.status("source and target are the same file", error=True)
                return
            question = f"Overwrite {target} if it exists?" if overwrite else ""

            def go(verdict: Verdict) -> None:
                final = Q.ConvertOptions(
                    out_format=opts.out_format,
                    src_format=opts.src_format,
                    compress=opts.compress,
                    sparse_size=opts.sparse_size,
                    options=opts.options,
                    rate_limit=opts.rate_limit,
                    force_share=verdict.force_share,
                )
                self.run(
                    "Convert",
                    lambda ctx: Q.convert(ctx, src, target, final, uri=uri, overwrite=overwrite),
                    lambda _r: self.status(f"converted to {target}"),
                    reload=False,
                )

            self.guarded(
                [("convert-source", [src]), ("convert-target", [target])],
                question,
                go,
                button="Convert",
            )

        self.app.push_screen(
            ImageFormScreen(
                "Convert (qemu-img convert)", self.convert_fields(), self.build_convert
            ),
            chosen,
        )

    # ------------------------------------------------------------------ resize
    def action_resize(self) -> None:
        if self.info is None:
            self.status("read the image first (r)", error=True)
            return
        current = self.info.top.virtual_size
        path, uri, fmt = self.path, self.run_uri, self.fmt

        def build(values: Values) -> tuple[int, bool]:
            text = str(values["size"]).strip()
            if text.startswith("+"):
                size = current + Q.parse_image_size(text[1:])
            else:
                size = Q.parse_image_size(text)
            if size == current:
                raise ValueError(f"the image is already {human_bytes(current)}")
            shrink = size < current
            if shrink and not values["shrink"]:
                raise ValueError(
                    f"{human_bytes(size)} is smaller than {human_bytes(current)}: tick Shrink "
                    "(the data at the end is deleted)"
                )
            return size, shrink

        def chosen(result: tuple[int, bool] | None) -> None:
            if result is None:
                return
            size, shrink = result

            def go(_verdict: Verdict) -> None:
                self.run(
                    "Resize",
                    lambda ctx: Q.resize(ctx, path, size, uri=uri, shrink=shrink, fmt=fmt),
                    lambda _r: self.status(f"resized to {human_bytes(size)}"),
                )

            action: Action = "shrink" if shrink else "grow"
            if not shrink:
                self.guarded([(action, [path])], "", go)
                return

            def typed(ok: bool | None) -> None:
                if ok:
                    self.guarded([(action, [path])], "", go)

            self.app.push_screen(
                typed_confirmation(
                    "Shrink the image",
                    f"Shrinking {path} from {human_bytes(current)} to {human_bytes(size)} deletes "
                    "everything past the new end. Shrink the filesystem inside first.",
                    "shrink",
                    "Shrink",
                ),
                typed,
            )

        self.app.push_screen(
            ImageFormScreen(
                f"Resize (now {human_bytes(current)})",
                [
                    Field("size", "New size", placeholder="20G or +5G"),
                    Field("shrink", "Shrink", "flag", False),
                ],
                build,
            ),
            chosen,
        )

    # ------------------------------------------------------------------ internal snapshots
    def action_snapshot_create(self) -> None:
        path, uri, fmt = self.path, self.run_uri, self.fmt

        def build(values: Values) -> str:
            name = str(values["name"])
            if not name.strip():
                raise ValueError("a name is needed")
            return name

        def chosen(name: str | None) -> None:
            if name is None:
                return
            self.guarded(
                [("snapshot-create", [path])],
                "",
                lambda _v: self.run(
                    "Snapshot",
                    lambda ctx: Q.snapshot(ctx, path, "create", name, uri=uri, fmt=fmt),
                ),
            )

        self.app.push_screen(
            ImageFormScreen("New internal snapshot", [Field("name", "Name")], build), chosen
        )

    def _selected_snapshot(self) -> str | None:
        name = self.query_one("#image-snapshots", SnapshotTable).current_name
        if name is None:
            self.status("no internal snapshot selected", error=True)
        return name

    def action_snapshot_apply(self) -> None:
        name = self._selected_snapshot()
        if name is None:
            return
        path, uri, fmt = self.path, self.run_uri, self.fmt
        self.guarded(
            [("snapshot-apply", [path])],
            f"Revert {path} to internal snapshot {name!r}? Every change since is lost.",
            lambda _v: self.run(
                "Apply snapshot", lambda ctx: Q.snapshot(ctx, path, "apply", name, uri=uri, fmt=fmt)
            ),
            button="Revert",
        )

    def action_snapshot_delete(self) -> None:
        name = self._selected_snapshot()
        if name is None:
            return
        path, uri, fmt = self.path, self.run_uri, self.fmt
        self.guarded(
            [("snapshot-delete", [path])],
            f"Delete internal snapshot {name!r} of {path}?",
            lambda _v: self.run(
                "Delete snapshot",
                lambda ctx: Q.snapshot(ctx, path, "delete", name, uri=uri, fmt=fmt),
            ),
            button="Delete",
        )

    # ------------------------------------------------------------------ commit / rebase
    def action_commit(self) -> None:
        if self.info is None or not self.info.top.backing:
            self.status("this image has no backing file: nothing to commit", error=True)
            return
        path, uri, fmt = self.path, self.run_uri, self.fmt
        backing = self.info.top.backing
        self.guarded(
            [("commit", [path, backing])],
            f"Write the changes of {path} into its backing file {backing}? Every other image "
            "built on that backing file sees them too.",
            lambda _v: self.run("Commit", lambda ctx: Q.commit(ctx, path, uri=uri, fmt=fmt)),
            button="Commit",
        )

    def action_rebase(self) -> None:
        path, uri, fmt = self.path, self.run_uri, self.fmt
        current = self.info.top.backing if self.info is not None else ""

        def build(values: Values) -> tuple[str, str, bool]:
            backing = str(values["backing"]).strip()
            bfmt = str(values["backing_fmt"])
            unsafe = bool(values["unsafe"])
            if backing:
                try:
                    Q.check_path(backing, "new backing file")
                except Q.ImageError as exc:
                    raise ValueError(str(exc)) from None
                if not bfmt:
                    raise ValueError("the new backing file needs its format")
            elif unsafe:
                raise ValueError("removing the backing file needs a safe rebase")
            return backing, bfmt, unsafe

        def chosen(result: tuple[str, str, bool] | None) -> None:
            if result is None:
                return
            backing, bfmt, unsafe = result
            mode = "only rewrites the header (-u)" if unsafe else "copies the differing data"
            target = backing or "no backing file (standalone)"
            self.guarded(
                [("rebase", [path])],
                f"Rebase {path} onto {target}? This {mode}.",
                lambda _v: self.run(
                    "Rebase",
                    lambda ctx: Q.rebase(ctx, path, backing, bfmt, uri=uri, unsafe=unsafe, fmt=fmt),
                ),
                button="Rebase",
            )

        self.app.push_screen(
            ImageFormScreen(
                "Rebase (qemu-img rebase)",
                [
                    Field("backing", "New backing", default=current, placeholder="empty: flatten"),
                    Field(
                        "backing_fmt",
                        "Its format",
                        "choice",
                        "qcow2",
                        [("-", ""), ("qcow2", "qcow2"), ("raw", "raw")],
                    ),
                    Field("unsafe", "Unsafe (-u)", "flag", False),
                ],
                build,
                hint="Safe mode compares the old and new chains; -u only renames the backing file.",
            ),
            chosen,
        )

    # ------------------------------------------------------------------ leaving
    def action_cancel_job(self) -> None:
        if self.job is None:
            self.notify("no action is running", markup=False)
            return
        self.job.cancel(wait=False)

    def action_back(self) -> None:
        self.app.pop_screen()


def open_image(app: App[Any], uri: str, path: str) -> ImageScreen:
    """Open the image screen for `path` on the host of `uri` ("" : this machine)."""
    screen = ImageScreen(uri, path)
    app.push_screen(screen)
    return screen


def default_uri(app: App[Any]) -> str:
    """The host an image path typed in the palette is on: the first local open connection."""
    svc = _services(app)
    if svc is None:
        return ""
    for uri, host in svc.hosts.items():
        if host.is_local and not uri.startswith("test:"):
            return uri
    return ""


def prompt_open_image(app: App[Any], uri: str | None = None) -> None:
    """Ask for a path, then open it (palette: "Image: open a path...")."""
    host = default_uri(app) if uri is None else uri

    def build(values: Values) -> str:
        path = str(values["path"]).strip()
        try:
            return Q.check_path(path, "path")
        except Q.ImageError as exc:
            raise ValueError(str(exc)) from None

    def chosen(path: str | None) -> None:
        if path:
            open_image(app, host, path)

    where = host or "this machine"
    app.push_screen(
        ImageFormScreen(
            "Open an image",
            [Field("path", "Path", placeholder="/var/lib/libvirt/images/disk.qcow2")],
            build,
            hint=f"An image file on {where}.",
            confirm_label="Open",
        ),
        chosen,
    )
