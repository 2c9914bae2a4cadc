"""The Slack edge stays thin: short functions, and no feature module importing another."""

from __future__ import annotations

import ast
from pathlib import Path

HANDLERS = Path(__file__).resolve().parents[2] / "handlers"
MAX_LINES = 30


def _functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def _is_feature(tree: ast.Module) -> bool:
    """A feature module registers listeners: it defines ``register(app)``."""
    return any(isinstance(n, ast.FunctionDef) and n.name == "register" for n in tree.body)


def _modules() -> dict[str, ast.Module]:
    return {
        path.stem: ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for path in sorted(HANDLERS.glob("*.py"))
    }


def test_no_function_under_handlers_is_longer_than_thirty_lines() -> None:
    too_long = [
        f"handlers/{name}.py:{fn.lineno} {fn.name} ({fn.end_lineno - fn.lineno + 1} lines)"
        for name, tree in _modules().items()
        for fn in _functions(tree)
        if fn.end_lineno is not None and fn.end_lineno - fn.lineno + 1 > MAX_LINES
    ]
    assert too_long == []


def test_no_feature_module_imports_another() -> None:
    modules = _modules()
    features = {name for name, tree in modules.items() if _is_feature(tree)}
    crossing = []
    for name in sorted(features):
        for node in ast.walk(modules[name]):
            imported: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module == "handlers":
                imported = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("handlers."):
                imported = [(node.module or "").split(".")[1]]
            elif isinstance(node, ast.Import):
                imported = [
                    a.name.split(".")[1] for a in node.names if a.name.startswith("handlers.")
                ]
            crossing += [
                f"handlers/{name}.py imports handlers.{m}" for m in imported if m in features
            ]
    assert crossing == []
