"""Schemas of the voting kiosks (api/kiosk_routes.py, congress/kiosks.py)."""

from __future__ import annotations

from ...congress.kiosks import LABEL_MAX
from .base import Answer, Body, Bool, Int, Str


class KioskEnrolment(Body):
    label = Str(required=True, metadata={"minLength": 1, "maxLength": LABEL_MAX})


class EnrolledKiosk(Answer):
    id = Int()
    label = Str()
    token = Str(metadata={"description": "send as X-Kiosk-Token; shown only once"})


class Kiosk(Answer):
    id = Int()
    congress_id = Int()
    label = Str()
    enrolled_at = Str()
    enrolled_by = Int(allow_none=True)
    revoked_at = Str(allow_none=True)
    active = Bool()
