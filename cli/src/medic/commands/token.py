"""``medic token create --role R``: issue an API token (through the API, or straight into the store)."""

from __future__ import annotations

import argparse
from typing import Any


def _create(args: argparse.Namespace) -> int:
    from medic_control.operator.tokens import token_create

    return token_create(args)


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("token", help="control-api tokens")
    actions = parser.add_subparsers(dest="token_action", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="issue a token (printed once)")
    create.add_argument("--role", required=True, choices=["viewer", "operator", "admin"])
    create.add_argument("--name", default=None, help="identity the token acts as (default: <role>-<random>)")
    create.add_argument(
        "--database-url", default=None, help="write into this store directly (default: the API when MEDIC_API_URL is set)"
    )
    create.add_argument("--json", action="store_true")
    create.set_defaults(handler=_create)
