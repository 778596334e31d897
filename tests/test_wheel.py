"""An installed wheel carries its styles and the demo host, and finds them."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_ships_styles_and_demo_and_finds_them(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
        check=True,
        timeout=600,
    )
    wheel = next(dist.glob("virttui-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    tcss = sorted(
        Path(n).name for n in names if n.startswith("virttui/styles/") and n.endswith(".tcss")
    )
    assert tcss == sorted(p.name for p in (ROOT / "styles").glob("*.tcss"))
    assert "virttui/demo/demo-node.xml" in names

    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        timeout=600,
    )
    code = (
        "import virttui, virttui.resources as r, virttui.demo as d\n"
        "print(virttui.__file__)\nprint(r.styles_dir())\nprint(d.demo_node_path())\n"
        "from virttui.app import VirtTUIApp\nprint(len(VirtTUIApp.CSS_PATH))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(target))
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    module, styles, demo, n_css = out.stdout.split()
    for path in (module, styles, demo):
        assert path.startswith(str(target)), path
    assert int(n_css) == len(tcss)
