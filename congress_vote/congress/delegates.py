"""The delegate registry: add, edit, list and export delegates (their cards: cards.py)."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..audit.services import record
from ..errors import ServiceError
from ..extensions import db
from ..i18n.collation import name_sort_key
from .cards import new_card, seal_card
from .fields import MAX_LEN, MEMBERSHIPS, STATUSES, clean_name, fold
from .models import Branch, Congress, Delegate
from .setup import branch_by_name


def get_delegate(congress: Congress, did: int) -> Delegate:
    d = db.session.get(Delegate, did)
    if d is None or d.congress_id != congress.id:
        raise ServiceError("not_found", _("No such delegate in this congress."), status=404)
    return d


_MEMBERSHIP_WORDS = {
    "full": "full",
    "chinh thuc": "full",
    "probationary": "probationary",
    "du bi": "probationary",
    "dv chinh thuc": "full",
    "dv du bi": "probationary",
    "dang vien chinh thuc": "full",
    "dang vien du bi": "probationary",
}


_GENDER_WORDS = {"m": "M", "male": "M", "nam": "M", "f": "F", "female": "F", "nu": "F"}


def delegate_values(raw: dict) -> tuple[dict, list[tuple[str, str]]]:
    """Validate one delegate's fields. Returns (clean values, [(field, message)])."""
    errors: list[tuple[str, str]] = []
    v: dict = {}
    for key in ("code", "full_name", "branch", "position"):
        value = raw.get(key)
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # a spreadsheet turns code 12 into 12.0
        v[key] = clean_name("" if value is None else str(value))
        if len(v[key]) > MAX_LEN[key]:
            errors.append((key, _("longer than %(limit)s characters", limit=MAX_LEN[key])))
    missing = {
        "code": _("the code is missing"),
        "full_name": _("the full name is missing"),
        "branch": _("the branch is missing"),
    }
    for key, message in missing.items():
        if not v[key]:
            errors.append((key, message))
    membership = fold(raw.get("membership"))
    if not membership:
        errors.append(
            ("membership", _("the membership is missing (full/probationary, chính thức/dự bị)"))
        )
    elif membership not in _MEMBERSHIP_WORDS:
        errors.append(
            (
                "membership",
                _(
                    "unknown membership “%(value)s” (use full/probationary or chính thức/dự bị)",
                    value=raw.get("membership"),
                ),
            )
        )
    else:
        v["membership"] = _MEMBERSHIP_WORDS[membership]
    gender = fold(raw.get("gender"))
    if gender:
        if gender not in _GENDER_WORDS:
            errors.append(
                ("gender", _("unknown gender “%(value)s” (M/F, Nam/Nữ)", value=raw.get("gender")))
            )
        else:
            v["gender"] = _GENDER_WORDS[gender]
    else:
        v["gender"] = None
    year = raw.get("birth_year")
    if year in (None, ""):
        v["birth_year"] = None
    else:
        text = str(year).strip()
        if text.endswith(".0"):
            text = text[:-2]  # a spreadsheet number
        try:
            y = int(text)
        except ValueError:
            errors.append(("birth_year", _("“%(value)s” is not a year", value=year)))
        else:
            if not 1900 <= y <= date.today().year - 16:
                errors.append(
                    (
                        "birth_year",
                        _("%(year)s is outside 1900–%(last)s", year=y, last=date.today().year - 16),
                    )
                )
            v["birth_year"] = y
    v["position"] = v["position"] or None
    return v, errors


def existing_delegates(congress: Congress) -> tuple[dict, dict]:
    rows = db.session.execute(
        select(Delegate.id, Delegate.code, Delegate.full_name).where(
            Delegate.congress_id == congress.id
        )
    ).all()
    return (
        {r.code.casefold(): r.id for r in rows},
        {clean_name(r.full_name).casefold(): r.id for r in rows},
    )


def valid_delegate_values(raw: dict) -> dict:
    """One delegate's fields checked (`delegate_values`), or 422 invalid_delegate naming each bad
    field in `rows` (as row 1, the form's one row)."""
    v, errors = delegate_values(raw)
    if errors:
        raise ServiceError(
            "invalid_delegate",
            "; ".join(f"{f}: {m}" for f, m in errors),
            rows=[{"row": 1, "field": f, "message": m} for f, m in errors],
        )
    return v


