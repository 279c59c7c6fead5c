"""Imports every model so the metadata (and Alembic) sees all tables."""
from .audit.models import AuditEvent, AuditHead  # noqa: F401
from .auth.models import ApiToken, User  # noqa: F401
from .ballots.models import (Ballot, BallotToken, HandCount, IssueBatch, NamedVote,  # noqa: F401
                             PaperEntry)
from .congress.models import Branch, Congress, Delegate  # noqa: F401
from .counting.models import PollResult, Signoff  # noqa: F401
from .polls.models import Candidate, CommitteeMember, Poll, PollItem  # noqa: F401
