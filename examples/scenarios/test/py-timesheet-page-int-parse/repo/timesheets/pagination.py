from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, HTTPException, Request

T = TypeVar("T")

MAX_PER_PAGE = 100


@dataclass(frozen=True)
class Page:
    number: int
    size: int

    def slice(self, items: list[T]) -> list[T]:
        start = (self.number - 1) * self.size
        return items[start : start + self.size]


def page_from_query(request: Request) -> Page:
    """``?page=`` (from 1) and ``?per_page=`` (1 to 100) of a list endpoint; 400 for values out of range."""
    number = int(request.query_params.get("page", "1"))
    size = int(request.query_params.get("per_page", "25"))
    if number < 1 or not 1 <= size <= MAX_PER_PAGE:
        raise HTTPException(status_code=400, detail=f"page must be 1 or more and per_page from 1 to {MAX_PER_PAGE}")
    return Page(number, size)


Pagination = Annotated[Page, Depends(page_from_query)]
