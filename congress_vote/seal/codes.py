"""Key-card codes (issue 16): pure functions, no Flask and no database.

A counting committee member's key card holds two secrets, both expanded with HKDF-SHA256 from
one fresh 256-bit random seed (never from ``SECRET_KEY``; the seed itself is printed nowhere):

- the **opening code**: a 32-byte X25519 private key (libsodium's sealed boxes, through PyNaCl),
  to which the shares of sealed ballot boxes are encrypted; presented at the count;
- the **signing code**: a 32-byte Ed25519 seed, with which the member signs a result digest in
  their own session.

Text form (docs/sealed-box.md, "Key card format"). A code is 55 characters of the alphabet of
``congress_vote.codes`` (no 0/O, no 1/I): a kind character (``M`` opening — *mở*, ``K``
signing — *ký*), a format version character (``A`` = version 1), 52 data characters (the 32
key bytes as a big-endian base-32 number; the first data character is 2 or 3 since the value is
below 2**256) and one Luhn mod 32 check character over all 54 before it, which catches every
single mistyped character and almost every swap of neighbours. Printed in groups:
``MA-3XQK-…-P``; typed input ignores case, spaces and dashes. The QR holds ``CV1:O:<code>`` or
``CV1:S:<code>`` (as a delegate card holds ``CV1:C:<code>``); parsing takes either form.

A **fingerprint** is the first 100 bits of SHA-256 of a public key, written as 20 characters
of the same alphabet in 5 groups of 4.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import nacl.public
import nacl.signing
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..codes import ALPHABET, check_char

SEED_BYTES = 32
KEY_BYTES = 32
DATA_CHARS = 52  # ceil(256 / 5)
VERSION = "A"  # format version 1
OPENING = "M"  # kind character of an opening code (mở)
SIGNING = "K"  # kind character of a signing code (ký)
CODE_CHARS = 2 + DATA_CHARS + 1
QR_PREFIX = {OPENING: "CV1:O:", SIGNING: "CV1:S:"}
FINGERPRINT_CHARS = 20  # 100 bits
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
_HKDF_INFO = {
    OPENING: b"congress-vote/key-card/v1/opening",
    SIGNING: b"congress-vote/key-card/v1/signing",
}


class BadKeyCode(ValueError):
    """A key code that cannot be read. `reason` is one of ``empty``, ``wrong_kind`` (a signing
    code where an opening code is wanted, or the reverse), ``unknown_version``, ``wrong_length``,
    ``bad_character``, ``typo`` (the check character does not match: a character mistyped) or
    ``out_of_range``."""

    def __init__(self, reason: str, message: str | None = None) -> None:
        super().__init__(message or reason)
        self.reason = reason


@dataclass(frozen=True)
class CardSecrets:
    """The secrets of one key card: they exist only on the printed card."""

    opening_code: str  # normalised, 55 characters
    signing_code: str
    opening_key: nacl.public.PrivateKey
    signing_key: nacl.signing.SigningKey

    @property
    def opening_public(self) -> bytes:
        return bytes(self.opening_key.public_key)

    @property
    def signing_public(self) -> bytes:
        return bytes(self.signing_key.verify_key)

    @property
    def opening_qr(self) -> str:
        return QR_PREFIX[OPENING] + self.opening_code

    @property
    def signing_qr(self) -> str:
        return QR_PREFIX[SIGNING] + self.signing_code


def _expand(seed: bytes, kind: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=_HKDF_INFO[kind]
    ).derive(seed)


def _encode(kind: str, key: bytes) -> str:
    value = int.from_bytes(key, "big")
    chars = []
    for _ in range(DATA_CHARS):
        value, r = divmod(value, len(ALPHABET))
        chars.append(ALPHABET[r])
    body = kind + VERSION + "".join(reversed(chars))
    return body + check_char(body)


def new_card(seed: bytes | None = None) -> CardSecrets:
    """A fresh key card from 256 random bits (`seed` only for tests and known-answer checks)."""
    if seed is None:
        seed = os.urandom(SEED_BYTES)
    if len(seed) != SEED_BYTES:
        raise ValueError("a key card seed is 32 bytes")
    opening = _expand(seed, OPENING)
    signing = _expand(seed, SIGNING)
    return CardSecrets(
        opening_code=_encode(OPENING, opening),
        signing_code=_encode(SIGNING, signing),
        opening_key=nacl.public.PrivateKey(opening),
        signing_key=nacl.signing.SigningKey(signing),
    )


def _decode(text: str | None, kind: str) -> bytes:
    """The 32 key bytes of a code of `kind`, from the QR text or the typed code."""
    s = "".join((text or "").split()).replace("-", "").upper()
    if not s:
        raise BadKeyCode("empty")
    for k, prefix in QR_PREFIX.items():
        if s.startswith(prefix):
            if k != kind:
                raise BadKeyCode("wrong_kind")
            s = s[len(prefix) :]
            break
    else:
        if s.startswith("CV"):
            raise BadKeyCode("unknown_version")
    if s[:1] in (OPENING, SIGNING) and s[0] != kind:
        raise BadKeyCode("wrong_kind")
    if s[:1] != kind:
        raise BadKeyCode("bad_character")
    if len(s) >= 2 and s[1] != VERSION:
        raise BadKeyCode("unknown_version")
    if any(c not in _INDEX for c in s):
        raise BadKeyCode("bad_character")
    if len(s) != CODE_CHARS:
        raise BadKeyCode("wrong_length")
    if check_char(s[:-1]) != s[-1]:
        raise BadKeyCode("typo")
    value = 0
    for c in s[2:-1]:
        value = value * len(ALPHABET) + _INDEX[c]
    if value >= 1 << (8 * KEY_BYTES):
        raise BadKeyCode("out_of_range")
    return value.to_bytes(KEY_BYTES, "big")


def parse_opening_code(text: str | None) -> nacl.public.PrivateKey:
    """The X25519 private key of an opening code (QR text or typed); BadKeyCode if unreadable."""
    return nacl.public.PrivateKey(_decode(text, OPENING))


def parse_signing_code(text: str | None) -> nacl.signing.SigningKey:
    """The Ed25519 signing key of a signing code (QR text or typed); BadKeyCode if unreadable."""
    return nacl.signing.SigningKey(_decode(text, SIGNING))


def format_key_code(code: str) -> str:
    """A normalised code for printing: the two header characters, 13 groups of 4, the check
    character (``MA-3XQK-…-P``)."""
    data = code[2:-1]
    return "-".join([code[:2], *(data[i : i + 4] for i in range(0, len(data), 4)), code[-1]])


def fingerprint(public_key_bytes: bytes) -> str:
    """100 bits of SHA-256 of a public key: 20 characters in 5 groups of 4 (``ABCD-EFGH-…``)."""
    value = int.from_bytes(hashlib.sha256(bytes(public_key_bytes)).digest()[:13], "big") >> 4
    chars = []
    for _ in range(FINGERPRINT_CHARS):
        value, r = divmod(value, len(ALPHABET))
        chars.append(ALPHABET[r])
    s = "".join(reversed(chars))
    return "-".join(s[i : i + 4] for i in range(0, FINGERPRINT_CHARS, 4))


def normalise_fingerprint(text: str) -> str:
    """A typed fingerprint in the printed form (case, spaces and dashes do not matter)."""
    s = "".join(text.split()).replace("-", "").upper()
    return "-".join(s[i : i + 4] for i in range(0, len(s), 4))
