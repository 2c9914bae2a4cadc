"""Running ``kaizen-bot`` as an operator does: a separate process, its output and exit status."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def operator_env(**values: str) -> dict[str, str]:
    """A clean environment: nothing from the test run's own settings leaks in."""
    return {"PATH": os.environ.get("PATH", ""), **values}


def kaizen_bot(
    *args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=env or operator_env(),
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def error_line(result: subprocess.CompletedProcess[str], *, status: int = 2) -> str:
    """The one ``kaizen-bot: …`` line a failed command ends with; no traceback before it."""
    assert result.returncode == status, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines, "no message at all"
    assert lines[-1].startswith("kaizen-bot: "), result.stderr
    return lines[-1]


def only_line(result: subprocess.CompletedProcess[str], *, status: int = 2) -> str:
    """Like ``error_line``, for a command that must print nothing else."""
    line = error_line(result, status=status)
    assert result.stderr.strip() == line, result.stderr
    return line
