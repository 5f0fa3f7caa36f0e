"""The Vercel deployer: REST over httpx.

Create a deployment from a git ref (``POST /v13/deployments`` with ``gitSource``), poll
``GET /v13/deployments/{id}`` until ``readyState`` is READY, then promote it to production
(``POST /v10/projects/{project}/promote/{id}``) or alias it to the staging domain
(``POST /v2/deployments/{id}/aliases``). Rollback is Vercel's instant rollback to the previous
production deployment (``POST /v1/projects/{project}/rollback/{id}``), or re-aliasing staging.
The deploy key travels in the deployment's ``meta`` so an ambiguous deploy can be found again.
"""

from __future__ import annotations

import os
from typing import Any

import httpx

from medic_contracts import DeploymentStage

from ...config import DeployerSection
from ...domain.errors import DeployError
from ...domain.runs import DeploymentRef
from .base import DeploymentStatus

__all__ = ["VercelDeployer"]

META_KEY = "medicDeployKey"
_READY = {"READY"}
_FAILED = {"ERROR", "CANCELED", "DELETED"}


class VercelDeployer:
    """Deploys a Vercel project from git refs and rolls back with instant rollback."""

    name = "vercel"

    def __init__(self, section: DeployerSection, *, token: str | None = None, transport: httpx.AsyncBaseTransport | None = None):
        if not section.project or not section.git_repo:
            raise DeployError("the vercel deployer needs project and git_repo")
        self.section = section
        self.project = section.project
        token = token if token is not None else os.environ.get(section.token_env, "")
        if not token:
            raise DeployError(f"the vercel deployer needs a token in ${section.token_env}")
        self._headers = {"Authorization": f"Bearer {token}"}
        self._params = {"teamId": section.team_id} if section.team_id else {}
        self._transport = transport

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.section.api_url, headers=self._headers, params=self._params, timeout=30.0, transport=self._transport
        )

    async def _call(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        async with self._client() as client:
            try:
                response = await client.request(method, path, json=json, params=params)
            except httpx.HTTPError as exc:
                raise DeployError(f"Vercel {method} {path} failed: {exc}") from exc
        if response.status_code == 404:
            return None
        if not response.is_success:
            message = ""
            try:
                message = response.json().get("error", {}).get("message", "")
            except ValueError:
                message = response.text[:200]
            raise DeployError(f"Vercel {method} {path} answered {response.status_code}: {message}")
        return response.json() if response.content else {}

    @staticmethod
    def _ref(data: dict[str, Any]) -> DeploymentRef:
        meta = data.get("meta") or {}
        git = data.get("gitSource") or {}
        url = data.get("url")
        return DeploymentRef(
            id=str(data.get("id") or data.get("uid")),
            url=f"https://{url}" if url and not str(url).startswith("http") else url,
            ref=git.get("ref") or meta.get("githubCommitRef"),
            sha=git.get("sha") or meta.get("githubCommitSha"),
        )

    async def current(self, *, stage: DeploymentStage) -> DeploymentRef | None:
        """Production: the project's current production deployment; staging: what the staging alias points at."""
        if stage is DeploymentStage.PRODUCTION:
            project = await self._call("GET", f"/v9/projects/{self.project}")
            target = ((project or {}).get("targets") or {}).get("production")
            if not target:
                return None
            deployment = await self._call("GET", f"/v13/deployments/{target['id']}")
            return self._ref(deployment or target)
        if not self.section.staging_alias:
            return None
        alias = await self._call("GET", f"/v4/aliases/{self.section.staging_alias}")
        if not alias or not alias.get("deploymentId"):
            return None
        deployment = await self._call("GET", f"/v13/deployments/{alias['deploymentId']}")
        return self._ref(deployment) if deployment else None

    async def start(self, *, stage: DeploymentStage, ref: str, sha: str, key: str) -> DeploymentRef:
        """Create a deployment of ``sha`` from the connected repository."""
        existing = await self.find(stage=stage, key=key)
        if existing is not None:
            return existing
        org, _, repo = (self.section.git_repo or "").partition("/")
        body: dict[str, Any] = {
            "name": self.project,
            "project": self.project,
            "gitSource": {"type": self.section.git_provider, "org": org, "repo": repo, "ref": ref, "sha": sha},
            "meta": {META_KEY: key, "medicStage": stage.value},
        }
        if stage is DeploymentStage.PRODUCTION:
            body["target"] = "production"
        data = await self._call("POST", "/v13/deployments", json=body)
        if not data or not (data.get("id") or data.get("uid")):
            raise DeployError("Vercel did not return a deployment id")
        return self._ref(data)

    async def find(self, *, stage: DeploymentStage, key: str) -> DeploymentRef | None:
        """The project's recent deployment carrying ``key`` in its meta."""
        data = await self._call("GET", "/v6/deployments", params={"projectId": self.project, "limit": 50})
        for item in (data or {}).get("deployments", []):
            if (item.get("meta") or {}).get(META_KEY) == key:
                return self._ref(item)
        return None

    async def status(self, *, stage: DeploymentStage, deployment: DeploymentRef) -> DeploymentStatus:
        """READY → ready; ERROR/CANCELED → error; anything else is still building."""
        data = await self._call("GET", f"/v13/deployments/{deployment.id}")
        if data is None:
            return DeploymentStatus.ERROR
        state = str(data.get("readyState") or data.get("state") or "").upper()
        if state in _READY:
            return DeploymentStatus.READY
        if state in _FAILED:
            return DeploymentStatus.ERROR
        return DeploymentStatus.BUILDING

    async def activate(self, *, stage: DeploymentStage, deployment: DeploymentRef) -> DeploymentRef:
        """Promote to production, or point the staging alias at the deployment."""
        if stage is DeploymentStage.PRODUCTION:
            await self._call("POST", f"/v10/projects/{self.project}/promote/{deployment.id}")
        elif self.section.staging_alias:
            await self._call("POST", f"/v2/deployments/{deployment.id}/aliases", json={"alias": self.section.staging_alias})
        return deployment

    async def rollback(
        self, *, stage: DeploymentStage, to: DeploymentRef | None, failed: DeploymentRef | None, key: str
    ) -> DeploymentRef | None:
        """Instant rollback of production to ``to``; staging re-aliases ``to``."""
        if to is None:
            raise DeployError(f"no previous {stage.value} deployment to roll back to")
        if stage is DeploymentStage.PRODUCTION:
            await self._call("POST", f"/v1/projects/{self.project}/rollback/{to.id}")
        elif self.section.staging_alias:
            await self._call("POST", f"/v2/deployments/{to.id}/aliases", json={"alias": self.section.staging_alias})
        return to
