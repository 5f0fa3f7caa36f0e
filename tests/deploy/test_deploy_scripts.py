"""The shell pieces of the deployment, run for real against real git and the real shop: the shop image's setup and
stage runner, the releaser's deploy-stage script, and the target clone init container's script.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from .helpers import DEPLOY_STAGE, K8S, NODE_BIN, ROOT, SHOP_DOCKERFILE


def test_shop_image_pins_the_api_runtime_to_the_workspace_lock() -> None:
    pins = dict(re.findall(r"\b([a-z][a-z0-9_-]*)==([0-9][^\s\\]*)", SHOP_DOCKERFILE.read_text()))
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    locked = {p["name"]: p["version"] for p in lock["package"] if "version" in p}
    assert {"fastapi", "uvicorn", "httpx", "pytest"} <= set(pins)
    for name, version in pins.items():
        assert locked.get(name) == version, f"{name}=={version} in shop.Dockerfile, {locked.get(name)} in uv.lock"


@pytest.fixture(scope="module")
def node_tools() -> Path:
    """tools/node/node_modules/.bin with tsx (installed from the committed lock file when missing)."""
    if not (NODE_BIN / "tsx").exists():
        result = subprocess.run(
            ["bash", str(ROOT / "scripts" / "install-node-tools.sh")], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, f"could not install tools/node: {result.stdout}{result.stderr}"
    return NODE_BIN


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def heredoc(dockerfile: str, target: str) -> str:
    """The text of a `COPY <<'EOF' ... target` heredoc in a Dockerfile."""
    match = re.search(rf"^COPY (?:--chmod=\d+ )?<<'EOF' {re.escape(target)}\n(.*?)^EOF$", dockerfile, re.MULTILINE | re.DOTALL)
    assert match, f"no heredoc for {target}"
    return match.group(1)


def wait_for_health(url: str, *, want_commit: str | None = None, timeout_s: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    last: object = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                body: dict[str, Any] = json.loads(response.read())
            if want_commit is None or body.get("commit") == want_commit:
                return body
            last = body
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            last = exc
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer as expected within {timeout_s}s: {last!r}")


@pytest.fixture
def shop_stage_scripts(tmp_path: Path) -> Path:
    """The shop image's shop-setup, shop-stage and listen-all.mjs, extracted from the Dockerfile into a bin dir."""
    text = SHOP_DOCKERFILE.read_text()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("shop-setup", "shop-stage"):
        script = bin_dir / name
        script.write_text(heredoc(text, f"/usr/local/bin/{name}"))
        script.chmod(0o755)
    (bin_dir / "listen-all.mjs").write_text(heredoc(text, "/opt/shop/listen-all.mjs"))
    return bin_dir


