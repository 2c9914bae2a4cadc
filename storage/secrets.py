"""OAuth bot tokens sealed at rest with ``KAIZEN_SECRET_KEY`` (Fernet: AES-128-CBC + HMAC).

A sealed token is stored as ``fernet:<token>``; without a key, or for rows written before one
was set, the token is stored as it came (``xoxb-…``) and still read. Several keys, comma
separated, let an operator rotate: the first seals, any of them opens.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet

logger = logging.getLogger(__name__)

PREFIX = "fernet:"


class TokenUnreadable(Exception):
    """A sealed token that no configured key opens (the key was changed or is missing)."""


class TokenSealer:
    def __init__(self, fernet: MultiFernet | None) -> None:
        self._fernet = fernet

    @classmethod
    def from_keys(cls, keys: str | None) -> TokenSealer:
        """``keys``: comma-separated Fernet keys, or None/empty for no sealing.

        Raises ValueError for a key that is not 32 url-safe base64-encoded bytes.
        """
        parts = [k.strip() for k in (keys or "").split(",") if k.strip()]
        if not parts:
            return cls(None)
        # Imported here: ~7 MB resident that a process without a key never needs.
        from cryptography.fernet import Fernet, MultiFernet

        try:
            return cls(MultiFernet([Fernet(k.encode()) for k in parts]))
        except (ValueError, TypeError):
            raise ValueError("must be Fernet keys (32 url-safe base64-encoded bytes)") from None

    @property
    def seals(self) -> bool:
        return self._fernet is not None

    def seal(self, token: str) -> str:
        if self._fernet is None or token.startswith(PREFIX):
            return token
        return PREFIX + self._fernet.encrypt(token.encode()).decode()

    def open(self, stored: str) -> str:
        if not stored.startswith(PREFIX):
            return stored  # stored before a key was set: still good
        if self._fernet is None:
            raise TokenUnreadable("a sealed token, and KAIZEN_SECRET_KEY is not set")
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet.decrypt(stored.removeprefix(PREFIX).encode()).decode()
        except InvalidToken:
            raise TokenUnreadable("a sealed token that KAIZEN_SECRET_KEY does not open") from None
