"""The sign-off message and its Ed25519 signature (issue 16; docs/sealed-box.md, "The signature").

Pure: no Flask, no database. A committee member signs, with the signing key of their key card,

    message = b"congress-vote/signoff/v1"        (24 ASCII bytes)
              ‖ poll id                          (8 bytes, unsigned big-endian)
              ‖ digest                           (the 32 bytes of the SHA-256 result digest,
                                                  i.e. its 64 hex characters decoded)

64 bytes in all, every part of fixed length, so no two (poll, digest) pairs give the same
message. The signature is Ed25519's 64 bytes (written in hex on the board and the minutes).
"""

from __future__ import annotations

import nacl.exceptions
import nacl.signing

SIGNOFF_CONTEXT = b"congress-vote/signoff/v1"


def signoff_message(poll_id: int, digest: str) -> bytes:
    """The exact bytes a member signs for `digest` (64 hex characters) of poll `poll_id`."""
    raw = bytes.fromhex(digest)
    if len(raw) != 32:
        raise ValueError("a result digest is 32 bytes (64 hex characters)")
    if not 0 <= poll_id < 1 << 64:
        raise ValueError("a poll id is an unsigned 64-bit number")
    return SIGNOFF_CONTEXT + poll_id.to_bytes(8, "big") + raw


def sign_signoff(signing_key: nacl.signing.SigningKey, poll_id: int, digest: str) -> bytes:
    """The 64-byte Ed25519 signature of the sign-off message."""
    return signing_key.sign(signoff_message(poll_id, digest)).signature


def verify_signoff(signing_public: bytes, poll_id: int, digest: str, signature: bytes) -> bool:
    """Whether `signature` is the holder of `signing_public`'s signature on (poll, digest)."""
    try:
        nacl.signing.VerifyKey(bytes(signing_public)).verify(
            signoff_message(poll_id, digest), bytes(signature)
        )
    except (nacl.exceptions.CryptoError, ValueError, TypeError):
        return False
    return True