def add_delegate(congress: Congress, raw: dict, actor=None) -> Delegate:
    """Add one delegate; the same validation as an import row. 422 with `rows` on a bad field,
    409 when the code is taken in this congress (a name may be: namesakes)."""
    v = valid_delegate_values(raw)
    codes_, _names = existing_delegates(congress)
    if v["code"].casefold() in codes_:
        raise ServiceError(
            "duplicate_code", _("The code %(code)s is taken.", code=v["code"]), status=409
        )
    # A name already on the list is a namesake, not an error (issue 17): namesakes_of() lets the
    # page say so, and code and branch tell them apart.
    d = make_delegate(congress, v)
    db.session.flush()
    seal_card(d)
    db.session.flush()
    record(
        "delegate.added",
        actor=actor,
        congress_id=congress.id,
        data={"delegate_id": d.id, "code": d.code},
    )
    return d


def make_delegate(congress: Congress, v: dict, branches: dict | None = None) -> Delegate:
    if branches is not None and v["branch"] in branches:
        branch = branches[v["branch"]]
    else:
        branch = branch_by_name(congress, v["branch"])
        if branches is not None:
            branches[v["branch"]] = branch
    d = Delegate(
        congress_id=congress.id,
        code=v["code"],
        full_name=v["full_name"],
        sort_key=name_sort_key(v["full_name"]),
        branch_id=branch.id,
        membership=v["membership"],
        gender=v["gender"],
        birth_year=v["birth_year"],
        position=v["position"],
        status="absent",
    )
    new_card(d)
    db.session.add(d)
    return d


def update_delegate(delegate: Delegate, raw: dict, actor=None) -> Delegate:
    """Edit a delegate's fields (all given again, as on the form)."""
    v = valid_delegate_values(raw)
    codes_, _names = existing_delegates(delegate.congress)
    if codes_.get(v["code"].casefold(), delegate.id) != delegate.id:
        raise ServiceError(
            "duplicate_code", _("The code %(code)s is taken.", code=v["code"]), status=409
        )
    branch = branch_by_name(delegate.congress, v["branch"])
    assert branch is not None  # delegate_values refuses an empty branch: it was found or created
    changed = []
    for key in ("code", "full_name", "membership", "gender", "birth_year", "position"):
        if getattr(delegate, key) != v[key]:
            setattr(delegate, key, v[key])
            changed.append(key)
    if delegate.branch_id != branch.id:
        delegate.branch_id = branch.id
        delegate.branch = branch
        changed.append("branch")
    delegate.sort_key = name_sort_key(delegate.full_name)
    db.session.flush()
    if changed:
        record(
            "delegate.updated",
            actor=actor,
            congress_id=delegate.congress_id,
            data={"delegate_id": delegate.id, "fields": changed},
        )
    return delegate


def namesakes_of(d: Delegate) -> list[Delegate]:
    """The other delegates of `d`'s congress with the same full name (case and spacing
    folded): the page that added or edited `d` says so, telling them apart by code and branch."""
    key = clean_name(d.full_name).casefold()
    rows = db.session.scalars(
        select(Delegate).where(Delegate.congress_id == d.congress_id, Delegate.id != d.id)
    )
    return [x for x in rows if clean_name(x.full_name).casefold() == key]


def _words(text: str | None) -> list[tuple[str, str]]:
    """Each word of `text` as (with its marks, casefolded; without marks)."""
    return list(zip(clean_name(text).casefold().split(), fold(text).split(), strict=False))


def _phrase_match(tokens: list[tuple[str, bool]], words: list[tuple[str, str]]) -> bool:
    """Do the query's words begin consecutive words of the text ("van hung" in "Nguyễn Văn
    Hùng"; "hung" does not find "Nhung": a word is matched from its start)? A token typed with
    Vietnamese marks keeps them ("Hùng" begins "Hùng", not "Hưng"); one typed without any
    matches every accented form ("hung" begins "Hùng", "Hưng", "Hứng")."""
    n = len(tokens)
    return any(
        all(words[i + j][0 if marked else 1].startswith(t) for j, (t, marked) in enumerate(tokens))
        for i in range(len(words) - n + 1)
    )


