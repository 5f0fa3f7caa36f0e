"""``medic contracts export DIR``: JSON Schema of every event (and the config models);
``medic contracts asyncapi DIR``: one AsyncAPI 3.0 document per service."""

from __future__ import annotations

import argparse
from typing import Any


def _export(args: argparse.Namespace) -> int:
    from medic_contracts.schema import export_schemas

    for path in export_schemas(args.directory):
        print(path)
    return 0


def _asyncapi(args: argparse.Namespace) -> int:
    from medic.asyncapi import export_asyncapi

    for path in export_asyncapi(args.directory):
        print(path)
    return 0


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("contracts", help="event contracts")
    actions = parser.add_subparsers(dest="contracts_action", required=True, metavar="ACTION")
    export = actions.add_parser("export", help="write one JSON Schema file per event into DIR")
    export.add_argument("directory")
    export.set_defaults(handler=_export)
    asyncapi = actions.add_parser("asyncapi", help="write DIR/<service>.asyncapi.json (AsyncAPI 3.0) for every service")
    asyncapi.add_argument("directory")
    asyncapi.set_defaults(handler=_asyncapi)
