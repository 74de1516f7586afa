"""Sign-in throttling that stops guessing, not owners. Failed sign-ins are counted per
account from one address and per address, in the database, so every web process shares
them and a restart forgets nothing. An account attacked from one address stays open to its
owner elsewhere: nobody can lock anybody else out. Each lockout is audited once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from data.models import AuditLog, SignInFailure

__all__ = ["SignInLimits", "refusal", "record_failure", "forget_failures"]


@dataclass(frozen=True, slots=True)
class SignInLimits:
    """Failures allowed within ``window``: for one account from one address, and from one
    address over all accounts."""

    per_account_address: int
    per_address: int
    window: timedelta


def refusal(
    *, session: Session, account: str, address: str, limits: SignInLimits, now: datetime
) -> str | None:
    """Why a sign-in to ``account`` from ``address`` is refused now ("address": too many
    failures from there; "account": too many for this account from there), or None."""
    since = now - limits.window
    from_there = SignInFailure.address == address, SignInFailure.at >= since
    if _count(session, *from_there) >= limits.per_address:
        return "address"
    if _count(session, *from_there, SignInFailure.account == account) >= (
        limits.per_account_address
    ):
        return "account"
    return None


def record_failure(
    *, session: Session, account: str, address: str, limits: SignInLimits, now: datetime
) -> str | None:
    """Count one failed sign-in (forgetting those past the window); the refusal it starts,
    if it reaches a limit, is audited and returned."""
    session.execute(delete(SignInFailure).where(SignInFailure.at < now - limits.window))
    session.add(SignInFailure(account=account[:64], address=address[:64], at=now))
    session.flush()
    locked = refusal(session=session, account=account, address=address, limits=limits, now=now)
    if locked is not None:  # later tries are refused before they count: this runs once
        session.add(
            AuditLog(
                user_id=None,
                action="auth.lockout",
                entity="sign_in",
                entity_id=account[:64],
                after={"address": address, "by": locked, "minutes": limits.window // _MINUTE},
            )
        )
    return locked


def forget_failures(*, session: Session, account: str, address: str) -> None:
    """A sign-in succeeded: the failures of this account from this address are forgiven."""
    session.execute(
        delete(SignInFailure).where(
            SignInFailure.account == account, SignInFailure.address == address
        )
    )


_MINUTE = timedelta(minutes=1)


def _count(session: Session, *where: ColumnElement[bool]) -> int:
    return int(session.scalar(select(func.count(SignInFailure.id)).where(*where)) or 0)
