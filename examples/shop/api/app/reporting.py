"""Unhandled errors to Sentry through the official ``sentry-sdk``, when a DSN is configured (``SENTRY_DSN``).

Without a DSN nothing is imported or sent: the API runs without the SDK installed.
"""

from __future__ import annotations

from collections.abc import Callable

from app.logs import LogContext

#: Reports one unhandled error with the request's route template, user id and request id.
ErrorReporter = Callable[[BaseException, str, str | None, str], None]


def sentry_reporter(context: LogContext, dsn: str | None) -> ErrorReporter | None:
    """Initialise ``sentry-sdk`` for ``dsn`` and return the reporter, or None without a DSN."""
    if not dsn:
        return None
    import sentry_sdk  # only where a DSN asks for it
    from sentry_sdk.integrations.fastapi import FastApiIntegration
    from sentry_sdk.integrations.starlette import StarletteIntegration

    sentry_sdk.init(
        dsn=dsn,
        release=context.release,
        environment=context.environment,
        server_name=context.service,
        # the API's own frameworks: auto-enabling would import every library the environment holds (seconds)
        auto_enabling_integrations=False,
        integrations=[StarletteIntegration(), FastApiIntegration()],
    )

    def report(error: BaseException, route: str, user_id: str | None, request_id: str) -> None:
        with sentry_sdk.new_scope() as scope:
            scope.set_tag("route", route)
            scope.set_tag("commit", context.commit)
            scope.set_extra("request_id", request_id)
            if user_id:
                scope.set_user({"id": user_id})
            scope.capture_exception(error)

    return report
