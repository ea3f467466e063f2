"""Why a secret is too weak to run outside development (`Settings` refuses it, naming the variable).

The published development secrets are refused by value in runtime/settings.py; these rules catch
the weak ones an operator might type instead:

- HMAC keys (`SUPPLYBRIDGE_JWT_SECRET`, `SUPPLYBRIDGE_WEBHOOK_SECRET`): at least 32 bytes, the
  size of the SHA-256 output (RFC 7518 §3.2 asks no less of an HS256 key), and not a few
  characters repeated (fewer than 8 distinct ones).
- The payload encryption key (`SUPPLYBRIDGE_PAYLOAD_ENCRYPTION_KEY`): the base64 of 32 random
  bytes. All zeros, a repeated byte or a short pattern (fewer than 16 distinct byte values: a
  random key has about 30, and fewer than 16 happens by chance with a probability below 1e-15),
  or a typed passphrase (every byte printable ASCII: (95/256)^32, about 2e-14, by chance) is
  refused. Generate one with `python -c "import os, base64; print(base64.b64encode(os.urandom(32)).decode())"`.
"""

from __future__ import annotations

import base64
import binascii

MIN_HMAC_KEY_BYTES = 32
_MIN_DISTINCT_CHARACTERS = 8
_MIN_DISTINCT_KEY_BYTES = 16
_PRINTABLE = frozenset(range(0x20, 0x7F))


def hmac_key_weakness(value: str) -> str | None:
    """Why `value` is too weak as an HMAC-SHA256 key, or None."""
    size = len(value.encode())
    if size < MIN_HMAC_KEY_BYTES:
        return f"it is {size} bytes; at least {MIN_HMAC_KEY_BYTES} are needed"
    if len(set(value)) < _MIN_DISTINCT_CHARACTERS:
        return f"it repeats fewer than {_MIN_DISTINCT_CHARACTERS} distinct characters"
    return None


def payload_key_weakness(value: str) -> str | None:
    """Why `value` (base64) is not a usable AES-256 key, or None."""
    try:
        key = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return "it is not base64"
    if len(key) != 32:
        return f"it decodes to {len(key)} bytes; AES-256 needs 32"
    if not any(key):
        return "it is all zeros"
    if len(set(key)) < _MIN_DISTINCT_KEY_BYTES:
        return f"it has {len(set(key))} distinct byte values (a repeated pattern, not random bytes)"
    if set(key) <= _PRINTABLE:
        return "it is printable text (a passphrase), not random bytes"
    return None
