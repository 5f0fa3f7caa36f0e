"""GET /actions (the audit trail), the chain's head and verification, the Merkle tree's checkpoints and proofs."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from ..deps import Ctx, Operator, ReadConn, Viewer
from ..errors import NotFound, Unprocessable, error_responses
from . import service, tree
from .checkpoint import Checkpoint, key_id, public_key_b64
from .keys import public_pem
from .schemas import (
    ActionOut,
    ActionPage,
    AuditHead,
    AuditKey,
    AuditVerification,
    CheckpointOut,
    ConsistencyProofOut,
    InclusionProofOut,
)

router = APIRouter(tags=["audit"], responses=error_responses(401, 403, 422))


@router.get("/actions", response_model=ActionPage, summary="The audit trail, newest first, with filters")
async def list_actions(
    *,
    conn: ReadConn,
    _p: Viewer,
    issue_id: Annotated[str | None, Query(max_length=200, description="Only this issue's entries.")] = None,
    action: Annotated[str | None, Query(max_length=200, description="Step name, or a prefix such as `deployment`.")] = None,
    service_name: Annotated[str | None, Query(alias="service", max_length=200, description="Producing service.")] = None,
    status: Annotated[str | None, Query(pattern="^(started|succeeded|failed|refused|skipped)$", description="Status.")] = None,
    since: Annotated[datetime | None, Query(description="Occurred at or after (ISO 8601).")] = None,
    until: Annotated[datetime | None, Query(description="Occurred before (ISO 8601).")] = None,
    before: Annotated[int | None, Query(ge=1, le=2**62, description="Cursor: entries with a smaller seq.")] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Page size.")] = 100,
) -> ActionPage:
    """Audit entries matching the filters; follow `next_before` for older ones."""
    filters = service.ActionFilter(
        issue_id=issue_id, action=action, service=service_name, status=status, since=since, until=until, before_seq=before
    )
    rows = await service.list_actions(conn, filters=filters, limit=limit)
    items = [ActionOut.model_validate(r, from_attributes=True) for r in rows]
    return ActionPage(items=items, next_before=items[-1].seq if len(items) == limit else None)


@router.get("/audit/head", response_model=AuditHead, summary="The audit chain's head hash")
async def audit_head(conn: ReadConn, _p: Viewer) -> AuditHead:
    """The last entry's seq and hash: export it to detect later truncation."""
    seq, digest = await service.head(conn)
    return AuditHead(seq=seq, hash=digest)


@router.get("/audit/verify", response_model=AuditVerification, summary="Recompute the audit chain")
async def audit_verify(
    conn: ReadConn,
    _p: Operator,
    ctx: Ctx,
    expected_head: Annotated[str | None, Query(pattern="^[0-9a-f]{64}$", description="A head hash exported earlier.")] = None,
    checkpoint: Annotated[
        list[str] | None,
        Query(description="Signed checkpoints saved earlier (JSON each): truncation and rewrites show."),
    ] = None,
) -> AuditVerification:
    """Recompute every hash and the Merkle tree; name the first entry that is edited, missing, out of place or rewritten."""
    try:
        checkpoints = [Checkpoint.from_json(json.loads(text)) for text in checkpoint or ()]
    except ValueError as exc:
        raise Unprocessable(f"not a checkpoint: {exc}") from None
    if checkpoints and ctx.audit_key is None:
        raise NotFound("the audit signing key is not loaded yet")
    public = ctx.audit_key.public_key() if ctx.audit_key is not None else None
    report = await service.verify(conn, expected_head=expected_head, checkpoints=checkpoints, public_key=public)
    return AuditVerification(
        ok=report.ok,
        rows=report.rows,
        head_seq=report.head_seq,
        head_hash=report.head_hash,
        first_bad_seq=report.first_bad_seq,
        first_bad_event_id=report.first_bad_event_id,
        problem=report.problem,
        tree_size=report.tree_size,
        root_hash=report.root_hash,
    )


@router.get("/audit/key", response_model=AuditKey, summary="The public key audit checkpoints are signed with")
async def audit_key(ctx: Ctx, _p: Viewer) -> AuditKey:
    """The Ed25519 public key; keep a copy outside Medic to check checkpoints with."""
    if ctx.audit_key is None:
        raise NotFound("the audit signing key is not loaded yet")
    public = ctx.audit_key.public_key()
    return AuditKey(algorithm="Ed25519", key_id=key_id(public), public_key=public_key_b64(public), pem=public_pem(public))


@router.get(
    "/audit/checkpoint", response_model=CheckpointOut, summary="The current tree head, signed", responses=error_responses(404)
)
async def audit_checkpoint(ctx: Ctx, conn: ReadConn, _p: Viewer) -> CheckpointOut:
    """Tree size, root hash and time, signed: `medic audit verify --checkpoint` checks the store against it later."""
    if ctx.audit_key is None:
        raise NotFound("the audit signing key is not loaded yet")
    checkpoint = await tree.current_checkpoint(conn, key=ctx.audit_key, at=ctx.clock())
    return CheckpointOut.model_validate(checkpoint.to_json())


@router.get(
    "/audit/proof/inclusion",
    response_model=InclusionProofOut,
    summary="Inclusion proof of one entry",
    responses=error_responses(404),
)
async def audit_inclusion(
    conn: ReadConn,
    _p: Viewer,
    seq: Annotated[int, Query(ge=1, le=2**62, description="The entry.")],
    tree_size: Annotated[int | None, Query(ge=1, le=2**62, description="Tree to prove against (default: current).")] = None,
) -> InclusionProofOut:
    """The audit path of entry `seq` in the tree of `tree_size` entries (RFC 9162 §2.1.3)."""
    proof = await tree.prove_inclusion(conn, seq=seq, tree_size=tree_size)
    return InclusionProofOut(
        seq=proof.seq,
        leaf_index=proof.seq - 1,
        tree_size=proof.tree_size,
        leaf_hash=proof.leaf_hash,
        root_hash=proof.root_hash,
        audit_path=proof.audit_path,
    )


@router.get(
    "/audit/proof/consistency",
    response_model=ConsistencyProofOut,
    summary="Consistency proof between two tree sizes",
    responses=error_responses(404),
)
async def audit_consistency(
    conn: ReadConn,
    _p: Viewer,
    first: Annotated[int, Query(ge=1, le=2**62, description="The older tree's size.")],
    second: Annotated[int, Query(ge=1, le=2**62, description="The newer tree's size.")],
) -> ConsistencyProofOut:
    """That the tree of `first` entries is a prefix of the tree of `second` (RFC 9162 §2.1.4)."""
    proof = await tree.prove_consistency(conn, first=first, second=second)
    return ConsistencyProofOut(
        first=proof.first, second=proof.second, first_root=proof.first_root, second_root=proof.second_root, proof=proof.proof
    )
