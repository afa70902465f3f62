"""The citizen's view of the audit trail (/api/v1/me/accesses)."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from sijill.accounts.auth import AUTH
from sijill.audit.selectors import MAX_ACCESSES
from sijill.audit.services import accesses_read
from sijill.core.api import ErrorOut

router = Router(tags=["audit"], auth=AUTH)


class AccessOut(Schema):
    seq: int = Field(description="Position in the audit trail; pass as before_seq to page.")
    at: datetime
    action: str = Field(description="read, read_history, update, compute, verify_identity…")
    entity: str = Field(description="person, household, score, program…")
    role: str = Field(description="Role of who accessed: agent, program, partner, system…")
    organisation: str = Field(description="Service centre, administration or program; "
                                          "never a staff member's name.")
    purpose: str


class AccessesQuery(Schema):
    before_seq: int | None = Field(None, ge=1)
    limit: int = Field(50, ge=1, le=MAX_ACCESSES)


@router.get("/me/accesses", response={200: list[AccessOut], **{
                code: ErrorOut for code in (400, 401, 403, 404, 409, 422, 429)}},
            summary="Who accessed my data, when and why (newest first)")
def my_accesses(request: HttpRequest, q: Query[AccessesQuery]):  # type: ignore[no-untyped-def]
    accesses = accesses_read(actor=request.auth,  # type: ignore[attr-defined]
                             before_seq=q.before_seq, limit=q.limit)
    return [AccessOut(**vars(a)) for a in accesses]
