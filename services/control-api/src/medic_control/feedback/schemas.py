"""Models of fix feedback."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from ..bodies import RequestBody

__all__ = ["FalsePositiveIn", "FeedbackIn", "FeedbackOut"]


class FeedbackIn(RequestBody):
    """A human's rating of how Medic handled an issue."""

    rating: int = Field(ge=1, le=5, description="1 (bad) to 5 (excellent).", examples=[4])
    comment: str = Field(default="", max_length=5000, description="Free text.", examples=["right fix, test was thin"])


class FeedbackOut(FeedbackIn):
    """Feedback as stored."""

    id: int = Field(description="Feedback id.")
    issue_id: str = Field(description="Issue rated.")
    author: str = Field(description="Who rated it.")
    created_at: datetime = Field(description="When.")


class FalsePositiveIn(RequestBody):
    """A human's verdict that an issue is (or, undoing a mark, is not) a false positive."""

    false_positive: bool = Field(default=True, description="True marks the issue; false clears the mark.", examples=[True])
    reason: str = Field(default="", max_length=2000, description="Why (audited).", examples=["expected 404 from a bot"])
