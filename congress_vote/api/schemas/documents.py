"""Schemas of the background documents (api/document_routes.py, jobs/runner.py)."""

from __future__ import annotations

from .base import Answer, Body, Int, Str


class DocumentBody(Body):
    kind = Str(required=True, metadata={"enum": ["cards"]})


class Document(Answer):
    id = Str()
    kind = Str()
    state = Str(metadata={"enum": ["queued", "running", "done", "failed", "expired"]})
    done = Int()
    total = Int()
    percent = Int()
    filename = Str()
    file_url = Str(allow_none=True)
    created_at = Str()
