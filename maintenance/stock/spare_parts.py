"""Spare parts: the inventory (stock, minimum stock, machine types), parts used on tickets
(taken from stock, audited) and the low-stock list managers are warned about."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import (
    AuditLog,
    Machine,
    Part,
    Ticket,
    TicketPart,
    TicketStatus,
    User,
    utcnow,
)
from maintenance.people.accounts import UserInfo
from maintenance.people.permissions import Action, allowed
from maintenance.ticketing.ticket_flow import may_change

__all__ = [
    "PartError",
    "PartRow",
    "UsedPart",
    "list_parts",
    "low_stock",
    "TicketParts",
    "parts_for_ticket",
    "ticket_parts",
    "save_part",
    "use_parts",
    "used_on_ticket",
]


class PartError(ValueError):
    """Bad part data or a use that cannot be taken from stock; ``field`` names the input."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class PartRow:
    id: int
    number: str
    name: str
    unit: str
    stock: int
    min_stock: int
    machine_types: list[str]

    @property
    def low(self) -> bool:
        return self.stock <= self.min_stock if self.min_stock else self.stock <= 0


@dataclass(frozen=True, slots=True)
class UsedPart:
    number: str
    name: str
    quantity: int
    unit: str
    user: str
    used_at: datetime


def _row(p: Part) -> PartRow:
    return PartRow(p.id, p.number, p.name, p.unit, p.stock, p.min_stock, list(p.machine_types))


def list_parts(*, session: Session, machine_type: str | None = None) -> list[PartRow]:
    """Every part by number; with ``machine_type``, those linked to it (or to no type)."""
    rows = [_row(p) for p in session.scalars(select(Part).order_by(Part.number))]
    if machine_type is None:
        return rows
    return [r for r in rows if not r.machine_types or machine_type in r.machine_types]


def low_stock(session: Session) -> list[PartRow]:
    """Parts at or below their minimum stock (or out of stock): managers are warned."""
    return [r for r in list_parts(session=session) if r.low]


def _count(value: object, field: str, label: str) -> int:
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        raise PartError(f"{label} must be a whole number.", field) from None
    if n < 0:
        raise PartError(f"{label} cannot be negative.", field)
    return n


def save_part(
    *,
    session: Session,
    user: UserInfo,
    number: str,
    name: str,
    stock: object,
    min_stock: object,
    unit: str = "pcs",
    machine_types: list[str] | None = None,
    part_id: int | None = None,
) -> PartRow:
    """Create a part or change one (a stock change is an audited adjustment)."""
    if not allowed(user.role, Action.PART_EDIT):
        raise PartError("Only managers and admins may change the inventory.")
    number, name, unit = (number or "").strip(), (name or "").strip(), (unit or "pcs").strip()
    if not number or len(number) > 64:
        raise PartError("A part number is required (at most 64 characters).", "number")
    if not name or len(name) > 200:
        raise PartError("A name is required (at most 200 characters).", "name")
    stock_n = _count(stock, "stock", "Stock")
    min_n = _count(min_stock, "min_stock", "Minimum stock")
    clash = session.scalar(select(Part.id).where(Part.number == number))
    if clash is not None and clash != part_id:
        raise PartError(f"Part number {number} already exists.", "number")
    part = session.get(Part, part_id) if part_id else Part()
    if part is None:
        raise PartError(f"Part #{part_id} does not exist.")
    before = _snapshot(part) if part_id else None
    part.number, part.name, part.unit = number, name, unit[:16] or "pcs"
    part.stock, part.min_stock = stock_n, min_n
    part.machine_types = sorted({t.strip() for t in machine_types or [] if t.strip()})
    session.add(part)
    session.flush()
    action = "part.create" if before is None else "part.update"
    if before is not None and before["stock"] != stock_n:
        action = "part.stock"
    _audit(session, user.id, action, part, before)
    return _row(part)


def _snapshot(part: Part) -> dict:
    return {
        "number": part.number,
        "name": part.name,
        "stock": part.stock,
        "min_stock": part.min_stock,
        "machine_types": list(part.machine_types or []),
    }


def _audit(session: Session, user_id: int, action: str, part: Part, before: dict | None) -> None:
    session.add(
        AuditLog(
            user_id=user_id,
            action=action,
            entity="part",
            entity_id=str(part.id),
            before=before,
            after=_snapshot(part),
        )
    )


