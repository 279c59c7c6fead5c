"""Imports every model so the metadata (and Alembic) sees all tables."""

from .audit.models import AuditEvent, AuditHead  # noqa: F401
from .auth.models import ApiToken, LoginThrottle, StaffSession, User  # noqa: F401
from .ballots.models import (  # noqa: F401
    Ballot,
    BallotToken,
    BatchPdf,
    HandCount,
    IssueBatch,
    NamedVote,
    PaperEntry,
)
from .congress.models import Branch, Congress, Delegate, Kiosk  # noqa: F401
from .counting.models import PaperReturn, PollResult, Signoff  # noqa: F401
from .jobs.models import DocumentJob  # noqa: F401
from .polls.models import Candidate, CommitteeMember, Poll, PollItem  # noqa: F401
from .reports.models import ProjectorChoice  # noqa: F401
from .seal.models import BoxShare, KeyCard, PollTracker, SealedBallot  # noqa: F401
