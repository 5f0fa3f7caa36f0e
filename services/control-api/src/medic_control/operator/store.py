"""Direct access to control-api's store for the commands that work without the API (``--database-url``).

SQLAlchemy is imported only inside these functions: ``medic pause`` must not pay for it.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["StoreUnavailable", "open_store", "run_direct", "store_url"]


def store_url(database_url: str | None) -> str:
    """control-api's store: ``--database-url``, else MEDIC_STORE_URL, else ./medic.db (as the service defaults)."""
    return database_url or os.environ.get("MEDIC_STORE_URL") or f"sqlite+aiosqlite:///{Path('medic.db').resolve()}"


@asynccontextmanager
async def open_store(database_url: str | None) -> AsyncIterator[tuple[AsyncEngine, str | None]]:
    from sqlalchemy.exc import DBAPIError

    from ..db import open_engine

    url = store_url(database_url)
    if url.startswith("sqlite") and not await asyncio.to_thread(Path(url.split("///", 1)[-1]).exists):
        raise StoreUnavailable(f"no audit store at {url} (start control-api, or pass --database-url)")
    engine, schema = open_engine(url)
    try:
        yield engine, schema
    except DBAPIError as exc:
        raise StoreUnavailable(f"cannot read the audit store at {url}: {exc.orig}") from None
    finally:
        await engine.dispose()


class StoreUnavailable(RuntimeError):
    """The store named on the command line cannot be read."""


def run_direct(coroutine: Any) -> Any:
    try:
        return asyncio.run(coroutine)
    except StoreUnavailable as exc:
        sys.stderr.write(f"medic: {exc}\n")
        return None