def delegate_matcher(q: str):
    """A test of one delegate against the query `q`: its words begin consecutive words of the
    name or of the branch, with the marks as typed (:func:`_phrase_match`), or `q` is part of
    the list code."""
    tokens = []
    for token in clean_name(q).split():
        exact, plain = token.casefold(), fold(token)
        tokens.append((exact, True) if exact != plain else (plain, False))
    code_part = fold("".join(clean_name(q).split()))
    branches: dict[str, list[tuple[str, str]]] = {}

    def matches(full_name: str, branch: str | None, code: str) -> bool:
        if not tokens:
            return True
        branch = branch or ""
        if branch not in branches:
            branches[branch] = _words(branch)
        return (
            _phrase_match(tokens, _words(full_name))
            or _phrase_match(tokens, branches[branch])
            or code_part in fold(code)
        )

    return matches


def delegate_matches(d: Delegate, q: str) -> bool:
    """Whether delegate `d` answers the query `q` (:func:`delegate_matcher`)."""
    return delegate_matcher(q)(d.full_name, d.branch_name, d.code)


def _delegates_stmt(
    congress: Congress,
    branch_id: int | None = None,
    status: str | None = None,
    membership: str | None = None,
):
    stmt = select(Delegate).where(Delegate.congress_id == congress.id)
    if branch_id:
        stmt = stmt.where(Delegate.branch_id == branch_id)
    if status in STATUSES:
        stmt = stmt.where(Delegate.status == status)
    if membership in MEMBERSHIPS:
        stmt = stmt.where(Delegate.membership == membership)
    return stmt


def list_delegates(
    congress: Congress,
    q: str = "",
    branch_id: int | None = None,
    status: str | None = None,
    membership: str | None = None,
    limit: int | None = None,
) -> list[Delegate]:
    """Delegates in Vietnamese name order, filtered; `q` matches the beginnings of the words of
    the name or branch, or a part of the code (:func:`delegate_matches`): "nguyen van an" finds
    "Nguyễn Văn An", "Hùng" finds "Nguyễn Văn Hùng" but not "Trần Thị Nhung"."""
    return delegate_page(congress, q, branch_id, status, membership, 0, limit)[0]


def delegate_page(
    congress: Congress,
    q: str = "",
    branch_id: int | None = None,
    status: str | None = None,
    membership: str | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> tuple[list[Delegate], int]:
    """One page of :func:`list_delegates` and how many delegates match in all. Without a query
    the database pages; with one the matching is done here (accents are not portable SQL, and a
    congress has at most a few thousand delegates)."""
    stmt = _delegates_stmt(congress, branch_id, status, membership)
    order = (Delegate.sort_key, Delegate.code)
    if not clean_name(q):
        total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        page = stmt.order_by(*order).offset(max(0, offset))
        if limit:
            page = page.limit(limit)
        return list(db.session.scalars(page)), total
    # Matched on plain rows (name, branch, code), then only the page is loaded as delegates:
    # 2,000 ORM objects and their branches cost more than the matching.
    matches = delegate_matcher(q)
    rows = db.session.execute(
        stmt.with_only_columns(Delegate.id, Delegate.full_name, Branch.name, Delegate.code)
        .outerjoin(Branch, Branch.id == Delegate.branch_id)
        .order_by(*order)
    ).all()
    hits = [r[0] for r in rows if matches(r[1], r[2], r[3])]
    end = offset + limit if limit else None
    ids = hits[max(0, offset) : end]
    loaded = {
        d.id: d
        for d in db.session.scalars(
            select(Delegate).options(joinedload(Delegate.branch)).where(Delegate.id.in_(ids))
        )
    }
    return [loaded[i] for i in ids], len(hits)


def delegate_dict(d: Delegate) -> dict:
    """A delegate as JSON shows it. Never the card code: a card code is a credential and
    exists only on the printed card (printing.cards_pdf)."""
    return {
        "id": d.id,
        "code": d.code,
        "full_name": d.full_name,
        "branch": d.branch_name,
        "membership": d.membership,
        "can_vote": d.can_vote,
        "status": d.status,
        "gender": d.gender,
        "birth_year": d.birth_year,
        "position": d.position,
        "absence_reason": d.absence_reason,
        "checked_in_at": d.checked_in_at.isoformat() if d.checked_in_at else None,
    }


EXPORT_HEADER = [
    "code",
    "full_name",
    "branch",
    "membership",
    "gender",
    "birth_year",
    "position",
    "status",
    "absence_reason",
]


def export_rows(congress: Congress):
    for d in list_delegates(congress):
        yield [
            d.code,
            d.full_name,
            d.branch_name,
            d.membership,
            d.gender or "",
            d.birth_year or "",
            d.position or "",
            d.status,
            d.absence_reason or "",
        ]
