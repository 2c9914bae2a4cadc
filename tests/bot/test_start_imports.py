"""What ``kaizen-bot run`` loads before its first request: not the chart libraries.

matplotlib (with numpy and Pillow) adds ~43 MB resident; it is loaded when the first chart is
drawn, not at start. Each check runs in a fresh interpreter, since this test process has long
imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("matplotlib", "numpy", "PIL", "cryptography")

# The run path: the entry point, what ``_run`` imports, every handler, use case, job and query
# module, then the app and its web server built as ``kaizen-bot run`` builds them.
START = """
import importlib, json, pkgutil, sys
import bot.__main__
for package in ("handlers", "bot.usecases", "jobs", "storage"):
    module = importlib.import_module(package)
    for info in pkgutil.walk_packages(module.__path__, package + "."):
        if ".migrations" not in info.name:
            importlib.import_module(info.name)
from bot.app import build_app
from bot.deps import Deps
from bot.server import build_web_app
from storage.db import Database
from tests.support.harness import test_settings
settings = test_settings("http://127.0.0.1:9/api/", "sqlite+aiosqlite:///:memory:")
deps = Deps(settings=settings, db=Database(settings.database_url))
build_web_app(build_app(deps), deps)
"""

FIRST_CHART = """
from datetime import UTC, datetime
from bot.domain.digest import DigestData, build_digest
from bot.usecases.digests import render_digest_chart
end = datetime(2026, 11, 16, 9, tzinfo=UTC)
png = render_digest_chart(build_digest(DigestData("C1", end, end, categories=[])), "Waste")
assert png.startswith(b"\\x89PNG")
"""


def loaded_after(code: str) -> list[str]:
    script = code + textwrap.dedent(
        f"""
        print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", "import json, sys\n" + script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    loaded: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


def test_starting_the_app_loads_no_chart_library_and_no_cryptography_without_a_key() -> None:
    assert loaded_after(START) == []


def test_the_first_chart_loads_the_chart_libraries() -> None:
    # The check above sees them when they are there.
    assert {"matplotlib", "numpy"} <= set(loaded_after(START + FIRST_CHART))
