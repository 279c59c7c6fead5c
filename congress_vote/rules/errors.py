"""The one exception the rules engine raises for bad input."""

from __future__ import annotations


class RulesInputError(ValueError):
    """Malformed or inconsistent input to the rules engine (unknown preset, bad fraction, a
    ballot of the wrong shape, a hand count for an election…). It *is* a :class:`ValueError`,
    so callers may catch either; the message is plain English naming the bad value.

    Rule violations inside well-formed ballots (over-votes, unknown ids) are never raised:
    they are invalid-ballot reasons in the result.
    """


class BadIdError(RulesInputError):
    """An id that is not an integer: a bool, a float, text that is not plain ASCII digits
    ("²", "١", "５", "1e3") or a number beyond 64 bits. Callers answer it as a malformed id."""
