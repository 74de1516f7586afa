"""The SOP library: one standard operating procedure per error code, every edit a new version.

The product ships a procedure for every code the rules and models emit
(``maintenance/procedures/sops/<CODE>.md``); ``load_shipped_sops`` adds the missing ones as version
1 at start and never touches a code that exists, so edits made in the app survive upgrades.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from data.models import AuditLog, Sop, SopVersion, User, utcnow
from maintenance.people.accounts import UserInfo
from maintenance.people.permissions import Action, allowed
from maintenance.procedures.sop_text import SopError, check_code, check_sop

__all__ = [
    "SOP_DIR",
    "SopSummary",
    "SopVersionInfo",
    "SopView",
    "SopError",
    "shipped_sops",
    "load_shipped_sops",
    "list_sops",
    "get_sop",
    "save_sop",
]

SOP_DIR = Path(__file__).parent / "sops"


@dataclass(frozen=True, slots=True)
class SopSummary:
    code: str
    title: str
    version: int
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class SopVersionInfo:
    id: int
    version: int
    title: str
    author: str  # "shipped" for the text that came with the product
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SopView:
    """One version of an SOP (the current one unless asked otherwise) and the whole history."""

    code: str
    current_version: int
    version: SopVersionInfo
    body: str
    steps: list[str]
    versions: list[SopVersionInfo]


def shipped_sops() -> dict[str, str]:
    """The procedures that come with the product: {code: Markdown}."""
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(SOP_DIR.glob("*.md"))}


def load_shipped_sops(*, session: Session) -> list[str]:
    """Add every shipped SOP whose code is missing as version 1; returns the codes added.
    Existing codes are left alone, whatever their text: edits made in the app win."""
    have = set(session.scalars(select(Sop.code)))
    added = []
    for code, text in shipped_sops().items():
        if code in have:
            continue
        parsed = check_sop(text)
        try:
            with session.begin_nested():  # another process may be loading the same code
                sop = Sop(code=code, title=parsed.title, current_version=1)
                session.add(sop)
                session.flush()
                session.add(
                    SopVersion(
                        sop_id=sop.id, version=1, title=parsed.title, body=text, steps=parsed.steps
                    )
                )
                session.flush()
        except IntegrityError:
            continue
        added.append(code)
    return added


def list_sops(*, session: Session, search: str = "") -> list[SopSummary]:
    """SOPs by code, filtered by ``search`` in the code, title or current text."""
    stmt = (
        select(Sop)
        .join(
            SopVersion, (SopVersion.sop_id == Sop.id) & (SopVersion.version == Sop.current_version)
        )
        .order_by(Sop.code)
    )
    needle = search.strip()[:100]
    if needle:
        stmt = stmt.where(
            or_(
                *(
                    col.icontains(needle, autoescape=True)
                    for col in (Sop.code, Sop.title, SopVersion.body)
                )
            )
        )
    return [
        SopSummary(s.code, s.title, s.current_version, s.updated_at) for s in session.scalars(stmt)
    ]


def get_sop(*, session: Session, code: str, version: int | None = None) -> SopView | None:
    """An SOP at ``version`` (default: current) with its version history, or None."""
    sop = session.scalar(select(Sop).where(Sop.code == code))
    if sop is None:
        return None
    rows = session.execute(
        select(SopVersion, User.username)
        .outerjoin(User, User.id == SopVersion.created_by)
        .where(SopVersion.sop_id == sop.id)
        .order_by(SopVersion.version.desc())
    ).all()
    infos = [
        SopVersionInfo(v.id, v.version, v.title, name or "shipped", v.created_at)
        for v, name in rows
    ]
    wanted = version or sop.current_version
    chosen = next(
        ((v, i) for (v, _), i in zip(rows, infos, strict=True) if v.version == wanted), None
    )
    if chosen is None:
        return None
    row, info = chosen
    return SopView(sop.code, sop.current_version, info, row.body, list(row.steps), infos)


def save_sop(
    *, session: Session, code: str, text: str | None, user: UserInfo, base_version: int | None
) -> int:
    """Save ``text`` as the next version of the SOP for ``code`` (created if new); audited.
    ``base_version`` is the version the author started from (None for a new SOP): a save
    over somebody else's newer version is refused. Returns the new version number;
    ``SopError`` says what to fix."""
    if not allowed(user.role, Action.SOP_EDIT):
        raise SopError("Only engineers and admins may edit SOPs.")
    code = check_code(code)
    parsed = check_sop(text)
    body = (text or "").strip().replace("\r\n", "\n") + "\n"
    sop = session.scalar(select(Sop).where(Sop.code == code).with_for_update())
    _check_base(session, sop, base_version, body)
    if sop is None:
        sop = Sop(code=code, title=parsed.title, current_version=0)
        session.add(sop)
        session.flush()
    before = {"version": sop.current_version, "title": sop.title} if sop.current_version else None
    sop.current_version += 1
    sop.title, sop.updated_at = parsed.title, utcnow()
    session.add(
        SopVersion(
            sop_id=sop.id,
            version=sop.current_version,
            title=parsed.title,
            body=body,
            steps=parsed.steps,
            created_by=user.id,
        )
    )
    session.add(
        AuditLog(
            user_id=user.id,
            action="sop.edit",
            entity="sop",
            entity_id=code,
            before=before,
            after={
                "version": sop.current_version,
                "title": parsed.title,
                "steps": len(parsed.steps),
            },
        )
    )
    session.flush()
    return sop.current_version


def _check_base(session: Session, sop: Sop | None, base_version: int | None, body: str) -> None:
    """Refuse a save over somebody else's newer version, and one that changes nothing."""
    current = sop.current_version if sop else None
    if current != base_version:
        raise SopError(
            f"Somebody saved version {current} of this SOP meanwhile; copy your text, reload "
            "the page and apply your changes to it."
            if current
            else "This SOP does not exist any more; reload the page."
        )
    if sop is not None:
        text = session.scalar(
            select(SopVersion.body).where(
                SopVersion.sop_id == sop.id, SopVersion.version == sop.current_version
            )
        )
        if text is not None and text.strip() == body.strip():
            raise SopError("Nothing changed since the current version.")
