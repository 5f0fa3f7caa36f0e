"""One Messages API call: the budget checked before it, its errors mapped, its tokens and cost accounted."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from medic_contracts import LlmBudget, TokenUsage

from ...domain.errors import BudgetExceeded, ProviderRefused, ProviderUnavailable
from ..store import SpendLedger
from .section import LlmSection

if TYPE_CHECKING:
    from anthropic import AsyncAnthropic

__all__ = ["Spend", "append_text", "blocks", "create_message", "text_of"]


@dataclass
class Spend:
    """Accounting of one diagnosis."""

    issue_id: str
    budget: LlmBudget
    tokens: TokenUsage = field(default_factory=TokenUsage)
    cost_usd: float = 0.0
    calls: int = 0

    def add(self, call: TokenUsage, cost: float) -> None:
        """Count one call's usage and cost."""
        self.tokens = TokenUsage(
            input_tokens=self.tokens.input_tokens + call.input_tokens,
            output_tokens=self.tokens.output_tokens + call.output_tokens,
            cache_read_tokens=self.tokens.cache_read_tokens + call.cache_read_tokens,
            cache_write_tokens=self.tokens.cache_write_tokens + call.cache_write_tokens,
        )
        self.cost_usd += cost
        self.calls += 1


async def create_message(client: AsyncAnthropic, spend: Spend, *, section: LlmSection, ledger: SpendLedger, **kwargs: Any) -> Any:
    """``messages.create(**kwargs)`` within the budget; 429/5xx/timeouts raise ProviderUnavailable."""
    spent_issue, spent_day = await ledger.spent(issue_id=spend.issue_id)
    if spent_issue >= spend.budget.per_issue_usd:
        raise BudgetExceeded("per-issue", spent_issue, spend.budget.per_issue_usd)
    if spent_day >= spend.budget.per_day_usd:
        raise BudgetExceeded("per-day", spent_day, spend.budget.per_day_usd)
    import anthropic

    try:
        response = await client.messages.create(**kwargs)
    except anthropic.RateLimitError as exc:
        raise ProviderUnavailable(f"rate limited (429): {exc.message[:200]}", retry_after_s=_retry_after(exc, 30.0)) from None
    except anthropic.APITimeoutError:
        raise ProviderUnavailable("the Messages API timed out", retry_after_s=30.0) from None
    except anthropic.APIConnectionError as exc:
        raise ProviderUnavailable(f"cannot reach the Messages API: {exc.__class__.__name__}", retry_after_s=30.0) from None
    except anthropic.APIStatusError as exc:
        if exc.status_code >= 500:
            raise ProviderUnavailable(f"Messages API error {exc.status_code}", retry_after_s=_retry_after(exc, 60.0)) from None
        raise ProviderRefused(f"Messages API refused the request ({exc.status_code}): {exc.message[:300]}") from None
    usage = response.usage
    call = TokenUsage(
        input_tokens=usage.input_tokens or 0,
        output_tokens=usage.output_tokens or 0,
        cache_read_tokens=usage.cache_read_input_tokens or 0,
        cache_write_tokens=usage.cache_creation_input_tokens or 0,
    )
    cost = section.price(str(kwargs["model"])).cost(call)
    spend.add(call, cost)
    await ledger.add(
        issue_id=spend.issue_id,
        model=str(kwargs["model"]),
        usd=cost,
        input_tokens=call.input_tokens,
        output_tokens=call.output_tokens,
    )
    return response


def text_of(content: list[Any]) -> str:
    """The text blocks of a response, joined."""
    return "".join(b.text for b in content if getattr(b, "type", "") == "text")


def append_text(messages: list[dict[str, Any]], text: str) -> None:
    """Add text to the last user turn (after tool results) or as a new user turn."""
    last = messages[-1]
    if last["role"] == "user" and isinstance(last["content"], list):
        last["content"] = [*last["content"], {"type": "text", "text": text}]
    elif last["role"] == "user":
        last["content"] = f"{last['content']}\n\n{text}"
    else:
        messages.append({"role": "user", "content": text})


def blocks(content: list[Any]) -> list[dict[str, Any]]:
    """A response's content as request blocks (for the next turn)."""
    out: list[dict[str, Any]] = []
    for block in content:
        kind = getattr(block, "type", "")
        if kind == "text":
            out.append({"type": "text", "text": block.text})
        elif kind == "tool_use":
            out.append({"type": "tool_use", "id": block.id, "name": block.name, "input": block.input})
    return out or [{"type": "text", "text": "(no content)"}]


def _retry_after(exc: Any, default: float) -> float:
    response = getattr(exc, "response", None)
    header = response.headers.get("retry-after") if response is not None else None
    try:
        return max(float(header), 1.0) if header is not None else default
    except ValueError:
        return default
