"""Every control-api table, imported in one place so migrations and tests see the whole schema."""

from __future__ import annotations

from .actions.models import Action, AuditLock
from .approvals.models import Approval
from .auth.models import ApiToken
from .config.models import ConfigVersion, ControlState
from .db import Base
from .dlq.models import DeadLetterRow
from .feedback.models import FixFeedback
from .issues.models import Issue
from .strategies.models import StrategyOutcomeRow

__all__ = [
    "Action",
    "ApiToken",
    "Approval",
    "AuditLock",
    "Base",
    "ConfigVersion",
    "ControlState",
    "DeadLetterRow",
    "FixFeedback",
    "Issue",
    "StrategyOutcomeRow",
]
