"""The election rules engine: pure Python, no Flask, no database.

It takes plain data (a :class:`PollSpec`, an :class:`Attendance`, the returned
:class:`Ballot` s or a :class:`HandCount`, and :class:`Settings`) and returns a
:class:`Result`: who is elected, what passed, the reconciliation checks and a digest. The rules
are those of ``docs/rules.md`` (Party election regulation QĐ 190-QĐ/TW, with presets for
state-election and Robert's Rules practice).

Choices made where the sources are silent (docs/rules.md, "Choices where the sources are
silent"):

* **Ballots voting for nobody.** An election ballot voting for nobody or a resolution ballot
  answering nothing is *blank*. With ``all_struck_valid`` False (vn-party, QĐ 244-QĐ/TW art. 17;
  majority-of-valid) a ballot striking every name on a list with a surplus is invalid (reason
  ``all_struck``) and a single-name agree/disagree ballot without exactly one box marked is
  invalid (``no_mark``); on a several-name agree/disagree list (no surplus) a ballot with no
  agree mark stays valid and blank. With ``all_struck_valid`` True (roberts) every such ballot
  is valid and counted in ``ballots_valid`` and ``ballots_blank``; the
  ``ballots_valid_nonblank`` denominator leaves it out, so it is "not cast" without breaking
  valid + invalid = returned. ``all_struck_valid`` does not apply to resolutions: a resolution
  ballot answering nothing is always valid and blank.
* **Resolutions** pass on the poll's single denominator (docs/rules.md,
  "Resolutions": "the same denominator");
  under roberts that is the valid non-blank ballots, not a per-item count of for + against.
* **Show of hands.** No ballots: the ballot figures are zero and the ballot-based denominators
  (returned, valid, valid non-blank) fall back to ``voters_present``; ``not_voted`` is
  ``voters_present - (for + against + abstain)``; the "votes within valid" checks use the
  voters present.
* **Slates.** A tie on the last official seat leaves the alternates undecided
  (``alternates_pending``, ``unfilled_alternate_seats`` 0). With ``alternates_same_ballot``
  False a slate poll with official seats elects officials only (alternates pending); a slate
  poll with ``seats == 0`` is the later alternates-only poll.
* **Unfilled seats** count shortfall only; seats contested by a tie are in ``ties``.
* **Candidate list**: 1–2 seats allow one surplus, like 3–5 (see :func:`max_surplus`).
"""

from __future__ import annotations

from .checks import CHECK_NAMES
from .count import Result, count, percent, qualifies, threshold_votes
from .digest import ballot_digest, canonical_json
from .errors import BadIdError, RulesInputError
from .export import (
    PAYLOAD_FORMAT,
    compare_with_payload,
    recount_from_payload,
    recount_payload,
)
from .model import (
    ANSWERS,
    KINDS,
    MARKS,
    Attendance,
    Ballot,
    HandCount,
    InvalidReason,
    PollSpec,
)
from .rounds import (
    CandidateListWarning,
    NextRound,
    candidate_list_warning,
    max_surplus,
    propose_next_round,
)
from .settings import DENOMINATORS, PRESETS, Settings, parse_fraction, settings_for
from .validate import has_surplus, max_kept, validate_ballot

__all__ = [
    "ANSWERS",
    "CHECK_NAMES",
    "DENOMINATORS",
    "KINDS",
    "MARKS",
    "PAYLOAD_FORMAT",
    "PRESETS",
    "Attendance",
    "BadIdError",
    "Ballot",
    "CandidateListWarning",
    "HandCount",
    "InvalidReason",
    "NextRound",
    "PollSpec",
    "Result",
    "RulesInputError",
    "Settings",
    "ballot_digest",
    "candidate_list_warning",
    "canonical_json",
    "compare_with_payload",
    "count",
    "has_surplus",
    "max_kept",
    "max_surplus",
    "parse_fraction",
    "percent",
    "propose_next_round",
    "qualifies",
    "recount_from_payload",
    "recount_payload",
    "settings_for",
    "threshold_votes",
    "validate_ballot",
]
