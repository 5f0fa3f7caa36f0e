"""``medic demo``: the whole loop on the bundled example shop, on this machine, offline.

1. The example shop (examples/shop: a TypeScript web service and a Python API) becomes a real git
   repository with a local bare "forge"; staging and production are deployed from it on local ports.
2. The embedded broker, control-api (SQLite) and the four agents start as separate processes.
3. A bad change (the seed's missing null check on a database lookup) is shipped to production, and
   synthetic users send traffic to both stages; some of their requests hit the bug.
4. Then it watches, live, what Medic does: detect → diagnose → fix with a regression test on
   ``agent/fix-<id>`` → deploy to staging → watch → promote to production → watch → verify that the
   error no longer happens → notify. It ends with a summary and exits 0 only if the loop completed.

Scenarios: ``fix`` (autonomous, level 3 by an audited admin override), ``approval`` (level 1: the
fix and each deploy wait for a human; the demo approves through the CLI, as an operator would),
``rollback`` (the fix's staging deployment makes latency worse, so the releaser rolls it back).
"""

from .run import run, run_demo
from .scenario import DemoOptions, DemoResult, Scenario

__all__ = ["DemoOptions", "DemoResult", "Scenario", "run", "run_demo"]
