"""The bare FastAPI JSON endpoint ``medic bench api`` measures beside control-api (its baseline)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


@app.get("/bare")
async def bare() -> dict[str, Any]:
    """A small JSON object: what FastAPI and uvicorn cost with no work behind them."""
    return {"status": "ok", "items": [], "next_cursor": None}