def use_parts(
    *, session: Session, ticket_id: int, user: UserInfo, items: list[tuple[int, int]]
) -> list[UsedPart]:
    """Take parts from stock for a ticket, all or none: the caller's transaction (e.g. the
    resolution) fails with a clear message when more is asked than is in stock."""
    if not allowed(user.role, Action.TICKET_USE_PARTS):
        raise PartError("Only technicians, managers and admins record parts.")
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise PartError(f"Ticket #{ticket_id} does not exist.")
    if not may_change(ticket=ticket, user=user):
        raise PartError("You may only record parts on tickets assigned to you.")
    if ticket.status is not TicketStatus.IN_PROGRESS:
        raise PartError("Parts are recorded while the ticket is in progress.")
    wanted: dict[int, int] = {}
    for part_id, qty in items:
        n = _count(qty, "quantity", "Quantity")
        if n:
            wanted[int(part_id)] = wanted.get(int(part_id), 0) + n
    if not wanted:
        raise PartError("Give a quantity of at least 1.", "quantity")
    parts = {
        p.id: p for p in session.scalars(select(Part).where(Part.id.in_(wanted)).with_for_update())
    }
    for part_id, n in wanted.items():
        part = parts.get(part_id)
        if part is None:
            raise PartError(f"Part #{part_id} does not exist.", "part")
        kind = ticket.machine.type
        if part.machine_types and kind not in part.machine_types:
            raise PartError(
                f"{part.number} ({part.name}) fits {', '.join(part.machine_types)}, "
                f"not this {kind}.",
                "part",
            )
        if n > part.stock:
            raise PartError(
                f"Only {part.stock} {part.unit} of {part.number} ({part.name}) in stock; "
                f"{n} asked.",
                "quantity",
            )
    now = utcnow()
    for part_id, n in wanted.items():
        part = parts[part_id]
        part.stock -= n
        session.add(
            TicketPart(
                ticket_id=ticket_id, part_id=part_id, quantity=n, used_by=user.id, used_at=now
            )
        )
        session.add(
            AuditLog(
                user_id=user.id,
                action="ticket.part",
                entity="ticket",
                entity_id=str(ticket_id),
                after={"part": part.number, "quantity": n, "stock_left": part.stock},
            )
        )
    session.flush()
    return used_on_ticket(session=session, ticket_id=ticket_id)


def used_on_ticket(*, session: Session, ticket_id: int) -> list[UsedPart]:
    """The parts taken from stock for one ticket, oldest first."""
    rows = session.execute(
        select(TicketPart, Part, User.username)
        .join(Part, Part.id == TicketPart.part_id)
        .outerjoin(User, User.id == TicketPart.used_by)
        .where(TicketPart.ticket_id == ticket_id)
        .order_by(TicketPart.id)
    )
    return [
        UsedPart(p.number, p.name, tp.quantity, p.unit, name or "system", tp.used_at)
        for tp, p, name in rows
    ]


def parts_for_ticket(*, session: Session, ticket_id: int) -> list[PartRow]:
    """Parts that fit the ticket's machine type (and untyped ones), for the picker."""
    machine_type = session.scalar(
        select(Machine.type)
        .join(Ticket, Ticket.machine_id == Machine.id)
        .where(Ticket.id == ticket_id)
    )
    return list_parts(session=session, machine_type=machine_type or "")


@dataclass(frozen=True, slots=True)
class TicketParts:
    used: list[UsedPart]
    choices: list[PartRow]  # parts fitting the machine's type
    can_record: bool  # the user works on it and it is in progress


def ticket_parts(*, session: Session, ticket_id: int, user: UserInfo) -> TicketParts:
    """What the ticket page's parts card shows to ``user``."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return TicketParts([], [], False)
    can = (
        allowed(user.role, Action.TICKET_USE_PARTS)
        and ticket.status is TicketStatus.IN_PROGRESS
        and may_change(ticket=ticket, user=user)
    )
    used = used_on_ticket(session=session, ticket_id=ticket_id)
    return TicketParts(used, parts_for_ticket(session=session, ticket_id=ticket_id), can)
