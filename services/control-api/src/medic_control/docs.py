"""API documentation served offline: Swagger UI at ``/docs``, ReDoc at ``/redoc``, and the OpenAPI details.

The UI assets come from the ``fastapi-offline`` package (Swagger UI and ReDoc builds shipped in the
wheel), not from a CDN: Medic runs self-hosted, often without outbound network. Both pages load only
same-origin scripts (the Swagger UI start-up is a static file, not an inline script), so they keep a
strict CSP; they allow inline styles, which both UIs set on their elements.

The OpenAPI document also declares the bearer scheme every ``/api/v1`` operation uses, so generated
clients send the token, the 400 (malformed JSON) and 415 (not JSON) every body-taking operation can
answer, and ``BusinessHours.start/end`` as local wall-clock times.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

__all__ = ["install_docs"]

_ASSETS = Path(fastapi_offline.__file__).parent / "static"
_PREFIX = "/docs-assets"
_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
    "worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
_SCHEME = "bearerAuth"

_SWAGGER = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} — Swagger UI</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css"><link rel="icon" href="{assets}/favicon.png"></head>
<body><div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script><script src="{assets}/swagger-init.js"></script></body></html>
"""
_REDOC = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} — ReDoc</title>
<link rel="icon" href="{assets}/favicon.png"></head>
<body><redoc spec-url="{openapi}"></redoc><script src="{assets}/redoc.standalone.js"></script></body></html>
"""
_SWAGGER_INIT = """window.ui = SwaggerUIBundle({{
  url: {openapi!r}, dom_id: "#swagger-ui", deepLinking: true, persistAuthorization: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  layout: "BaseLayout"
}});
"""


def install_docs(app: FastAPI, *, api_prefix: str = "/api/v1") -> None:
    """Serve ``/docs`` and ``/redoc`` from packaged assets and complete the OpenAPI document."""
    openapi_url = app.openapi_url or "/openapi.json"
    headers = {"Content-Security-Policy": _CSP, "Cache-Control": "no-store"}
    swagger = _SWAGGER.format(title=app.title, assets=_PREFIX)
    redoc = _REDOC.format(title=app.title, assets=_PREFIX, openapi=openapi_url)
    init = _SWAGGER_INIT.format(openapi=openapi_url)

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return HTMLResponse(swagger, headers=headers)

    @app.get("/redoc", include_in_schema=False)
    async def redoc_ui() -> HTMLResponse:
        return HTMLResponse(redoc, headers=headers)

    @app.get(f"{_PREFIX}/swagger-init.js", include_in_schema=False)
    async def swagger_init() -> Response:
        return Response(init, media_type="text/javascript")

    app.mount(_PREFIX, StaticFiles(directory=_ASSETS), name="docs-assets")
    _complete_openapi(app, api_prefix=api_prefix)


def _complete_openapi(app: FastAPI, *, api_prefix: str) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        components = schema.setdefault("components", {})
        components.setdefault("securitySchemes", {})[_SCHEME] = {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token (`mdc_…`, from `POST /api/v1/tokens` or MEDIC_BOOTSTRAP_ADMIN_TOKEN) or an OIDC JWT.",
        }
        error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}}
        for path, operations in schema.get("paths", {}).items():
            if path.startswith(api_prefix):
                for operation in operations.values():
                    if not isinstance(operation, dict):
                        continue
                    operation.setdefault("security", [{_SCHEME: []}])
                    if "requestBody" in operation:  # JsonBodies and the validation handler answer these for any body
                        responses = operation.setdefault("responses", {})
                        responses.setdefault("400", {"description": "Malformed JSON (line and column named)", **error})
                        responses.setdefault("415", {"description": "The body is not JSON", **error})
        # pydantic documents datetime.time as RFC 3339 `time` (with an offset); these are naive local times.
        hours = components.get("schemas", {}).get("BusinessHours", {}).get("properties", {})
        for name in ("start", "end"):
            if hours.get(name, {}).get("format") == "time":
                hours[name]["format"] = "partial-time"
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
