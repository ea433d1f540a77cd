"""HTTP routes of finance: `POST /v1/transactions` and `POST /v1/transactions/batch`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from haven.core.auth import Principal, is_test_mode
from haven.core.errors import HavenError
from haven.core.web import require_scope
from haven.finance import review as _task_panel  # noqa: F401  (registers the money trail on the task page)
from haven.finance import service
from haven.finance.lists import lists
from haven.finance.rules import active
from haven.finance.schemas import BatchIn, TransactionIn, TransactionOut
from haven.finance.settings import get_finance_settings
from haven.intake import idempotency

router = APIRouter(prefix="/v1", tags=["finance"])
Intake = Annotated[Principal, Depends(require_scope("intake"))]

_ERRORS: dict[int | str, dict[str, Any]] = {
    409: {"description": "external_id (or Idempotency-Key) already used for a different transaction"},
    422: {"description": "invalid amount, unknown currency or country, future occurred_at ..."},
}


def _screen_one(request: Request, principal: Principal, body: TransactionIn) -> dict[str, Any]:
    settings = get_finance_settings()
    rules = active(settings.rules_file, settings.windows)
    db = request.app.state.db
    for attempt in range(3):
        try:
            with db.session() as s:
                return service.screen(
                    s,
                    body,
                    integration_id=principal.integration_id,
                    actor=principal.actor,
                    rules=rules,
                    lists=lists(),
                    settings=settings,
                    test=is_test_mode(principal),
                )
        except IntegrityError:
            # A concurrent twin (same external_id) or a concurrent first sight of an account
            # committed first: this attempt wrote nothing; the next one finds what it wrote.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


@router.post("/transactions", response_model=TransactionOut, responses=_ERRORS)
def screen_transaction(body: TransactionIn, request: Request, principal: Intake) -> dict[str, Any] | JSONResponse:
    """Screen one payment before it goes through: `approve`, `review` (approve, a person looks),
    `hold` (keep it until a person decides) or `decline`, with the rules and indicators behind it.

    Idempotent on `external_id` (a retry gets the first answer, nothing is counted twice); an
    `Idempotency-Key` header works as on the other intake routes."""
    at = None
    if request.headers.get(idempotency.HEADER) is not None:
        at = idempotency.attempt(request, principal, "transactions", body.model_dump_json().encode())
        if (stored := idempotency.replay(request.app.state.db, at)) is not None:
            return stored
    answer = _screen_one(request, principal, body)
    if at is not None:
        try:
            with request.app.state.db.session() as s:
                idempotency.remember(s, at, answer)
        except IntegrityError:
            pass  # a twin stored the same answer (same external_id, same body)
    # Encoded here: the answer is built by the service in TransactionOut's shape, so FastAPI's
    # second validation and encoding of it (about a tenth of the request's CPU) is skipped.
    return JSONResponse(answer)


@router.post("/transactions/batch", responses=_ERRORS)
def screen_batch(body: BatchIn, request: Request, principal: Intake) -> dict[str, Any]:
    """Up to 500 payments in order, each screened (and committed) on its own: one bad item
    answers with its error and does not stop the others."""
    results: list[dict[str, Any]] = []
    for i, tx in enumerate(body.transactions):
        try:
            results.append({"index": i, **_screen_one(request, principal, tx)})
        except HavenError as exc:
            results.append({"index": i, "external_id": tx.external_id, **exc.to_dict()})
    return {"results": results}
