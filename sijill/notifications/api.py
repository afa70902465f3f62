"""Notifications API: the time limit of index notices and the outbox's state (operators), and a
citizen's own notices."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from sijill.accounts.auth import AUTH
from sijill.core.api import ErrorOut
from sijill.notifications import selectors
from sijill.notifications.models import Notification

router = Router(tags=["notifications"], auth=AUTH)
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut,
          422: ErrorOut}

State = Literal["on_time", "late", "pending", "at_risk", "missed"]


class DeadlineQuery(Schema):
    state: list[State] = Field(["at_risk", "missed"],
                               description="States to list (repeat the parameter).")
    limit: int = Field(500, ge=1, le=5000)


class DeadlineOut(Schema):
    reference: str
    status: str
    registered_at: datetime
    deadline: datetime
    days_left: float
    notice_sent_at: datetime | None
    state: str


class DeadlinesOut(Schema):
    limit_days: int
    items: list[DeadlineOut]


@router.get("/notifications/deadlines", response={200: DeadlinesOut, **ERRORS},
            summary="Registrations at risk of missing the index notice's time limit, or missed")
def deadlines(request: HttpRequest, query: Query[DeadlineQuery]):  # type: ignore[no-untyped-def]
    rows = selectors.notice_deadlines_read(actor=request.auth,  # type: ignore[attr-defined]
                                           states=tuple(query.state), limit=query.limit)
    return DeadlinesOut(limit_days=selectors.conf.notice_limit_days(), items=[
        DeadlineOut(reference=r.reference, status=r.status, registered_at=r.registered_at,
                    deadline=r.deadline, days_left=round(r.days_left, 2),
                    notice_sent_at=r.notice_sent_at, state=r.state) for r in rows])


class OutboxCountOut(Schema):
    channel: str
    status: str
    count: int


@router.get("/notifications/outbox", response={200: list[OutboxCountOut], **ERRORS},
            summary="The outbox in figures: notices by channel and status")
def outbox(request: HttpRequest):  # type: ignore[no-untyped-def]
    return [OutboxCountOut(**row) for row in
            selectors.outbox_counts(actor=request.auth)]  # type: ignore[attr-defined]


class NoticeOut(Schema):
    id: int
    kind: str
    channel: str
    reference: str
    language: str
    subject: str
    body: str
    status: str
    created_at: datetime
    sent_at: datetime | None

    @staticmethod
    def of(n: Notification) -> NoticeOut:
        return NoticeOut(id=n.pk, kind=n.kind, channel=n.channel, reference=n.reference,
                         language=n.language, subject=n.subject, body=n.body, status=n.status,
                         created_at=n.created_at, sent_at=n.sent_at)


@router.get("/me/notices", response={200: list[NoticeOut], **ERRORS},
            summary="The signed-in citizen's notices (to them or to their household)")
def my_notices(request: HttpRequest):  # type: ignore[no-untyped-def]
    return [NoticeOut.of(n) for n in
            selectors.notices_of_citizen(actor=request.auth)]  # type: ignore[attr-defined]
