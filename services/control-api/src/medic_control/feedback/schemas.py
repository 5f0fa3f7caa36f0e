"""Models of fix feedback."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

__all__ = ["FeedbackIn", "FeedbackOut"]


class FeedbackIn(BaseModel):
    """A human's rating of how Medic handled an issue."""

    rating: int = Field(ge=1, le=5, description="1 (bad) to 5 (excellent).", examples=[4])
    comment: str = Field(default="", max_length=5000, description="Free text.", examples=["right fix, test was thin"])


class FeedbackOut(FeedbackIn):
    """Feedback as stored."""

    id: int = Field(description="Feedback id.")
    issue_id: str = Field(description="Issue rated.")
    author: str = Field(description="Who rated it.")
    created_at: datetime = Field(description="When.")
