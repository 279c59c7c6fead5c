"""Human-facing numbers, percentages, dates and times, through Babel, in the UI's language and
the congress's time zone: one set of helpers for pages, PDFs and exports' human text (the JSON
API keeps its own "92.20" strings, docs/api.md).

Vietnamese: "92,20%", "1.234", "ngày 20 tháng 6 năm 2025", "14 giờ 05 phút". Stored times are
naive UTC (db.utcnow); every one is shown in the congress's `time_zone`, never as UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import dates, numbers

DEFAULT_TZ = "Asia/Ho_Chi_Minh"


def _locale(locale: str | None = None) -> str:
    if locale:
        return locale
    try:
        from flask_babel import get_locale

        return str(get_locale() or "vi")
    except RuntimeError:  # outside an app context
        return "vi"


def zone(congress_or_name=None) -> ZoneInfo:
    """The time zone of a congress (or a zone name); Asia/Ho_Chi_Minh by default."""
    name = getattr(congress_or_name, "time_zone", congress_or_name) or DEFAULT_TZ
    try:
        return ZoneInfo(str(name))
    except (ValueError, ZoneInfoNotFoundError):
        return ZoneInfo(DEFAULT_TZ)


def local(value: datetime | str | None, tz=None) -> datetime | None:
    """A stored time (naive = UTC, or an ISO string) as an aware time in `tz`."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone(tz))


def fmt_int(value, locale: str | None = None) -> str:
    """1234 -> "1.234" (vi), "1,234" (en); None -> "—"."""
    if value is None or value == "":
        return "—"
    return numbers.format_decimal(value, locale=_locale(locale))


def fmt_percent(value, locale: str | None = None) -> str:
    """A percentage as the API gives it ("92.20", 92.2) -> "92,20%" (vi); None -> "—"."""
    if value is None or value == "":
        return "—"
    try:
        d = Decimal(str(value)) / 100
    except InvalidOperation:
        return str(value)
    return numbers.format_percent(d, "#,##0.00%", locale=_locale(locale))


def fmt_date(value: date | datetime | str | None, tz=None, locale: str | None = None) -> str:
    """The long date of a paper: "ngày 20 tháng 6 năm 2025" (vi), "20 June 2025" (en)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str | datetime):
        value = local(value, tz)
    loc = _locale(locale)
    if loc.startswith("vi"):
        return dates.format_date(value, "'ngày' d 'tháng' M 'năm' y", locale=loc)
    return dates.format_date(value, "d MMMM y", locale=loc)


def _fmt_moment(format_, value, tz, locale: str | None, vi: str, other: str) -> str:
    """`value` in the zone `tz` through Babel's `format_` with the pattern `vi` (Vietnamese) or
    `other`; "" for no time."""
    moment = local(value, tz)
    if moment is None:
        return ""
    loc = _locale(locale)
    pattern = vi if loc.startswith("vi") else other
    return format_(moment, pattern, tzinfo=moment.tzinfo, locale=loc)


def fmt_time(value: datetime | str | None, tz=None, locale: str | None = None) -> str:
    """The time of day on paper: "14 giờ 05 phút" (vi), "14:05" (en), in the congress's zone."""
    return _fmt_moment(dates.format_time, value, tz, locale, "H 'giờ' mm 'phút'", "HH:mm")


def fmt_datetime(value: datetime | str | None, tz=None, locale: str | None = None) -> str:
    """A short date and time for tables: "20/06/2025 14:05" (vi), in the congress's zone."""
    return _fmt_moment(
        dates.format_datetime, value, tz, locale, "dd/MM/yyyy HH:mm", "yyyy-MM-dd HH:mm"
    )


FILTERS = {
    "fmt_int": fmt_int,
    "fmt_percent": fmt_percent,
    "fmt_date": fmt_date,
    "fmt_time": fmt_time,
    "fmt_datetime": fmt_datetime,
}
