"""The command deployer: a configured process, command or HTTP hook per stage.

``run`` mode (the demo's) checks the ref out through the forge, runs the stage's ``build`` in it
when there is one (the previous process serves meanwhile), stops the stage's previous
process and starts the app from the checkout in its own session, so it outlives a releaser
restart; the stage's state file names the process, the ref and the deploy key, which is how an
ambiguous deploy is reconciled and how rollback finds the previous good ref.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import shlex
import signal
import time
from pathlib import Path
from typing import Any

import httpx

from medic_contracts import DeploymentStage
from medic_runtime.aio import bounded
from medic_runtime.embedded import process_alive as _alive

from ...config import CommandStage, DeployerSection
from ...domain.errors import DeployError
from ...domain.runs import DeploymentRef
from ..forge import Forge
from .base import DeploymentStatus

__all__ = ["CommandDeployer"]


class CommandDeployer:
    """Deploys by running the target app (or a command, or a hook) per stage."""

    name = "command"

    def __init__(self, section: DeployerSection, *, forge: Forge, state_dir: Path) -> None:
        if section.staging is None or section.production is None:
            raise DeployError("the command deployer needs staging and production stages")
        self.stages = {DeploymentStage.STAGING: section.staging, DeploymentStage.PRODUCTION: section.production}
        self.forge = forge
        self.state_dir = state_dir
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._locks = {stage: asyncio.Lock() for stage in DeploymentStage}
        self._reapers: set[asyncio.Task[int]] = set()

    # ---- state ---------------------------------------------------------------------------------

    def _state_file(self, stage: DeploymentStage) -> Path:
        return self.state_dir / f"{stage.value}.json"

    def _read(self, stage: DeploymentStage) -> dict[str, Any]:
        path = self._state_file(stage)
        if not path.exists():
            return {"current": None, "history": []}
        data: dict[str, Any] = json.loads(path.read_text())
        return data

    def _write(self, stage: DeploymentStage, data: dict[str, Any]) -> None:
        path = self._state_file(stage)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1))
        tmp.replace(path)  # atomic: a crash never leaves half a state file

    @staticmethod
    def _ref(entry: dict[str, Any]) -> DeploymentRef:
        return DeploymentRef(id=entry["id"], url=entry.get("url"), ref=entry.get("ref"), sha=entry.get("sha"))

    # ---- interface -----------------------------------------------------------------------------

    async def current(self, *, stage: DeploymentStage) -> DeploymentRef | None:
        """What the stage's state file says is deployed."""
        entry = self._read(stage).get("current")
        return self._ref(entry) if entry else None

    async def find(self, *, stage: DeploymentStage, key: str) -> DeploymentRef | None:
        """The deployment started with ``key`` (current or in the history)."""
        data = self._read(stage)
        for entry in [data.get("current"), *reversed(data.get("history", []))]:
            if entry and entry.get("key") == key:
                return self._ref(entry)
        return None

    async def start(self, *, stage: DeploymentStage, ref: str, sha: str, key: str) -> DeploymentRef:
        """Check ``sha`` out and deploy it with the stage's run command, command or hook."""
        async with self._locks[stage]:
            found = await self.find(stage=stage, key=key)
            if found is not None:
                return found  # idempotent: this key was deployed already
            cfg = self.stages[stage]
            dep_id = f"cmd_{stage.value}_{sha[:10]}_{hashlib.sha256(key.encode()).hexdigest()[:6]}"
            checkout = await self.forge.fetch_ref(ref=sha or ref, into=self.state_dir / "checkouts" / dep_id)
            values = {
                "port": str(cfg.port or ""),
                "checkout": str(checkout),
                "ref": ref,
                "sha": sha,
                "stage": stage.value,
            }
            entry: dict[str, Any] = {
                "id": dep_id, "url": cfg.url, "ref": ref, "sha": sha, "key": key, "pid": None,
                "checkout": str(checkout), "started_at": time.time(),
            }  # fmt: skip
            if cfg.run:
                if cfg.build:
                    await self._build(cfg, values, checkout)  # the previous process serves meanwhile
                    entry["started_at"] = time.time()  # ready_timeout_s counts from the start, not the build
                await self._stop_current(stage)
                entry["pid"] = await self._spawn(cfg, values, checkout, stage)
            elif cfg.command:
                await self._run_command(cfg, values, checkout)
            elif cfg.hook:
                await self._call_hook(cfg, stage=stage, ref=ref, sha=sha, key=key)
            data = self._read(stage)
            if data.get("current"):
                data.setdefault("history", []).append(data["current"])
                data["history"] = data["history"][-20:]
            data["current"] = entry
            self._write(stage, data)
            return self._ref(entry)

    async def status(self, *, stage: DeploymentStage, deployment: DeploymentRef) -> DeploymentStatus:
        """Ready once the process answers on ready_url; error when it died or was replaced."""
        entry = self._read(stage).get("current")
        if not entry or entry["id"] != deployment.id:
            return DeploymentStatus.ERROR
        cfg = self.stages[stage]
        pid = entry.get("pid")
        if pid is not None and not _alive(int(pid)):
            return DeploymentStatus.ERROR
        if cfg.ready_url is None:
            return DeploymentStatus.READY
        if await self._answers(cfg.ready_url):
            return DeploymentStatus.READY
        if time.time() - float(entry.get("started_at", 0)) > cfg.ready_timeout_s:
            return DeploymentStatus.ERROR
        return DeploymentStatus.BUILDING

    async def activate(self, *, stage: DeploymentStage, deployment: DeploymentRef) -> DeploymentRef:
        """Nothing to promote: the started process serves the stage directly."""
        return deployment

    async def rollback(
        self, *, stage: DeploymentStage, to: DeploymentRef | None, failed: DeploymentRef | None, key: str
    ) -> DeploymentRef | None:
        """Redeploy the previous good ref; with none, stop the failed deployment."""
        if to is None or not (to.sha or to.ref):
            async with self._locks[stage]:
                await self._stop_current(stage)
                data = self._read(stage)
                if data.get("current"):
                    data.setdefault("history", []).append(data["current"])
                data["current"] = None
                self._write(stage, data)
            return None
        return await self.start(stage=stage, ref=to.ref or to.sha or "", sha=to.sha or to.ref or "", key=key)

    async def stop_all(self) -> None:
        """Stop every process this deployer started that still runs, current or superseded (tests, demo teardown)."""
        for stage in DeploymentStage:
            await self._stop_current(stage)
            for entry in self._read(stage).get("history", []):
                await self._stop_pid(entry.get("pid"))

    # ---- mechanics -----------------------------------------------------------------------------

    async def _stop_current(self, stage: DeploymentStage) -> None:
        entry = self._read(stage).get("current")
        await self._stop_pid(entry.get("pid") if entry else None)

    @staticmethod
    async def _stop_pid(pid: int | None) -> None:
        """Stop a deployment's process group: SIGTERM, then SIGKILL after 5 s."""
        if not pid or not _alive(int(pid)):
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(int(pid), signal.SIGTERM)
        for _ in range(50):
            if not _alive(int(pid)):
                return
            await asyncio.sleep(0.1)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(int(pid), signal.SIGKILL)

    async def _spawn(self, cfg: CommandStage, values: dict[str, str], checkout: Path, stage: DeploymentStage) -> int:
        argv = shlex.split((cfg.run or "").format(**values))
        log = open(checkout.parent / f"{checkout.name}.log", "ab")  # noqa: SIM115, ASYNC230 - handed to the child
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                cwd=str(checkout),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env={**os.environ, **cfg.env, "MEDIC_DEPLOY_STAGE": stage.value, "PORT": values["port"]},
                start_new_session=True,  # the app outlives a releaser restart
            )
        finally:
            log.close()
        # Reap the child in the background so it never lingers as a zombie while we run.
        reaper = asyncio.get_running_loop().create_task(proc.wait())
        self._reapers.add(reaper)
        reaper.add_done_callback(self._reapers.discard)
        return int(proc.pid)

    async def _build(self, cfg: CommandStage, values: dict[str, str], checkout: Path) -> None:
        """Run the stage's build in the checkout, its output in the deployment's log; DeployError when it fails."""
        argv = shlex.split((cfg.build or "").format(**values))
        log_path = checkout.parent / f"{checkout.name}.log"
        log = open(log_path, "ab")  # noqa: SIM115, ASYNC230 - handed to the child
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv, cwd=str(checkout), stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
                env={**os.environ, **cfg.env}, start_new_session=True,
            )  # fmt: skip
        finally:
            log.close()
        try:
            await bounded(proc.wait(), cfg.build_timeout_s)
        except TimeoutError:
            await self._kill_group(proc)
            raise DeployError(f"build timed out after {cfg.build_timeout_s:.0f}s (log: {log_path})") from None
        except asyncio.CancelledError:
            await self._kill_group(proc)  # a stopping releaser leaves no build behind
            raise
        if proc.returncode != 0:
            tail = log_path.read_bytes()[-500:].decode(errors="replace")
            raise DeployError(f"build exited {proc.returncode}: {tail}")

    @staticmethod
    async def _kill_group(proc: asyncio.subprocess.Process) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()

    async def _run_command(self, cfg: CommandStage, values: dict[str, str], checkout: Path) -> None:
        argv = shlex.split((cfg.command or "").format(**values))
        proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=str(checkout),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, **cfg.env},
        )
        try:
            out, _ = await bounded(proc.communicate(), cfg.ready_timeout_s)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise DeployError(f"deploy command timed out after {cfg.ready_timeout_s:.0f}s") from None
        if proc.returncode != 0:
            tail = out.decode(errors="replace")[-500:]
            raise DeployError(f"deploy command exited {proc.returncode}: {tail}")

    @staticmethod
    async def _call_hook(cfg: CommandStage, *, stage: DeploymentStage, ref: str, sha: str, key: str) -> None:
        async with httpx.AsyncClient(timeout=cfg.ready_timeout_s) as client:
            try:
                response = await client.post(
                    cfg.hook or "", json={"stage": stage.value, "ref": ref, "sha": sha, "deploy_key": key}
                )
            except httpx.HTTPError as exc:
                raise DeployError(f"deploy hook unreachable: {exc}") from exc
        if not response.is_success:
            raise DeployError(f"deploy hook answered {response.status_code}")

    @staticmethod
    async def _answers(url: str) -> bool:
        try:
            async with httpx.AsyncClient(timeout=2.0) as client:
                return (await client.get(url)).is_success
        except httpx.HTTPError:
            return False
