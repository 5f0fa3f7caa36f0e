"""Shared plumbing for Medic services: settings, bus, delivery, store, control plane, work, HTTP."""

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
