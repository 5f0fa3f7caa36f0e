"""``medic replay``: re-publish chosen events (fresh ids, ``replay-of`` header) so an issue is reprocessed."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any


def _topic(name: str, prefix: str) -> str:
    # Imported here: every command module is imported to build the parser, and `medic pause` must stay light.
    from medic_contracts import TopicName, TopicRegistry

    logical = {t.value: t for t in TopicName}
    return TopicRegistry(prefix).name(logical[name]) if name in logical else name


def _connection(args: argparse.Namespace) -> tuple[str, str]:
    """Broker and topic prefix: the flags, else the environment, else the running dev stack, else the defaults."""
    from medic.devstack import read_state

    stack = read_state(Path(args.data_dir)) or {}
    bootstrap = args.bootstrap or os.environ.get("MEDIC_KAFKA_BOOTSTRAP") or stack.get("bootstrap") or "127.0.0.1:9092"
    prefix = args.prefix or os.environ.get("MEDIC_TOPIC_PREFIX") or stack.get("prefix") or "medic."
    return str(bootstrap), str(prefix)


def _security() -> dict[str, Any]:
    """The broker's security for the replay's clients, from the same MEDIC_KAFKA_* settings the services read
    (TLS, SASL/SCRAM); a bad setting stops the command naming the field."""
    from medic_runtime.kafka_security import client_options
    from medic_runtime.settings import ServiceSettings, load_settings

    return client_options(load_settings(ServiceSettings, service_name="medic-replay"))


def _progress(read: int, total: int) -> None:
    sys.stderr.write(f"medic replay: read {read:,} of {total:,} record(s)\n")
    sys.stderr.flush()


def _run(args: argparse.Namespace) -> int:
    from medic.replay import describe, plan_replay, run_replay

    args.bootstrap, args.prefix = _connection(args)
    from medic_runtime.settings import SettingsError

    try:
        security = _security()
    except SettingsError as exc:  # names each bad MEDIC_* variable
        print(f"medic replay: {exc}")
        return 2

    if args.from_offset is not None and args.from_time is not None:
        print("medic replay: give --from-offset or --from-time, not both")
        return 2
    from_time = None
    if args.from_time:
        try:
            from_time = datetime.fromisoformat(args.from_time)
        except ValueError:
            print(f"medic replay: --from-time {args.from_time!r} is not an ISO 8601 time")
            return 2
        if from_time.tzinfo is None:
            print("medic replay: --from-time needs a time zone (e.g. 2026-11-27T09:00:00Z)")
            return 2
    topic = _topic(args.topic, args.prefix)
    to_topic = _topic(args.to_topic, args.prefix) if args.to_topic else None
    try:
        plan = asyncio.run(
            plan_replay(
                bootstrap=args.bootstrap,
                topic=topic,
                to_topic=to_topic,
                issue_id=args.issue,
                from_offset=args.from_offset,
                from_time=from_time,
                progress=None if args.quiet else _progress,
                progress_every_s=2.0,
                options=security,
            )
        )
    except ValueError as exc:
        print(f"medic replay: {exc}")
        return 2
    if args.dry_run:
        print(describe(plan, dry_run=True, topic=topic, to_topic=to_topic, replayed=0))
        return 0
    count = asyncio.run(run_replay(bootstrap=args.bootstrap, plan=plan, options=security))
    if args.json:
        print(describe(plan, dry_run=False, topic=topic, to_topic=to_topic, replayed=count))
        return 0
    print(
        f"replayed {count} event(s) from {topic}"
        + (f" to {to_topic}" if to_topic else "")
        + (f"; skipped {len(plan.skipped)} invalid record(s)" if plan.skipped else "")
    )
    return 0


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("replay", help="re-publish events so an issue is reprocessed")
    parser.add_argument("--topic", required=True, help="topic to read (logical name like issues.detected, or full name)")
    parser.add_argument("--issue", default=None, help="only this issue's events")
    parser.add_argument("--from-offset", type=int, default=None, help="start at this offset in every partition")
    parser.add_argument("--from-time", default=None, help="start at this time (ISO 8601 with zone)")
    parser.add_argument("--to-topic", default=None, help="publish to this topic instead of the source")
    parser.add_argument("--dry-run", action="store_true", help="print what would be replayed, publish nothing")
    parser.add_argument("--json", action="store_true", help="print what was replayed as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    parser.add_argument(
        "--bootstrap", default=None, help="broker (default: MEDIC_KAFKA_BOOTSTRAP, the running dev stack's, 127.0.0.1:9092)"
    )
    parser.add_argument(
        "--prefix", default=None, help="topic prefix (default: MEDIC_TOPIC_PREFIX, the running dev stack's, medic.)"
    )
    parser.add_argument("--data-dir", default=os.environ.get("MEDIC_DEV_DIR", ".medic/dev"), help="the dev stack to read from")
    parser.set_defaults(handler=_run)
