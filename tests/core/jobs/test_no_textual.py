"""core/jobs (and the core modules that now run as jobs) import without Textual."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys

class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "textual" or name.startswith("textual."):
            raise ImportError("textual is blocked in core")
        return None

sys.meta_path.insert(0, Block())
import virttui.core.jobs
import virttui.core.domain.actions
import virttui.core.domain.clone
import virttui.core.domain.migrate
import virttui.core.domain.action_result
assert not any(m == "textual" or m.startswith("textual.") for m in sys.modules)
print("ok")
"""


def test_core_jobs_never_import_textual() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
