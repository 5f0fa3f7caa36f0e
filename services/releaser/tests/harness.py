"""The releaser's test harness now lives in the test kit (:mod:`medic_testing.releaser.harness`), shared with the fault bench."""

from medic_testing.releaser.harness import (
    APP,
    HEALTHY,
    TEST_PRODUCER,
    EventLog,
    Stage,
    Target,
    TargetRepo,
    control_state,
    fix_event,
    free_port,
    git,
    make_repo,
    publish,
    traffic,
    wait_http,
    write_target,
)

__all__ = [
    "APP",
    "HEALTHY",
    "TEST_PRODUCER",
    "EventLog",
    "Stage",
    "Target",
    "TargetRepo",
    "control_state",
    "fix_event",
    "free_port",
    "git",
    "make_repo",
    "publish",
    "traffic",
    "wait_http",
    "write_target",
]
