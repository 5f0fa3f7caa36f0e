"""GET /issues, GET /issues/{id}, POST /issues/{id}/rollback, /feedback and /false-positive."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from medic_contracts import IssueType, Severity

from ..config.service import lock_audit
from ..deps import Ctx, Operator, ReadConn, Viewer
from ..errors import error_responses
from ..feedback import service as feedback
from ..feedback.schemas import FalsePositiveIn, FeedbackIn, FeedbackOut
from ..strategies import service as strategies
from . import service
from .lifecycle import IssueStatus
from .schemas import CommandAcceptedIssue, IssueDetail, IssuePage, RollbackRequest

router = APIRouter(prefix="/issues", tags=["issues"], responses=error_responses(401, 403, 422))

IssueId = Annotated[str, Path(min_length=1, max_length=200, description="Issue id.")]


@router.get("", response_model=IssuePage, summary="Issues, newest first, with filters and cursor pagination")
async def list_issues(
    *,
    ctx: Ctx,
    _p: Viewer,
    status: Annotated[list[IssueStatus] | None, Query(description="Statuses (repeat for several).")] = None,
    severity: Annotated[list[Severity] | None, Query(description="Severities (repeat for several).")] = None,
    issue_type: Annotated[list[IssueType] | None, Query(alias="type", description="Issue types (repeat for several).")] = None,
    target: Annotated[str | None, Query(max_length=200, description="Target application.")] = None,
    since: Annotated[datetime | None, Query(description="Detected at or after (ISO 8601).")] = None,
    until: Annotated[datetime | None, Query(description="Detected before (ISO 8601).")] = None,
    cursor: Annotated[str | None, Query(max_length=500, description="`next_cursor` of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Page size.")] = 50,
) -> Response:
    """A page of issues; follow `next_cursor` for the next one."""
    filters = service.IssueFilter(
        status=tuple(s.value for s in status or ()),
        severity=tuple(s.value for s in severity or ()),
        issue_type=tuple(t.value for t in issue_type or ()),
        target=target,
        since=since,
        until=until,
    )
    # The hottest read: serialized once, not re-validated against the response model on the way out.
    body = await service.list_issues_json(
        engine=ctx.read_engine,
        pool=ctx.read_pool,
        schema=ctx.runtime.store.schema,
        filters=filters,
        limit=limit,
        cursor=cursor,
    )
    return Response(body, media_type="application/json")


@router.get(
    "/{issue_id}", response_model=IssueDetail, summary="One issue with its whole timeline", responses=error_responses(404)
)
async def get_issue(issue_id: IssueId, conn: ReadConn, _p: Viewer) -> IssueDetail:
    """Diagnosis, diff, tests, deployments, approvals, feedback and every audited action."""
    return await service.get_issue(conn, issue_id=issue_id)


@router.post(
    "/{issue_id}/rollback",
    response_model=CommandAcceptedIssue,
    summary="Roll back the issue's deployed fix",
    responses=error_responses(404, 409, 429),
)
async def rollback(issue_id: IssueId, body: RollbackRequest, ctx: Ctx, principal: Operator) -> CommandAcceptedIssue:
    """Broadcast a `rollback` ControlCommand for the releaser."""
    async with ctx.runtime.transaction() as tx:
        return await service.request_rollback(tx, issue_id=issue_id, reason=body.reason, principal=principal)


@router.post(
    "/{issue_id}/feedback",
    response_model=FeedbackOut,
    status_code=201,
    summary="Rate how Medic handled the issue",
    responses=error_responses(404, 429),
)
async def post_feedback(issue_id: IssueId, body: FeedbackIn, ctx: Ctx, principal: Operator) -> FeedbackOut:
    """Store a 1–5 rating with a comment (operators and admins); it moves the confidence of the fix's strategy."""
    async with ctx.runtime.transaction() as tx:
        await lock_audit(tx)
        await service.require_issue(tx.conn, issue_id=issue_id)
        recorded = await feedback.record(tx.conn, issue_id=issue_id, body=body, principal=principal)
        await strategies.feedback_given(
            tx, issue_id=issue_id, feedback_id=recorded.id, rating=body.rating, comment=body.comment, principal=principal
        )
        return recorded


@router.post(
    "/{issue_id}/false-positive",
    response_model=CommandAcceptedIssue,
    summary="Mark the issue as a false positive (or clear the mark)",
    responses=error_responses(404, 429),
)
async def mark_false_positive(issue_id: IssueId, body: FalsePositiveIn, ctx: Ctx, principal: Operator) -> CommandAcceptedIssue:
    """Store the verdict, broadcast a `feedback` ControlCommand with `false_positive`; feeds the weekly review."""
    async with ctx.runtime.transaction() as tx:
        command = await feedback.mark_false_positive(tx, issue_id=issue_id, body=body, principal=principal)
    return CommandAcceptedIssue(command=command.command.value, event_id=command.event_id, issue_id=issue_id)
