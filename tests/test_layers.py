"""Which package may import which: the fake Slack stays out of what runs in production."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = ("bot", "handlers", "storage", "jobs")
# The offline demo plays its story against the fake, by design.
MAY_IMPORT_THE_FAKE = ("bot/demo/",)


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def production_files() -> list[Path]:
    return sorted(p for package in PRODUCTION for p in (ROOT / package).rglob("*.py"))


def test_no_production_module_imports_the_fake_slack_except_the_demo() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in production_files()
        if not str(path.relative_to(ROOT)).startswith(MAY_IMPORT_THE_FAKE)
        and any(m == "fake_slack" or m.startswith("fake_slack.") for m in imported_modules(path))
    ]
    assert offenders == []


def test_the_fake_slack_imports_nothing_of_the_app() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "fake_slack").rglob("*.py"))
        if any(m.split(".")[0] in PRODUCTION for m in imported_modules(path))
    ]
    assert offenders == []


def test_the_use_case_layer_and_jobs_import_no_handler() -> None:
    inner = sorted((ROOT / "bot" / "usecases").rglob("*.py")) + sorted(
        (ROOT / "jobs").rglob("*.py")
    )
    offenders = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in inner
        for module in sorted(imported_modules(path))
        if module.split(".")[0] == "handlers"
        or (module.split(".")[0] == "jobs" and "usecases" in path.parts)
    ]
    assert offenders == []
