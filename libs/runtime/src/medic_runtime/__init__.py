"""Shared plumbing for Medic services: settings, bus, delivery, store, control plane, work, HTTP.

Names are imported on first use (PEP 562): a tool that needs one light module (``medic_runtime.wire``) does not pay
for the broker, store and HTTP stack it never touches.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .bus import Bus, Delivery, Emitter, HandlerContext, Subscription, build_broker, encode_event
    from .control import ControlPlane, ControlSnapshot, SideEffectRefused
    from .entrypoint import run_service
    from .leases import Leases, lease_table
    from .observability import Metrics, configure_logging, configure_tracing, current_trace_id
    from .redaction import Redactor
    from .service import ServiceRuntime, Transaction
    from .settings import ServiceSettings, SettingsError, load_settings
    from .store import ServiceStore
    from .work import WorkQueue
    from .work_context import RetryLater, WorkContext, WorkItem

__all__ = [
    "Bus",
    "ControlPlane",
    "ControlSnapshot",
    "Delivery",
    "Emitter",
    "HandlerContext",
    "Leases",
    "Metrics",
    "Redactor",
    "RetryLater",
    "ServiceRuntime",
    "ServiceSettings",
    "ServiceStore",
    "SettingsError",
    "SideEffectRefused",
    "Subscription",
    "Transaction",
    "WorkContext",
    "WorkItem",
    "WorkQueue",
    "build_broker",
    "configure_logging",
    "configure_tracing",
    "current_trace_id",
    "encode_event",
    "lease_table",
    "load_settings",
    "run_service",
]

#: Where each public name lives.
_HOMES = {
    "Bus": ".bus",
    "ControlPlane": ".control",
    "ControlSnapshot": ".control",
    "Delivery": ".bus",
    "Emitter": ".bus",
    "HandlerContext": ".bus",
    "Leases": ".leases",
    "Metrics": ".observability",
    "Redactor": ".redaction",
    "RetryLater": ".work_context",
    "ServiceRuntime": ".service",
    "ServiceSettings": ".settings",
    "ServiceStore": ".store",
    "SettingsError": ".settings",
    "SideEffectRefused": ".control",
    "Subscription": ".bus",
    "Transaction": ".service",
    "WorkContext": ".work_context",
    "WorkItem": ".work_context",
    "WorkQueue": ".work",
    "build_broker": ".bus",
    "configure_logging": ".observability",
    "configure_tracing": ".observability",
    "current_trace_id": ".observability",
    "encode_event": ".bus",
    "lease_table": ".leases",
    "load_settings": ".settings",
    "run_service": ".entrypoint",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value  # once imported, a plain module attribute
    return value