@pytest.mark.slow
def test_shop_stage_serves_on_every_interface_and_a_deploy_waits_until_the_new_commit_serves(
    shop_stage_scripts: Path, node_tools: Path, tmp_path: Path
) -> None:
    root = tmp_path / "srv"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHOP_", "PYTEST_", "NODE_OPTIONS"))}
    env.update(
        PATH=os.pathsep.join([str(shop_stage_scripts), str(node_tools), str(Path(sys.executable).parent), env["PATH"]]),
        SHOP_ROOT=str(root),
        SHOP_SRC=str(ROOT / "examples" / "shop"),
        SHOP_DEPLOYMENTS=str(root / "deployments"),
        SHOP_LOG_DIR=str(root / "logs"),
        NODE_OPTIONS=f"--import={(shop_stage_scripts / 'listen-all.mjs').as_uri()}",
        PYTHONDONTWRITEBYTECODE="1",
    )
    setup = subprocess.run(["shop-setup"], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert setup.returncode == 0, setup.stderr
    production = root / "deployments" / "production"
    head = git("rev-parse", "HEAD", cwd=production)
    assert head == git("rev-parse", "main", cwd=root / "repo" / "forge.git")
    again = subprocess.run(["shop-setup"], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert again.returncode == 0 and "ready" in again.stdout  # a second run keeps what is there

    web_port, api_port = free_port(), free_port()
    env.update(SHOP_WEB_PORT=str(web_port), SHOP_API_PORT=str(api_port))
    stage = subprocess.Popen(["shop-stage", "production"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        # 127.0.0.2 reaches a socket only when it listens on every interface, as it must in a container
        web = wait_for_health(f"http://127.0.0.2:{web_port}/health", want_commit=head)
        api = wait_for_health(f"http://127.0.0.2:{api_port}/health", want_commit=head)
        assert web["release"] == f"shop-web@{head[:12]}" and api["release"] == f"shop-api@{head[:12]}"

        # the releaser's deploy command checks out another commit and returns once both services serve it
        previous = git("rev-parse", "HEAD~1", cwd=production)
        deploy_env = {**env, "SHOP_STAGE_HOST": "127.0.0.2", "SHOP_DEPLOY_TIMEOUT_S": "60"}
        deploy = subprocess.run(
            ["sh", str(DEPLOY_STAGE), "production", previous],
            env=deploy_env,
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
        assert deploy.returncode == 0, deploy.stderr
        assert f"serves {previous}" in deploy.stdout
        wait_for_health(f"http://127.0.0.2:{web_port}/health", want_commit=previous, timeout_s=0.5)
        wait_for_health(f"http://127.0.0.2:{api_port}/health", want_commit=previous, timeout_s=0.5)
        # a commit the forge does not have fails the deploy and leaves the stage as it was
        bad = subprocess.run(
            ["sh", str(DEPLOY_STAGE), "production", "0" * 40],
            env=deploy_env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert bad.returncode != 0
        assert git("rev-parse", "HEAD", cwd=production) == previous
        urllib.request.urlopen(f"http://127.0.0.1:{web_port}/api/practices", timeout=5).read()
        lines = [json.loads(line) for line in (root / "logs" / "web-production.jsonl").read_text().splitlines()]
        assert any(line.get("commit") == previous and line.get("environment") == "production" for line in lines)
    finally:
        stage.send_signal(signal.SIGTERM)
        try:
            output, _ = stage.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            stage.kill()
            output, _ = stage.communicate()
    assert stage.returncode == 0, output
    assert f"moved to {previous}" in output
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://127.0.0.1:{web_port}/health", timeout=2)


def test_deploy_stage_fails_when_the_stage_never_serves_the_commit(forge: Path, tmp_path: Path) -> None:
    stage = tmp_path / "deployments" / "staging"
    git("clone", "--quiet", "--branch", "staging", str(forge), str(stage))
    env = {
        **os.environ,
        "SHOP_DEPLOYMENTS": str(tmp_path / "deployments"),
        "SHOP_STAGE_HOST": "127.0.0.1",
        "SHOP_WEB_PORT": str(free_port()),
        "SHOP_API_PORT": str(free_port()),
        "SHOP_DEPLOY_TIMEOUT_S": "1.5",
    }
    head = git("rev-parse", "HEAD", cwd=stage)
    result = subprocess.run(
        ["sh", str(DEPLOY_STAGE), "staging", head], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode != 0
    assert f"do not serve {head}" in result.stderr


def git(*args: str, cwd: Path | None = None) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.com"}
    env.update(GIT_COMMITTER_NAME="T", GIT_COMMITTER_EMAIL="t@example.com")
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def forge(tmp_path: Path) -> Path:
    """A bare repository with one commit on main and one on staging."""
    bare = tmp_path / "forge.git"
    git("init", "--quiet", "--bare", "-b", "main", str(bare))
    work = tmp_path / "author"
    git("clone", "--quiet", str(bare), str(work))
    (work / "app.py").write_text("print('hi')\n")
    git("add", "app.py", cwd=work)
    git("commit", "--quiet", "-m", "first", cwd=work)
    git("push", "--quiet", "origin", "main", "main:staging", cwd=work)
    return bare


def run_clone(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = K8S / "base" / "scripts" / "clone-target.sh"
    full = {k: v for k, v in os.environ.items() if not k.startswith("TARGET_")} | env
    return subprocess.run(["/bin/sh", str(script)], env=full, capture_output=True, text=True, timeout=60, check=False)


def test_clone_target_clones_then_refreshes_and_never_writes_the_token(forge: Path, tmp_path: Path) -> None:
    dest = tmp_path / "data" / "repo"
    dest.parent.mkdir()
    token = "ghp_" + "s3cr3t" * 6
    env = {"TARGET_REPO_URL": str(forge), "TARGET_REPO_DIR": str(dest), "GITHUB_TOKEN": token}
    first = run_clone(env)
    assert first.returncode == 0, first.stderr
    assert git("rev-parse", "--abbrev-ref", "HEAD", cwd=dest) == "main"
    assert git("remote", "get-url", "origin", cwd=dest) == str(forge)
    assert not (tmp_path / "data" / "repo.partial").exists()
    # the token is nowhere on disk, but git gets it from the environment when it asks
    assert not [p for p in dest.joinpath(".git").rglob("*") if p.is_file() and token.encode() in p.read_bytes()]
    fill = subprocess.run(
        ["git", "credential", "fill"],
        cwd=dest,
        input="protocol=https\nhost=github.com\n\n",
        env={**os.environ, "GITHUB_TOKEN": token, "GIT_TERMINAL_PROMPT": "0"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "username=x-access-token" in fill.stdout and f"password={token}" in fill.stdout

    # a restarted pod keeps its volume: the script fetches what the forge has gained
    work = tmp_path / "author"
    (work / "app.py").write_text("print('hello')\n")
    git("commit", "--quiet", "-am", "second", cwd=work)
    git("push", "--quiet", "origin", "main", cwd=work)
    second = run_clone(env)
    assert second.returncode == 0, second.stderr
    assert "refreshed" in second.stdout
    assert git("rev-parse", "origin/main", cwd=dest) == git("rev-parse", "main", cwd=work)


def test_clone_target_refuses_a_token_variable_that_is_not_a_name(forge: Path, tmp_path: Path) -> None:
    result = run_clone(
        {"TARGET_REPO_URL": str(forge), "TARGET_REPO_DIR": str(tmp_path / "r"), "TARGET_GIT_TOKEN_ENV": "X;rm -rf /"}
    )
    assert result.returncode == 2
    assert "must name an environment variable" in result.stderr
    assert not (tmp_path / "r").exists()
