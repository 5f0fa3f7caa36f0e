"""``medic bench faults``: issue 17's fault matrix run against real service processes, each case on its own broker.

Per fault: survived, lost issues, duplicated side effects (commits, pull requests, deploys,
notifications, audit rows, outcome events), unaudited side effects and recovery seconds.
"""

from .matrix import CASES, PENDING, Case, report, run_case
from .model import FaultResult

__all__ = ["CASES", "PENDING", "Case", "FaultResult", "report", "run_case"]
