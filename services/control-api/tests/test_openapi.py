"""schemathesis over control-api's OpenAPI schema: no 5xx, every response matches its documented schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .conftest import control_server

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

ADMIN = "mdc_schemathesis_admin_" + "z" * 24


@pytest.fixture(scope="module")
def served(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp: Path = tmp_path_factory.mktemp("openapi")
    # Writes are not rate-limited here: the run sends hundreds of them on purpose.
    with control_server(kafka_bootstrap, tmp, admin_token=ADMIN, write_rate_per_minute=10**6, write_burst=10**6) as (url, _):
        yield url


def test_every_operation_answers_without_5xx_and_as_documented(served: str) -> None:
    api = schemathesis.openapi.from_url(f"{served}/openapi.json")
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    failures: list[str] = []
    operations = 0
    for result in api.get_all_operations():
        operation = result.ok()
        if operation.path == "/api/v1/stream":
            continue  # an endless event stream: covered by the dashboard test
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=12,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            case.call_and_validate(headers={"Authorization": f"Bearer {ADMIN}"}, checks=checks)

        try:
            check()
        except Exception as exc:  # collect every operation's failure, then report them together
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:2000])
    assert operations >= 24
    assert not failures, "\n\n".join(failures)
