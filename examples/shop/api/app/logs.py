"""JSON-lines application log: one object per line (ts, level, msg, service, route, status, error.stack, ...)."""

from __future__ import annotations

import json
import os
import sys
import threading
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class LogContext:
    service: str
    release: str
    commit: str
    environment: str
    file: Path | None

    @classmethod
    def from_env(cls) -> LogContext:
        file = os.environ.get("SHOP_LOG_FILE")
        return cls(
            service=os.environ.get("SHOP_SERVICE", "api"),
            release=os.environ.get("SHOP_RELEASE", "shop-api@dev"),
            commit=os.environ.get("SHOP_COMMIT", "unknown"),
            environment=os.environ.get("SHOP_ENVIRONMENT", "development"),
            file=Path(file) if file else None,
        )


def error_fields(exc: BaseException) -> dict[str, str]:
    """The house log format's ``error`` object, with the Python traceback as ``stack``."""
    return {"type": type(exc).__name__, "message": str(exc), "stack": "".join(traceback.format_exception(exc))}


class JsonLog:
    """Appends one JSON object per line to the log file (stdout without one)."""

    def __init__(self, context: LogContext) -> None:
        self.context = context
        self._lock = threading.Lock()

    def write(self, level: str, msg: str, **fields: Any) -> None:
        record = {
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": level,
            "msg": msg,
            "service": self.context.service,
            "release": self.context.release,
            "commit": self.context.commit,
            "environment": self.context.environment,
            **fields,
        }
        line = json.dumps(record, default=str) + "\n"
        with self._lock:
            if self.context.file is None:
                sys.stdout.write(line)
            else:
                with self.context.file.open("a", encoding="utf-8") as fh:
                    fh.write(line)
