"""Sign-in throttling that stops guessing, not owners. Failed sign-ins are counted per
account from one address and per address, in the database, so every web process shares
them and a restart forgets nothing. An account attacked from one address stays open to its
owner elsewhere: nobody can lock anybody else out. An account attacked from many addresses
is slowed, not locked: past ``delay_after`` failures in the window each try must wait 1 s,
2 s, 4 s … after the last failure, never more than ``delay_max``; an address the account
has signed in from before (its owner's desk) is not slowed. Each lockout and each slowdown
is audited once. Password-reset requests are counted the same way (kind "forgot")."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from data.models import AuditLog, SignInFailure, User, UserSession
from maintenance.people.user_sessions import KEEP

__all__ = [
    "SignInLimits",
    "Refusal",
    "check_try",
    "refusal",
    "record_failure",
    "forget_failures",
    "delay",
]


@dataclass(frozen=True, slots=True)
class SignInLimits:
    """Failures allowed within ``window``: for one account from one address, and from one
    address over all accounts; then the slowdown of an account over all addresses (none
    when ``delay_after`` is 0). ``kind``: what is counted ("sign_in" or "forgot")."""

    per_account_address: int
    per_address: int
    window: timedelta
    delay_after: int = 0
    delay_max: timedelta = timedelta(seconds=30)
    kind: str = "sign_in"


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a try is refused: ``by`` "address" (too many from there), "account" (too many
    for this account from there) or "slowed" (the account is being guessed from many
    addresses); ``retry_after``: whole seconds until the next try may be made."""

    by: str
    retry_after: int


def delay(limits: SignInLimits, failures: int) -> timedelta:
    """How long after its last failure an account with ``failures`` in the window waits."""
    if not limits.delay_after or failures < limits.delay_after:
        return timedelta(0)
    exponent = min(failures - limits.delay_after, 30)  # 2**30 s is past any maximum
    return min(timedelta(seconds=2**exponent), limits.delay_max)


def check_try(
    *, session: Session, account: str, address: str, limits: SignInLimits, now: datetime
) -> Refusal | None:
    """The first step of a try, in the transaction that then checks the password and records
    the outcome: tries for one account take turns (on PostgreSQL a transaction lock per
    account; on SQLite the write lock, which the deletion of expired failures takes), so
    many addresses at once cannot all slip into the same free moment. Then ``refusal``."""
    if session.get_bind().dialect.name == "postgresql":
        key = func.hashtext(f"{limits.kind}:{account}")
        session.execute(select(func.pg_advisory_xact_lock(key)))
    expired = SignInFailure.kind == limits.kind, SignInFailure.at < now - limits.window
    session.execute(delete(SignInFailure).where(*expired))
    return refusal(session=session, account=account, address=address, limits=limits, now=now)


def refusal(
    *, session: Session, account: str, address: str, limits: SignInLimits, now: datetime
) -> Refusal | None:
    """Whether a try for ``account`` from ``address`` is refused now, and for how long."""
    since = now - limits.window
    lockout = int(limits.window.total_seconds())
    mine = SignInFailure.kind == limits.kind, SignInFailure.at >= since
    if _count(session, *mine, SignInFailure.address == address) >= limits.per_address:
        return Refusal("address", lockout)
    pair = SignInFailure.address == address, SignInFailure.account == account
    if _count(session, *mine, *pair) >= limits.per_account_address:
        return Refusal("account", lockout)
    if not limits.delay_after or _known_address(session, account, address, now):
        return None
    failures, last = session.execute(
        select(func.count(SignInFailure.id), func.max(SignInFailure.at)).where(
            *mine, SignInFailure.account == account
        )
    ).one()
    wait = delay(limits, int(failures or 0))
    if last is None or not wait:
        return None
    if last.tzinfo is None:  # SQLite's aggregate skips the column's type
        last = last.replace(tzinfo=now.tzinfo)
    left = (last + wait - now).total_seconds()
    return Refusal("slowed", math.ceil(left)) if left > 0 else None


def record_failure(
    *, session: Session, account: str, address: str, limits: SignInLimits, now: datetime
) -> Refusal | None:
    """Count one failed try; the lockout or slowdown it starts, if it reaches a limit, is
    audited and returned."""
    mine = SignInFailure.kind == limits.kind
    session.add(SignInFailure(kind=limits.kind, account=account[:64], address=address[:64], at=now))
    session.flush()
    found = refusal(session=session, account=account, address=address, limits=limits, now=now)
    minutes = limits.window // _MINUTE
    if found is not None and found.by != "slowed":
        # later tries are refused before they count: this runs once per lockout
        _audit(
            session,
            "lockout",
            limits,
            account,
            {"address": address, "by": found.by, "minutes": minutes},
        )
    elif limits.delay_after:
        window = mine, SignInFailure.at >= now - limits.window, SignInFailure.account == account
        if _count(session, *window) == limits.delay_after:  # the failure that starts it
            addresses = session.scalar(
                select(func.count(func.distinct(SignInFailure.address))).where(*window)
            )
            _audit(
                session,
                "slowdown",
                limits,
                account,
                {
                    "addresses": int(addresses or 0),
                    "failures": limits.delay_after,
                    "minutes": minutes,
                },
            )
    return found


def forget_failures(*, session: Session, account: str, address: str) -> None:
    """A sign-in succeeded: the failures of this account from this address are forgiven."""
    session.execute(
        delete(SignInFailure).where(
            SignInFailure.kind == "sign_in",
            SignInFailure.account == account,
            SignInFailure.address == address,
        )
    )


_MINUTE = timedelta(minutes=1)


def _audit(session: Session, what: str, limits: SignInLimits, account: str, after: dict) -> None:
    prefix = "auth" if limits.kind == "sign_in" else f"auth.{limits.kind}"
    session.add(
        AuditLog(
            user_id=None,
            action=f"{prefix}.{what}",
            entity="sign_in",
            entity_id=account[:64],
            after=after,
        )
    )


def _known_address(session: Session, account: str, address: str, now: datetime) -> bool:
    """Whether ``account`` signed in from ``address`` within ``KEEP`` (30 days)."""
    found = session.scalar(
        select(UserSession.id)
        .join(User, User.id == UserSession.user_id)
        .where(
            func.lower(User.username) == account,
            UserSession.address == address,
            UserSession.last_seen_at >= now - KEEP,
        )
        .limit(1)
    )
    return found is not None


def _count(session: Session, *where: ColumnElement[bool]) -> int:
    return int(session.scalar(select(func.count(SignInFailure.id)).where(*where)) or 0)
