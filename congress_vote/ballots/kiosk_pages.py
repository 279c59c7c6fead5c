"""What the kiosk's pages need besides a step's answer: the way back to the kiosk's start page
from every page (no kiosk page is a dead end). (A long list's letter index comes with the
ballot sheet: ballots/sheet.py.)"""

from __future__ import annotations

from flask import Blueprint, request, url_for
from sqlalchemy.exc import SQLAlchemyError

from ..congress import kiosks
from ..ids import id_or_none


def kiosk_start_url(kiosk_cid: int | None = None) -> str | None:
    """The kiosk start page to offer on a voter's page or an error met there: the congress of
    the kiosk the page was opened at (`kiosk_cid`, the `cid` or `k` of the request), else of the
    kiosk this device is; None elsewhere than on the kiosk's pages, or when no congress is known."""
    if request.blueprint != "ballots":
        return None
    # (an error on the start page itself is about that congress: not a way back)
    args = request.view_args or {} if request.endpoint != "ballots.kiosk" else {}
    cid = kiosk_cid or args.get("cid") or id_or_none(request.values.get("k", ""))
    if not isinstance(cid, int) or cid <= 0:
        try:
            kiosk = kiosks.request_kiosk()
        except SQLAlchemyError:  # the storage is what failed: offer no link rather than fail
            kiosk = None
        cid = kiosk.congress_id if kiosk is not None else None
    return url_for("ballots.kiosk", cid=cid) if cid else None


def register(bp: Blueprint) -> None:
    """Make the helper available to every template (error pages included)."""
    bp.add_app_template_global(kiosk_start_url, "kiosk_start_url")
