"""Tables of intake: the answers kept for `Idempotency-Key` retries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from haven.core.clock import now
from haven.core.db import Base, UTCDateTime


class IdempotentAnswer(Base):
    """The answer given to one `Idempotency-Key` of one integration on one route, committed in
    the same transaction as what the request created (so a retry never creates a second record,
    and an answer is never kept for a request whose work was rolled back)."""

    __tablename__ = "idempotency_keys"

    integration_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    route: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    #: SHA-256 of the request as parsed (the file's bytes and the metadata, or the JSON body).
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)
