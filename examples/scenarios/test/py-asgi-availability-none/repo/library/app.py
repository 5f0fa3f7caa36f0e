from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

BOOKS = {
    "978-0141439518": {"title": "Pride and Prejudice", "author": "Jane Austen", "copies": 3},
    "978-0553213119": {"title": "Moby-Dick", "author": "Herman Melville", "copies": 1},
    "978-0140449136": {"title": "Crime and Punishment", "author": "Fyodor Dostoevsky", "copies": 2},
}
LOANS = {"mem_1": [{"isbn": "978-0141439518", "days_overdue": 4, "fine_pence": 120}], "mem_2": []}


def find_book(isbn: str) -> dict | None:
    return BOOKS.get(isbn)


async def book_detail(request: Request) -> JSONResponse:
    book = find_book(request.path_params["isbn"])
    if book is None:
        return JSONResponse({"error": "book not found"}, status_code=404)
    return JSONResponse({"isbn": request.path_params["isbn"], **book})


async def book_availability(request: Request) -> JSONResponse:
    book = find_book(request.path_params["isbn"])
    return JSONResponse({"title": book["title"], "available": book["copies"] > 0})


async def search(request: Request) -> JSONResponse:
    term = request.query_params.get("q", "").lower()
    limit = request.query_params.get("limit", 10)
    found = [b["title"] for b in BOOKS.values() if term in b["title"].lower()]
    return JSONResponse({"results": sorted(found)[:limit]})


async def fine_rate(request: Request) -> JSONResponse:
    loans = LOANS.get(request.path_params["member"])
    if loans is None:
        return JSONResponse({"error": "member not found"}, status_code=404)
    days = sum(loan["days_overdue"] for loan in loans)
    fines = sum(loan["fine_pence"] for loan in loans)
    return JSONResponse({"days_overdue": days, "pence_per_day": round(fines / days)})


app = Starlette(
    routes=[
        Route("/books/{isbn}", book_detail),
        Route("/books/{isbn}/availability", book_availability),
        Route("/search", search),
        Route("/members/{member}/fine-rate", fine_rate),
    ]
)
