"""GET /issues, GET /issues/{id}, POST /issues/{id}/rollback, /feedback and /false-positive."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from ..config.service import lock_audit
from ..deps import Ctx, Operator, ReadConn, Viewer
from ..errors import error_responses
from ..feedback import service as feedback
from ..feedback.schemas import FalsePositiveIn, FeedbackIn, FeedbackOut
from ..query_params import parse_query, query_parameters
from ..strategies import service as strategies
from . import service
from .schemas import CommandAcceptedIssue, IssueDetail, IssuePage, IssueQuery, RollbackRequest

router = APIRouter(prefix="/issues", tags=["issues"], responses=error_responses(401, 403, 422))

IssueId = Annotated[str, Path(min_length=1, max_length=200, description="Issue id.")]


@router.get(
    "",
    response_model=IssuePage,
    summary="Issues, newest first, with filters and cursor pagination",
    openapi_extra={"parameters": query_parameters(IssueQuery)},
)
async def list_issues(request: Request, ctx: Ctx, _p: Viewer) -> Response:
    """A page of issues; follow `next_cursor` for the next one."""
    query = parse_query(IssueQuery, request)
    filters = service.IssueFilter(
        status=tuple(s.value for s in query.status),
        severity=tuple(s.value for s in query.severity),
        issue_type=tuple(t.value for t in query.issue_type),
        target=query.target,
        since=query.since,
        until=query.until,
    )
    # The hottest read: serialized once, not re-validated against the response model on the way out.
    body = await service.list_issues_json(
        engine=ctx.read_engine,
        pool=ctx.read_pool,
        schema=ctx.runtime.store.schema,
        filters=filters,
        limit=query.limit,
        cursor=query.cursor,
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
