"""Check a published board (issue 16; docs/sealed-box.md, "How to verify"): pure, no Flask,
no database. ``flask --app wsgi verify-poll`` builds the board from the database and calls
:func:`check_board`; ``python -m congress_vote.verify BOARD.json`` reads it from a file and
calls the same function.

The checks, each failure named by a code:

- ``format``: not a board of this format;
- ``inputs``: the inputs cannot be read or counted by the rules engine;
- ``digest``: the board's inputs (the canonical document of ``rules.digest.result_document``)
  do not give the board's digest;
- ``tally``: counting the opened ballot set with the rules engine does not give the published
  result (each differing figure named);
- ``trackers``: the number of trackers is not the number of tablet ballots counted (or a
  tracker is listed twice, or the board's list differs from the one the digest covers);
- ``fingerprint``: a member's printed fingerprint is not that of the key the board lists;
- ``bad_signature``: a signature does not verify over ``congress-vote/signoff/v1 ‖ poll id ‖
  digest`` with the key it names;
- ``unknown_key``: (with expected fingerprints) a member key or a signature's key is not among
  the fingerprints printed on the cards or minutes;
- ``missing_key``: (with expected fingerprints) an expected fingerprint is on no member key;
- ``signatures``: fewer valid signatures (by trusted keys) than the rules require.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..rules import RulesInputError, compare_with_payload, recount_from_payload
from .codes import fingerprint, normalise_fingerprint
from .signing import verify_signoff

BOARD_FORMAT = "congress-vote-board/1"


@dataclass(frozen=True)
class Finding:
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@dataclass
class Report:
    findings: list[Finding]
    digest: str | None = None
    checked_signatures: int = 0
    trusted_keys: bool = False

    @property
    def ok(self) -> bool:
        return not self.findings


def parse_keys(values: Iterable[str] | None) -> set[str] | None:
    """Fingerprints given on the command line (repeated, or separated by commas, semicolons
    or blanks), in the printed form; None when none are given."""
    out: set[str] = set()
    for value in values or ():
        for part in str(value).replace(";", ",").replace("\n", ",").split(","):
            for fp in part.split():
                out.add(normalise_fingerprint(fp))
    return out or None


def _hex(value: Any) -> bytes | None:
    try:
        return bytes.fromhex(str(value))
    except ValueError:
        return None


def _required(inputs: dict, members: int) -> int:
    need = str((inputs.get("settings") or {}).get("signoff_required") or "all")
    if need.isdigit():
        return max(1, int(need))
    return max(1, members)


def check_board(board: Any, keys: Iterable[str] | None = None) -> Report:
    """Every check of the module docstring; `keys` are the expected fingerprints (printed on
    the key cards and the minutes). Without them the signatures are checked against the
    board's own keys only, which a database writer could have replaced."""
    found: list[Finding] = []
    expected = parse_keys(keys)
    if not isinstance(board, dict) or board.get("format") != BOARD_FORMAT:
        return Report([Finding("format", f"not a {BOARD_FORMAT} document")])
    digest = str(board.get("digest") or "")
    inputs = board.get("inputs")
    poll_id = (board.get("poll") or {}).get("id")
    report = Report(found, digest=digest, trusted_keys=expected is not None)
    if not isinstance(inputs, dict) or not isinstance(poll_id, int):
        found.append(Finding("format", "the board has no inputs or no poll id"))
        return report

    # the digest, and the tally of the opened set
    try:
        recount = recount_from_payload(inputs)
    except (RulesInputError, ValueError, TypeError, KeyError) as err:
        found.append(Finding("inputs", f"the inputs cannot be counted: {err}"))
        recount = None
    if recount is not None:
        if recount.digest != digest:
            found.append(
                Finding("digest", f"the inputs give digest {recount.digest}, the board {digest}")
            )
        published = board.get("result")
        if not isinstance(published, dict):
            found.append(Finding("tally", "the board has no published result"))
        else:
            lines = compare_with_payload({"digest": recount.digest, "result": published}, recount)
            for line in lines:
                if not line.startswith("result.digest"):
                    found.append(Finding("tally", line))
            if published.get("digest") not in (None, digest):
                found.append(
                    Finding("tally", f"the published result names digest {published['digest']}")
                )

    # the trackers
    seal = (inputs.get("digest_inputs") or {}).get("seal")
    if seal is not None:
        trackers = list(seal.get("trackers") or [])
        tablet = sum(
            1
            for b in inputs.get("ballots") or []
            if isinstance(b, dict) and b.get("source") == "tablet"
        )
        if len(trackers) != tablet:
            found.append(
                Finding("trackers", f"{len(trackers)} trackers, {tablet} tablet ballots counted")
            )
        if len(set(trackers)) != len(trackers):
            found.append(Finding("trackers", "a tracker is listed more than once"))
        if "trackers" in board and sorted(board["trackers"] or []) != sorted(trackers):
            found.append(
                Finding("trackers", "the board's trackers are not those the digest covers")
            )

    # the members' keys and their fingerprints
    members = [m for m in board.get("members") or [] if isinstance(m, dict)]
    listed: set[str] = set()
    for m in members:
        who = m.get("full_name") or f"user {m.get('user_id')}"
        for kind in ("opening", "signing"):
            raw = _hex(m.get(f"{kind}_public"))
            if raw is None:
                continue
            fp = fingerprint(raw)
            listed.add(fp)
            printed = m.get(f"{kind}_fingerprint")
            if printed is not None and normalise_fingerprint(str(printed)) != fp:
                found.append(
                    Finding("fingerprint", f"{who}: {kind} key has fingerprint {fp}, not {printed}")
                )
            if expected is not None and fp not in expected:
                found.append(
                    Finding("unknown_key", f"{who}: {kind} key {fp} is not among the given keys")
                )
    if expected is not None:
        for fp in sorted(expected - listed):
            found.append(Finding("missing_key", f"no member key on the board has fingerprint {fp}"))

    # the signatures
    valid: set[str] = set()
    for s in board.get("signatures") or []:
        if not isinstance(s, dict):
            continue
        who = s.get("full_name") or f"user {s.get('user_id')}"
        key, sig = _hex(s.get("signing_public")), _hex(s.get("signature"))
        report.checked_signatures += 1
        if key is None or sig is None or not verify_signoff(key, poll_id, digest, sig):
            found.append(Finding("bad_signature", f"{who}: the signature does not verify"))
            continue
        fp = fingerprint(key)
        if expected is not None and fp not in expected:
            found.append(
                Finding("unknown_key", f"{who}: signed with key {fp}, not among the given keys")
            )
            continue
        valid.add(fp)
    need = _required(inputs, len(members))
    if len(valid) < need:
        found.append(
            Finding("signatures", f"{len(valid)} valid signatures by trusted keys, {need} needed")
        )
    return report
