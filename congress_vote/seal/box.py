"""The sealed ballot box: pure functions over libsodium (PyNaCl) and pycryptodome's Shamir.

- A box key is an X25519 key pair. Its private half is derived (HKDF-SHA256) from a fresh
  128-bit secret, and that secret is split ``threshold``-of-``n`` with Shamir's scheme
  (``Crypto.Protocol.SecretSharing.Shamir`` splits 16 bytes); each share is encrypted to one
  member's key card (a libsodium sealed box to the card's opening public key). The secret, the
  private key and the plain shares exist only in memory, while :func:`new_box` runs.
- A ballot is sealed to the box's public key (a libsodium sealed box: an ephemeral X25519 key,
  XSalsa20-Poly1305), after padding its canonical JSON with spaces to a multiple of
  :data:`PAD` bytes, so the ciphertext's length does not tell how many names were kept.
- A tracker is SHA-256 of the ciphertext, its first 80 bits shown as 16 characters of the
  ballot-code alphabet in four groups (``XXXX-XXXX-XXXX-XXXX``).
- :func:`open_box` decrypts the shares with the members' opening keys, recombines the secret
  and checks that it gives the box's public key; :func:`unseal` opens one ballot.

No primitive is written here: only libsodium, SHA-256, HKDF and Shamir from the libraries.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterable, Sequence

from Crypto.Hash import SHA256
from Crypto.Protocol.KDF import HKDF
from Crypto.Protocol.SecretSharing import Shamir
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

from .. import codes

SECRET_BYTES = 16  # what pycryptodome's Shamir splits
PAD = 2048  # a sealed ballot's plain text is padded to a multiple of this
_HKDF_CONTEXT = b"congress-vote/box/v1"
TRACKER_CHARS = 16  # 80 bits
# base32 (RFC 4648) letters -> the ballot-code alphabet (no 0, 1, I, O)
_TO_CODE = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", codes.ALPHABET.encode())


class BoxError(ValueError):
    """The box cannot be opened: too few shares, a share not for this key, or a wrong result.
    ``code`` names the reason (``too_few``, ``wrong_key``, ``wrong_box``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _private_from_secret(secret: bytes) -> PrivateKey:
    seed = HKDF(secret, 32, b"", SHA256, context=_HKDF_CONTEXT)
    assert isinstance(seed, bytes)
    return PrivateKey(seed)


def default_threshold(members: int) -> int:
    """A strict majority of the committee: ⌊n/2⌋ + 1."""
    return members // 2 + 1


def new_box(
    member_publics: Sequence[tuple[int, bytes]], threshold: int
) -> tuple[bytes, list[tuple[int, bytes]]]:
    """A fresh box for members ``[(key_card_id, opening public key)]``: (box public key,
    ``[(key_card_id, encrypted share)]``). Any ``threshold`` of the shares open it."""
    n = len(member_publics)
    if n < 1 or not 1 <= threshold <= n:
        raise ValueError(f"threshold {threshold} of {n} members")
    secret = secrets.token_bytes(SECRET_BYTES)
    box_public = bytes(_private_from_secret(secret).public_key)
    if threshold == 1:  # Shamir needs k >= 2: every member's share is the secret itself
        parts = [(i + 1, secret) for i in range(n)]
    else:
        parts = Shamir.split(threshold, n, secret, ssss=False)
    shares = [
        (card_id, SealedBox(PublicKey(pub)).encrypt(bytes([idx]) + share))
        for (card_id, pub), (idx, share) in zip(member_publics, parts, strict=True)
    ]
    del secret, parts
    return box_public, shares


def open_box(
    shares: Iterable[tuple[bytes, PrivateKey]], threshold: int, box_public: bytes
) -> PrivateKey:
    """The box's private key from ``[(encrypted share, the member's opening private key)]``.
    Raises :class:`BoxError` with fewer than ``threshold`` distinct shares, a share that the
    given key does not open, or shares that do not give ``box_public``."""
    plain: dict[int, bytes] = {}
    for encrypted, key in shares:
        try:
            data = SealedBox(key).decrypt(encrypted)
        except CryptoError as err:
            raise BoxError("wrong_key", "a share does not open with this key") from err
        if len(data) != SECRET_BYTES + 1 or data[0] == 0:
            raise BoxError("wrong_box", "a share of the wrong form")
        plain[data[0]] = data[1:]
    if len(plain) < threshold:
        raise BoxError("too_few", f"{len(plain)} of the {threshold} shares needed")
    if threshold == 1:
        secret = next(iter(plain.values()))
    else:
        chosen = sorted(plain.items())[:threshold]
        secret = Shamir.combine(chosen, ssss=False)
    key = _private_from_secret(secret)
    del secret, plain
    if bytes(key.public_key) != box_public:
        raise BoxError("wrong_box", "the shares do not open this box")
    return key


def pad(plaintext: bytes) -> bytes:
    """Spaces up to a multiple of :data:`PAD` (JSON ignores trailing white space)."""
    return plaintext + b" " * (-len(plaintext) % PAD)


def seal_ballot(box_public: bytes, plaintext: bytes) -> bytes:
    """The ballot's plain text (canonical JSON), padded and sealed to the box's public key."""
    return SealedBox(PublicKey(box_public)).encrypt(pad(plaintext))


def unseal(key: PrivateKey | SealedBox, ciphertext: bytes) -> bytes:
    """The plain text of a sealed ballot (padding removed). Raises nacl's CryptoError when it
    was not sealed to this box. Pass a SealedBox built once when opening many."""
    box = key if isinstance(key, SealedBox) else SealedBox(key)
    return box.decrypt(ciphertext).rstrip(b" ")


def tracker(ciphertext: bytes) -> str:
    """SHA-256 of the sealed ballot, first 80 bits in the code alphabet: XXXX-XXXX-XXXX-XXXX."""
    s = base64.b32encode(hashlib.sha256(ciphertext).digest()[:10]).translate(_TO_CODE).decode()
    return f"{s[:4]}-{s[4:8]}-{s[8:12]}-{s[12:]}"
