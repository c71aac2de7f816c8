"""Password hashing: argon2id (argon2-cffi's defaults, RFC 9106's second recommendation)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = ["Passwords"]


class Passwords:
    """Hash, verify and upgrade passwords. ``hasher`` lets tests use cheaper parameters."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        # Verified against when the e-mail is unknown, so that a miss takes as long as a hit.
        self._dummy = self._hasher.hash("tillit: no such user")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; ``stored_hash=None`` burns the same time and fails."""
        try:
            ok = self._hasher.verify(stored_hash or self._dummy, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return ok and stored_hash is not None

    def needs_rehash(self, stored_hash: str) -> bool:
        """True when the hash was made with weaker parameters than the current ones."""
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True
