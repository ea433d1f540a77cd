"""HTTP routes of the banks: `/v1/banks`."""

from __future__ import annotations

import io
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from haven.banks import service
from haven.banks.formats import EntryIn, dump, rows
from haven.banks.models import Bank, BankEntry
from haven.banks.schemas import (
    BankCreate,
    BankOut,
    BankUpdate,
    EntriesAdd,
    EntriesAdded,
    EntryOut,
    EntryPatch,
)
from haven.core.auth import Principal
from haven.core.errors import Invalid, NotFound
from haven.core.web import SessionDep, require_scope

router = APIRouter(prefix="/v1/banks", tags=["banks"])
Reader = Annotated[Principal, Depends(require_scope("banks:read"))]
Writer = Annotated[Principal, Depends(require_scope("banks:write"))]


def _out(bank: Bank, entries: int) -> BankOut:
    return BankOut(
        id=bank.id,
        name=bank.name,
        kind=bank.kind,
        description=bank.description,
        default_classification=bank.default_classification,
        pdq_threshold=bank.pdq_threshold,
        enabled=bank.enabled,
        robustness=bank.robustness,
        provenance=bank.provenance,
        entries=entries,
        created_at=bank.created_at,
        updated_at=bank.updated_at,
    )


def _entry_out(e: BankEntry) -> EntryOut:
    return EntryOut(
        id=e.id,
        bank_id=e.bank_id,
        signal_type=e.signal_type,
        value=e.value,
        classification=e.classification,
        source_ref=e.source_ref,
        added_by=e.added_by,
        created_at=e.created_at,
        enabled=e.enabled,
        quarantined_at=e.quarantined_at,
        quarantine_reason=e.quarantine_reason,
    )


def _refresh(request: Request) -> None:
    """Apply the change to this process's index at once; other processes follow within seconds."""
    request.app.state.matcher.refresh()


@router.get("", response_model=list[BankOut])
def list_banks(session: SessionDep, _: Reader) -> list[BankOut]:
    return [_out(b, n) for b, n in service.list_banks(session)]


@router.post("", response_model=BankOut, status_code=201)
def create_bank(body: BankCreate, session: SessionDep, principal: Writer) -> BankOut:
    bank = service.create_bank(session, actor=principal.actor, **body.model_dump())
    session.commit()  # before the response: the dependency's commit may run after the client's next request
    return _out(bank, 0)


@router.get("/{bank}", response_model=BankOut)
def get_bank(bank: str, session: SessionDep, _: Reader) -> BankOut:
    b = service.get_bank(session, bank)
    counts = dict((x.id, n) for x, n in service.list_banks(session))
    return _out(b, counts.get(b.id, 0))


@router.patch("/{bank}", response_model=BankOut)
def update_bank(bank: str, body: BankUpdate, request: Request, session: SessionDep, principal: Writer) -> BankOut:
    b = service.get_bank(session, bank)
    service.update_bank(session, b, body.model_dump(exclude_unset=True), actor=principal.actor)
    session.commit()
    _refresh(request)
    counts = dict((x.id, n) for x, n in service.list_banks(session))
    return _out(b, counts.get(b.id, 0))


@router.delete("/{bank}", status_code=204)
def delete_bank(bank: str, request: Request, session: SessionDep, principal: Writer) -> Response:
    service.delete_bank(session, service.get_bank(session, bank), actor=principal.actor)
    session.commit()
    _refresh(request)
    return Response(status_code=204)


@router.post("/{bank}/entries", response_model=EntriesAdded, status_code=201)
def add_entries(bank: str, body: EntriesAdd, request: Request, session: SessionDep, principal: Writer) -> EntriesAdded:
    b = service.get_bank(session, bank)
    ids = service.add_entries(session, b, [EntryIn(**e.model_dump()) for e in body.entries], actor=principal.actor)
    session.commit()
    _refresh(request)
    return EntriesAdded(added=len(ids), ids=ids)


@router.get("/{bank}/entries", response_model=list[EntryOut])
def list_entries(
    bank: str,
    session: SessionDep,
    _: Reader,
    after: Annotated[str | None, Query(max_length=26)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[EntryOut]:
    from sqlalchemy import select

    b = service.get_bank(session, bank)
    q = select(BankEntry).where(BankEntry.bank_id == b.id, BankEntry.variant_of.is_(None))
    if after:
        q = q.where(BankEntry.id > after)
    return [_entry_out(e) for e in session.scalars(q.order_by(BankEntry.id).limit(limit))]


@router.patch("/{bank}/entries/{entry_id}", response_model=EntryOut)
def patch_entry(
    bank: str, entry_id: str, body: EntryPatch, request: Request, session: SessionDep, principal: Writer
) -> EntryOut:
    b = service.get_bank(session, bank)
    entry = service.get_entry(session, entry_id)
    if entry.bank_id != b.id:
        raise NotFound(f"entry '{entry_id}' is not in bank '{bank}'", code="entry_not_found")
    if body.enabled is not None:
        service.set_entry_enabled(session, entry, body.enabled, actor=principal.actor)
    if body.release_quarantine:
        service.release_entry(session, entry, actor=principal.actor)
    session.commit()
    _refresh(request)
    return _entry_out(entry)


@router.get("/{bank}/export")
def export_bank(bank: str, request: Request, _: Reader, format: Literal["csv", "jsonl"] = "csv") -> StreamingResponse:
    db = request.app.state.db
    with db.sessions() as s:
        b = service.get_bank(s, bank)
        lines = list(dump(service.iter_entries(s, b), format))
    media = "text/csv" if format == "csv" else "application/x-ndjson"
    return StreamingResponse(
        iter(lines), media_type=media, headers={"Content-Disposition": f'attachment; filename="{b.name}.{format}"'}
    )


@router.post("/{bank}/import", response_model=EntriesAdded, status_code=201)
async def import_entries(
    bank: str, request: Request, principal: Writer, format: Literal["csv", "jsonl"] = "csv"
) -> EntriesAdded:
    """Import a CSV (`signal_type,value,classification,source_ref` with a header) or JSON lines
    sent as the request body. All-or-nothing: one bad line rejects the file with every problem."""

    body = await request.body()
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("the file is not UTF-8 text", code="invalid_encoding") from None
    db = request.app.state.db
    with db.session() as s:  # parsed lazily, imported batch by batch in one transaction
        b = service.get_bank(s, bank)
        ids = service.import_rows(s, b, rows(io.StringIO(text), format), actor=principal.actor).ids
    _refresh(request)
    return EntriesAdded(added=len(ids), ids=ids)
