"""Human labels of the audit log's action keys (``auth.login`` → "Đăng nhập").

One table for every place that shows an action to a person (the audit page, its filters,
exports' human-facing text); the JSON export and the API keep the raw key. A key missing from
the table is shown as itself, and tests/test_no_english.py fails on it when it reaches a
Vietnamese page: add its label here (and its Vietnamese in i18n/vi/audit.po).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

ACTION_LABELS = {
    "auth.login": _l("Signed in"),
    "auth.login_failed": _l("Sign-in failed"),
    "auth.login_locked": _l("Sign-in locked"),
    "auth.logout": _l("Signed out"),
    "ballot.cast": _l("Ballot cast"),
    "ballot.named_vote": _l("Named vote cast"),
    "ballots.issued": _l("Ballot batch issued"),
    "ballots.pdf_downloaded": _l("Ballot batch downloaded"),
    "branch.created": _l("Branch created"),
    "congress.created": _l("Congress created"),
    "congress.updated": _l("Congress updated"),
    "delegate.added": _l("Delegate added"),
    "delegate.attendance": _l("Attendance changed"),
    "delegate.card_reissued": _l("Delegate card reissued"),
    "delegate.checked_in": _l("Delegate checked in"),
    "delegate.checkin_undone": _l("Check-in undone"),
    "delegate.updated": _l("Delegate updated"),
    "delegates.imported": _l("Delegates imported"),
    "hand_count.entered": _l("Hand count entered"),
    "kiosk.enrolled": _l("Kiosk enrolled"),
    "kiosk.revoked": _l("Kiosk revoked"),
    "paper.entered": _l("Paper ballot entered"),
    "paper.returned": _l("Paper ballots returned"),
    "paper.settled": _l("Paper entry settled"),
    "poll.certified": _l("Result certified"),
    "poll.closed": _l("Poll closed"),
    "poll.counted": _l("Poll counted"),
    "poll.created": _l("Poll created"),
    "poll.opened": _l("Poll opened"),
    "poll.published": _l("Result published"),
    "poll.recounted": _l("Poll recounted"),
    "poll.round_created": _l("New round created"),
    "poll.updated": _l("Poll updated"),
    "projector.chosen": _l("Projector choice changed"),
    "result.complaints": _l("Complaints recorded"),
    "result.invalidated": _l("Signatures invalidated"),
    "result.signed": _l("Result signed"),
    "user.activated": _l("Account activated"),
    "user.created": _l("Account created"),
    "user.deactivated": _l("Account deactivated"),
    "user.password_changed": _l("Password changed"),
    "user.password_reset": _l("Password reset"),
    "user.tokens_revoked": _l("Sessions and tokens revoked"),
    "user.updated": _l("Account updated"),
}


def action_label(action: str) -> str:
    """The label of an action key in the current language (the key itself when unknown)."""
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


def action_choices() -> list[tuple[str, str]]:
    """(key, label) of every known action, sorted by label: for a filter's select."""
    return sorted(((k, str(v)) for k, v in ACTION_LABELS.items()), key=lambda kv: kv[1])
