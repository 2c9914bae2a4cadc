"""Request signing exactly as Slack signs what it sends to an app.

Slack puts ``X-Slack-Request-Timestamp`` and ``X-Slack-Signature`` on every request; the
signature is ``v0=`` followed by the hex HMAC-SHA256 of ``v0:{timestamp}:{raw body}`` keyed
with the app's signing secret. Bolt refuses a request whose signature does not match or whose
timestamp is more than five minutes away from its clock.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "sign", "signature"]

TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
SIGNATURE_HEADER = "X-Slack-Signature"


def signature(body: bytes | str, *, secret: str, timestamp: int) -> str:
    """The ``v0=...`` signature Slack computes for ``body`` sent at ``timestamp``."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    base = b"v0:" + str(timestamp).encode("ascii") + b":" + raw
    digest = hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()
    return f"v0={digest}"


def sign(body: bytes | str, *, secret: str, timestamp: int) -> dict[str, str]:
    """The two signing headers Slack adds to a request carrying ``body``."""
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(body, secret=secret, timestamp=timestamp),
    }
