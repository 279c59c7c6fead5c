"""Schemas of the background documents (api/document_routes.py, jobs/runner.py)."""

from __future__ import annotations

from .base import Answer, Body, Int, Str


class DocumentBody(Body):
    kind = Str(required=True, metadata={"enum": ["cards"]})


class PollDocumentBody(Body):
    kind = Str(required=True, metadata={"enum": ["slips", "paper", "minutes"]})
    count = Int(metadata={"description": "slips, paper: how many ballots to issue"})
    size = Str(metadata={"enum": ["A4", "A5"], "description": "paper: the sheet size"})
    lang = Str(metadata={"enum": ["vi", "en"], "description": "minutes: the language"})


class Document(Answer):
    id = Str()
    kind = Str()
    state = Str(metadata={"enum": ["queued", "running", "done", "failed", "expired"]})
    done = Int()
    total = Int()
    percent = Int()
    filename = Str()
    error = Str(allow_none=True)  # why a failed job failed (a batch refused when issued)
    file_url = Str(allow_none=True)
    created_at = Str()
