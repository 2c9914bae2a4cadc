"""Logging set-up: stable event keys with ``key=value`` extras, and tokens never written.

slack_sdk logs request headers at DEBUG level, Authorization included; the redacting filter sits
on the handler so it sees every record, from our loggers and the libraries' alike.
"""

from __future__ import annotations

import logging
import re
import sys

TOKEN = re.compile(r"\b(xox[abposre]|xapp)-[A-Za-z0-9-]+")
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def redact(text: str) -> str:
    return TOKEN.sub(lambda m: f"{m.group(1)}-[redacted]", text)


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        extras = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        if extras:
            base += " " + " ".join(f"{k}={v}" for k, v in sorted(extras.items()))
        return redact(base)


def configure_logging(level: int, stream: object = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(KeyValueFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(RedactTokens())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
