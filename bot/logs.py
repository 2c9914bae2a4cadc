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


class DropMessages(logging.Filter):
    """Leave out records whose message starts with one of ``prefixes`` (noise at every start)."""

    def __init__(self, *prefixes: str) -> None:
        super().__init__()
        self.prefixes = prefixes

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.prefixes)


# Bolt reads SLACK_BOT_TOKEN from the environment by itself and warns that the client the app
# hands it wins; that is how the app is meant to be built, so the warning says nothing.
_BOLT_NOISE = "As you gave `client` as well, `token` will be unused."


def configure_logging(level: int, stream: object = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(KeyValueFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(RedactTokens())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Alembic announces each of its plugins ("setup plugin …") whenever migrations run.
    logging.getLogger("alembic.runtime.plugins").setLevel(max(level, logging.WARNING))
    # APScheduler narrates every job it adds and runs; the jobs log their own results.
    logging.getLogger("apscheduler").setLevel(max(level, logging.WARNING))
    _drop(logging.getLogger("slack_bolt.AsyncApp"), _BOLT_NOISE)
    # Kept: "Running upgrade a -> b", which says what changed.
    _drop(logging.getLogger("alembic.runtime.migration"), "Context impl", "Will assume")


def _drop(logger: logging.Logger, *prefixes: str) -> None:
    logger.filters = [f for f in logger.filters if not isinstance(f, DropMessages)]
    logger.addFilter(DropMessages(*prefixes))
