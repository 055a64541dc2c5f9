"""Per-pupil keys wrapped by a key-encryption key that is not in the database.

A pupil's key opens the sealed free text of the pupil's events; stored as it is, a database dump
would open all free text. So `pupil_keys.key` holds the key wrapped (AES-256-GCM, the pupil id as
associated data so a wrapped key cannot be moved to another pupil) by a key-encryption key (KEK)
from a file that lives outside the database (a secret in production: ADVIESTRAJECT_KEY_FILE).

The file holds one KEK per line, `id:base64`; the first line wraps new keys, every line can
unwrap. Rotation: put a new line first, run `adviestraject keys rewrap` (every pupil key is
unwrapped with the KEK it names and wrapped with the new one), then remove the old line. A key
stored before wrapping existed (32 raw bytes) is still read, and `rewrap` wraps it.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_MAGIC = b"KW1"
_RAW_KEY_LENGTH = 32


class KeyFileError(ValueError):
    """The key-encryption key file is missing, unreadable or malformed."""


class KeyRing:
    def __init__(self, keks: list[tuple[str, bytes]]) -> None:
        if not keks:
            raise KeyFileError("a key ring needs at least one key-encryption key")
        for kid, kek in keks:
            if not kid or len(kid.encode()) > 255 or len(kek) != 32:
                raise KeyFileError(f"key-encryption key {kid!r} must be 32 bytes with a short id")
        self.current_id = keks[0][0]
        self._keks = dict(keks)

    @classmethod
    def generate(cls, kid: str = "k1") -> KeyRing:
        return cls([(kid, AESGCM.generate_key(bit_length=256))])

    @classmethod
    def from_file(cls, path: Path, *, create: bool = False) -> KeyRing:
        """Read the ring; with `create`, make a new file (mode 0600) when there is none."""
        if not path.exists():
            if not create:
                raise KeyFileError(f"no key-encryption key file at {path}")
            path.parent.mkdir(parents=True, exist_ok=True)
            ring = cls.generate()
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as file:
                file.write(ring.to_text())
            return ring
        keks: list[tuple[str, bytes]] = []
        for number, text in enumerate(path.read_text().splitlines(), start=1):
            line = text.strip()
            if not line or line.startswith("#"):
                continue
            kid, sep, encoded = line.partition(":")
            if not sep:
                raise KeyFileError(f"{path}, line {number}: expected id:base64")
            try:
                keks.append((kid.strip(), base64.b64decode(encoded.strip(), validate=True)))
            except ValueError as error:
                raise KeyFileError(f"{path}, line {number}: not base64") from error
        return cls(keks)

    def to_text(self) -> str:
        return "".join(f"{k}:{base64.b64encode(v).decode()}\n" for k, v in self._keks.items())

    def wrap(self, pupil_id: str, key: bytes) -> bytes:
        kid = self.current_id.encode()
        nonce = os.urandom(12)
        box = AESGCM(self._keks[self.current_id]).encrypt(nonce, key, pupil_id.encode())
        return _MAGIC + bytes([len(kid)]) + kid + nonce + box

    def unwrap(self, pupil_id: str, stored: bytes) -> bytes:
        if not stored.startswith(_MAGIC):
            if len(stored) == _RAW_KEY_LENGTH:  # stored before keys were wrapped
                return stored
            raise KeyFileError("a pupil key in the database is neither wrapped nor raw")
        size = stored[len(_MAGIC)]
        start = len(_MAGIC) + 1
        kid = stored[start : start + size].decode()
        kek = self._keks.get(kid)
        if kek is None:
            raise KeyFileError(f"pupil keys are wrapped with key-encryption key {kid!r}, not here")
        rest = stored[start + size :]
        return AESGCM(kek).decrypt(rest[:12], rest[12:], pupil_id.encode())

    def is_current(self, stored: bytes) -> bool:
        kid = self.current_id.encode()
        return stored.startswith(_MAGIC + bytes([len(kid)]) + kid)
