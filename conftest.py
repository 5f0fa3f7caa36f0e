"""Root conftest: the shared fixtures (real broker, real PostgreSQL) come from the test kit's plugin (medic_testing).

Test files run whole on one xdist worker (``--dist loadfile``). The longest files (many ``slow`` tests, or
``e2e`` tests that run several services as processes) are collected first, and ``make test`` passes
``--no-loadscope-reorder`` so the workers start on them at once, beside each other, instead of ending the run
with one of them alone on one worker.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["medic_testing.runtime.plugin"]

_WEIGHTS = {"e2e": 4, "slow": 1}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    weight: dict[str, int] = {}
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        weight[path] = weight.get(path, 0) + max((w for m, w in _WEIGHTS.items() if item.get_closest_marker(m)), default=0)
    items.sort(key=lambda item: -weight[item.nodeid.split("::", 1)[0]])  # stable: the rest keep their order
