"""Rule settings of a poll and the named presets that fill them.

Every result carries the settings it was counted with (docs/rules.md, "Settings": a setting's
value shows on every report), so a report can always say which denominator, fraction and
comparison it used.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

from .errors import RulesInputError

#: The denominators a threshold can be taken of (docs/rules.md, "Settings").
DENOMINATORS: tuple[str, ...] = (
    "voters_summoned_adjusted",  # QĐ 190-QĐ/TW: full members summoned minus the excluded
    "voters_present",
    "ballots_returned",
    "ballots_valid",
    "ballots_valid_nonblank",  # Robert's Rules: blanks are not votes cast
)

TIE_HANDLING: tuple[str, ...] = ("another_round",)


@dataclass(frozen=True)
class Settings:
    """The rules one poll is counted under.

    Guarantees (when built through :func:`settings_for`): ``denominator`` is one of
    :data:`DENOMINATORS`; ``0 < fraction < 1`` as an exact :class:`~fractions.Fraction`;
    ``strict`` True means a candidate needs *more than* ``fraction × denominator`` votes,
    False means *at least*; ``tie_handling`` is ``"another_round"``; ``signoff_required`` is
    ``"all"`` or a positive count written as a string (the engine only carries it).
    """

    preset: str
    denominator: str
    fraction: Fraction
    strict: bool
    all_struck_valid: bool
    tie_handling: str = "another_round"
    alternates_same_ballot: bool = True
    signoff_required: str = "all"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict; the fraction is written ``"p/q"`` (e.g. ``"1/2"``)."""
        return {
            "preset": self.preset,
            "denominator": self.denominator,
            "fraction": f"{self.fraction.numerator}/{self.fraction.denominator}",
            "strict": self.strict,
            "all_struck_valid": self.all_struck_valid,
            "tie_handling": self.tie_handling,
            "alternates_same_ballot": self.alternates_same_ballot,
            "signoff_required": self.signoff_required,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        """Inverse of :meth:`to_dict`, validated like :func:`settings_for`."""
        data = dict(data)
        return settings_for(data.pop("preset", "vn-party"), data)


_HALF = Fraction(1, 2)

#: Named presets. Any field can be overridden per poll through :func:`settings_for`.
PRESETS: dict[str, Settings] = {
    # QĐ 190-QĐ/TW (2024), as QĐ 244-QĐ/TW before it: elected with more than half of the full
    # members/delegates summoned, less those excused for the whole congress. A ballot striking
    # every name on a list with a surplus is invalid (QĐ 244-QĐ/TW art. 17: reason all_struck),
    # and so is a single-name agree/disagree ballot without exactly one box marked (no_mark)
    # (docs/rules.md, "Ballot validity").
    "vn-party": Settings("vn-party", "voters_summoned_adjusted", _HALF, True, False),
    # Law on Election of Deputies 85/2015 style: more than half of the valid ballots; a ballot
    # striking every name is invalid.
    "majority-of-valid": Settings("majority-of-valid", "ballots_valid", _HALF, True, False),
    # Robert's Rules of Order: a majority of the votes cast; a blank ballot is not a vote cast.
    # Choice made here: an all-struck (blank) ballot is *not invalid* (all_struck_valid=True, so it
    # stays in ballots_valid and valid + invalid = returned still reconciles) but it is left out of
    # the denominator, ballots_valid_nonblank = ballots_valid - ballots_blank.
    "roberts": Settings("roberts", "ballots_valid_nonblank", _HALF, True, True),
}

_BOOL_FIELDS = ("strict", "all_struck_valid", "alternates_same_ballot")
_KNOWN = (
    "preset",
    "denominator",
    "fraction",
    "strict",
    "all_struck_valid",
    "tie_handling",
    "alternates_same_ballot",
    "signoff_required",
)


def parse_fraction(value: Any) -> Fraction:
    """Parse ``"p/q"`` (or a :class:`Fraction`) into an exact fraction with ``0 < f < 1``.

    Floats are refused: ``2/3`` has no exact float, and thresholds are decided exactly.
    Raises :class:`RulesInputError` with a message naming the bad value.
    """
    if isinstance(value, (bool, float)):
        raise RulesInputError(f"fraction must be written 'p/q' (e.g. '1/2'), not {value!r}")
    if isinstance(value, Fraction):
        frac = value
    elif isinstance(value, str):
        try:
            frac = Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            raise RulesInputError(
                f"fraction must be written 'p/q' (e.g. '2/3'), not {value!r}"
            ) from None
    else:
        raise RulesInputError(f"fraction must be written 'p/q' (e.g. '1/2'), not {value!r}")
    if not 0 < frac < 1:
        raise RulesInputError(f"fraction must be between 0 and 1 exclusive, not {value!r}")
    return frac


def settings_for(preset: str = "vn-party", overrides: dict[str, Any] | None = None) -> Settings:
    """The settings of ``preset`` with ``overrides`` applied, validated.

    ``overrides`` may use the keys of :meth:`Settings.to_dict` (a ``"preset"`` key, if present,
    must name the same preset). ``None`` values are ignored (meaning "take the preset's").
    Raises :class:`RulesInputError` with a clear message for an unknown preset, key or denominator,
    a bad fraction, a non-boolean flag, an unknown tie handling or a bad sign-off count.
    """
    if preset not in PRESETS:
        raise RulesInputError(f"unknown preset {preset!r}; expected one of {', '.join(PRESETS)}")
    base = PRESETS[preset]
    if not overrides:
        return base
    changes: dict[str, Any] = {}
    for key, value in overrides.items():
        if key not in _KNOWN:
            raise RulesInputError(
                f"unknown rule setting {key!r}; expected one of {', '.join(_KNOWN)}"
            )
        if value is None:
            continue
        if key == "preset":
            if value != preset:
                raise RulesInputError(f"preset {value!r} in the overrides contradicts {preset!r}")
        elif key == "denominator":
            if value not in DENOMINATORS:
                raise RulesInputError(
                    f"unknown denominator {value!r}; expected one of {', '.join(DENOMINATORS)}"
                )
            changes[key] = value
        elif key == "fraction":
            changes[key] = parse_fraction(value)
        elif key in _BOOL_FIELDS:
            if not isinstance(value, bool):
                raise RulesInputError(f"{key} must be true or false, not {value!r}")
            changes[key] = value
        elif key == "tie_handling":
            if value not in TIE_HANDLING:
                raise RulesInputError(
                    f"unknown tie_handling {value!r}; expected one of {', '.join(TIE_HANDLING)}"
                )
            changes[key] = value
        elif key == "signoff_required":
            changes[key] = _parse_signoff(value)
    return replace(base, **changes)


def _parse_signoff(value: Any) -> str:
    if value == "all":
        return "all"
    if isinstance(value, bool):
        raise RulesInputError(f"signoff_required must be 'all' or a positive count, not {value!r}")
    text = str(value).strip()
    if not text.isdigit() or int(text) < 1:
        raise RulesInputError(f"signoff_required must be 'all' or a positive count, not {value!r}")
    return str(int(text))
