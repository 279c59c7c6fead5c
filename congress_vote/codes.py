"""Human-typable secret codes (ballot tokens, delegate card codes) with a check character.

A code is 16 characters from a 32-letter alphabet without look-alikes (no 0/O, no 1/I) — 80
random bits — followed by one Luhn mod 32 check character, which catches every single mistyped
character and almost every swap of two neighbours. Printed in groups of four:
`K7QM-2XHD-9RBT-W4NC-P`. Typed input is forgiving: case, spaces and dashes do not matter.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
N = len(ALPHABET)  # 32
DATA_LEN = 16  # 16 x 5 bits = 80 bits
CODE_LEN = DATA_LEN + 1


def check_char(data: str) -> str:
    """Luhn mod N check character of `data` (characters of ALPHABET)."""
    factor = 2
    total = 0
    for ch in reversed(data):
        addend = factor * _INDEX[ch]
        factor = 1 if factor == 2 else 2
        total += addend // N + addend % N
    return ALPHABET[(N - total % N) % N]


def _from_bytes(raw: bytes) -> str:
    value = int.from_bytes(raw[:10], "big")  # 80 bits
    chars = []
    for _ in range(DATA_LEN):
        value, r = divmod(value, N)
        chars.append(ALPHABET[r])
    return "".join(reversed(chars))


def new_code() -> str:
    """A fresh random code (normalised form, 17 characters, no dashes)."""
    data = _from_bytes(secrets.token_bytes(10))
    return data + check_char(data)


def derived_code(key: str | bytes, message: str) -> str:
    """A code derived with HMAC-SHA256 (e.g. a card code from SECRET_KEY and a nonce)."""
    if isinstance(key, str):
        key = key.encode()
    data = _from_bytes(hmac.new(key, message.encode(), hashlib.sha256).digest())
    return data + check_char(data)


def normalise(text: str | None) -> str | None:
    """The canonical 17-character form of typed or scanned text, or None if it is not a valid
    code (wrong length, a character outside the alphabet, or a failed check character)."""
    if not text:
        return None
    s = "".join(text.split()).replace("-", "").upper()
    if len(s) != CODE_LEN or any(c not in _INDEX for c in s):
        return None
    if check_char(s[:DATA_LEN]) != s[DATA_LEN]:
        return None
    return s


def format_code(code: str) -> str:
    """`K7QM2XHD9RBTW4NCP` -> `K7QM-2XHD-9RBT-W4NC-P` (for printing)."""
    return "-".join([code[i : i + 4] for i in range(0, DATA_LEN, 4)] + [code[DATA_LEN:]])


def code_hash(code: str) -> str:
    """SHA-256 of the normalised code: the only form the database keeps."""
    return hashlib.sha256(code.encode()).hexdigest()
