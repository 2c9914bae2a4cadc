"""No token reaches a log line, whoever logs it."""

from __future__ import annotations

import io
import logging

from bot.logs import configure_logging, redact


def test_redact_hides_every_kind_of_slack_token() -> None:
    line = "Authorization: Bearer xoxb-123-456-abcDEF and xapp-1-A1-2-ff and xoxp-9-9"
    assert redact(line) == (
        "Authorization: Bearer xoxb-[redacted] and xapp-[redacted] and xoxp-[redacted]"
    )


def test_library_debug_logs_are_redacted_with_extras_kept() -> None:
    stream = io.StringIO()
    configure_logging(logging.DEBUG, stream)
    try:
        logging.getLogger("slack_sdk.web.async_base_client").debug(
            "Sending a request - headers: %s", {"Authorization": "Bearer xoxb-1-2-secret"}
        )
        logging.getLogger("handlers.waste").info(
            "waste.logged", extra={"team": "T1", "token": "xoxb-9"}
        )
    finally:
        logging.getLogger().handlers.clear()
    output = stream.getvalue()
    assert "secret" not in output
    assert "xoxb-9" not in output
    assert "waste.logged team=T1" in output
