"""``medic token create``: an API token, through the API (admin token) or straight into the store."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from ..client import ClientConfig, ControlClient
from .output import emit, run_client
from .store import store_url

__all__ = ["token_create"]


def token_create(args: argparse.Namespace) -> int:
    """``medic token create --role R [--name N]``: through the API (admin token), or straight into the store."""
    from ..auth.schemas import Role

    name = args.name or f"{args.role}-{__import__('secrets').token_hex(3)}"
    config = ClientConfig.load()
    if not args.database_url and config.from_env_or_file and config.token:
        return run_client(lambda: _print_token(ControlClient(config).create_token(name=name, role=args.role), args))

    url = store_url(args.database_url)

    async def direct() -> dict[str, Any]:
        from ..auth import service as tokens
        from ..db import migrate, open_engine

        engine, schema = open_engine(url)
        try:
            await migrate(engine, schema=schema)  # a token may be the first thing a new store holds
            async with engine.begin() as conn:
                created = await tokens.create_token(conn, name=name, role=Role.parse(args.role), created_by="medic token create")
        finally:
            await engine.dispose()
        return created.model_dump(mode="json")

    from sqlalchemy.exc import DBAPIError

    from ..errors import ControlError

    try:
        result = asyncio.run(direct())
    except ControlError as exc:
        sys.stderr.write(f"medic: {exc.message}\n")
        return 1
    except DBAPIError as exc:
        sys.stderr.write(f"medic: cannot write the store: {exc.orig}\n")
        return 1
    return _print_token(result, args)


def _print_token(result: dict[str, Any], args: argparse.Namespace) -> int:
    emit(
        result,
        as_json=args.json,
        text=f"{result['token']}\n(name {result['name']}, role {result['role']}: shown once, store it now)",
    )
    return 0
