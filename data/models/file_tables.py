"""The bytes of ticket attachments, in the database every web process and worker reads
(docs/architecture.md, "Attachments"): one row per ``attachments`` row, apart from it so a
ticket's list of files never loads their contents."""

from __future__ import annotations

from sqlalchemy import ForeignKey, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from data.models.base import Base


class AttachmentBlob(Base):
    """One attachment's content (at most ``PDM_ATTACHMENT_MAX_MB``, 100 MB at the most:
    PostgreSQL's ``bytea`` takes 1 GB, SQLite's blob 1,000,000,000 bytes)."""

    __tablename__ = "attachment_blobs"

    attachment_id: Mapped[int] = mapped_column(
        ForeignKey("attachments.id", ondelete="CASCADE"), primary_key=True
    )
    data: Mapped[bytes] = mapped_column(LargeBinary)
