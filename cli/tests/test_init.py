"""`medic init` writes a commented medic.toml from what a repository shows, valid for every service; the CLI
finds a running dev stack's URL and token by itself."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from medic.commands.init import check_target
from medic.main import main
from medic_contracts import load_target
from medic_control.client import ClientConfig

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "shop"


def _repo(tmp_path: Path, source: Path, *, remote: bool = True) -> Path:
    repo = tmp_path / source.name
    shutil.copytree(source, repo, ignore=shutil.ignore_patterns("node_modules", ".venv", "__pycache__"))
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "-C", str(repo)]
    subprocess.run([*git, "init", "-q", "-b", "trunk"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    if remote:
        subprocess.run(["git", "init", "-q", "--bare", str(tmp_path / "remote.git")], check=True)
        subprocess.run([*git, "remote", "add", "origin", str(tmp_path / "remote.git")], check=True)
    return repo


def test_init_reads_a_typescript_repository_and_writes_a_target_every_service_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _repo(tmp_path, EXAMPLES / "web")
    assert main(["init", str(repo)]) == 0
    target = load_target(repo / "medic.toml")
    assert target.language == "typescript" and target.test_command == "npm test"
    assert target.setup_command in ("npm ci", "npm install")
    assert target.default_branch == "trunk" and "src" in target.source_roots
    assert target.forge == {"kind": "local", "remote": str(tmp_path / "remote.git")}
    assert "src/app/api/billing/**" in target.protected_paths
    assert check_target(repo / "medic.toml") == []
    text = (repo / "medic.toml").read_text()
    assert "# present in this repository: " in text and "src/app/api/billing/**" in text.split("# present")[1]
    assert "next: medic dev up --targets" in capsys.readouterr().out


def test_init_reads_a_python_repository(tmp_path: Path) -> None:
    repo = _repo(tmp_path, EXAMPLES / "api", remote=False)
    assert main(["init", str(repo)]) == 0
    target = load_target(repo / "medic.toml")
    assert target.language == "python" and "pytest" in target.test_command
    assert target.setup_command and "pip install" in target.setup_command and "app" in target.source_roots
    assert target.forge == {}  # no remote: said so with a CHECK line, nothing invented
    assert "CHECK: no origin remote found" in (repo / "medic.toml").read_text()
    assert check_target(repo / "medic.toml") == []


def test_init_never_overwrites_without_force(tmp_path: Path) -> None:
    repo = _repo(tmp_path, EXAMPLES / "api", remote=False)
    (repo / "medic.toml").write_text("# mine\n")
    assert main(["init", str(repo)]) == 1
    assert (repo / "medic.toml").read_text() == "# mine\n"
    assert main(["init", str(repo), "--force"]) == 0
    assert load_target(repo / "medic.toml").language == "python"


def test_a_target_with_a_bad_field_is_reported_naming_it(tmp_path: Path) -> None:
    repo = _repo(tmp_path, EXAMPLES / "api", remote=False)
    assert main(["init", str(repo)]) == 0
    path = repo / "medic.toml"
    path.write_text(path.read_text().replace('kind = "command"', 'kind = "kubectl"'))
    problems = check_target(path)
    assert len(problems) == 1 and "deployer.kind" in problems[0]


def test_the_cli_finds_a_running_dev_stacks_url_and_token(tmp_path: Path) -> None:
    state = {"services": {"control-api": {"url": "http://127.0.0.1:18080", "pid": 1, "port": 18080}}, "admin_token": "mdc_x"}
    (tmp_path / "stack.json").write_text(json.dumps(state))
    config = ClientConfig.load({"MEDIC_DEV_DIR": str(tmp_path), "MEDIC_CLI_CONFIG": str(tmp_path / "none.toml")})
    assert config.api_url == "http://127.0.0.1:18080" and config.token == "mdc_x"
    explicit = ClientConfig.load(
        {
            "MEDIC_DEV_DIR": str(tmp_path),
            "MEDIC_API_URL": "http://api:1",
            "MEDIC_TOKEN": "mdc_y",
            "MEDIC_CLI_CONFIG": "/nonexistent",
        }
    )
    assert explicit.api_url == "http://api:1" and explicit.token == "mdc_y"  # the environment wins
    nothing = ClientConfig.load({"MEDIC_DEV_DIR": str(tmp_path / "none"), "MEDIC_CLI_CONFIG": "/nonexistent"})
    assert nothing.api_url == "http://127.0.0.1:8080" and nothing.token is None


def test_dev_status_names_each_source_and_a_failing_one_with_its_error(capsys: pytest.CaptureFixture[str]) -> None:
    from medic.commands.dev import _print_sources

    _print_sources(
        {
            "targets": {
                "shop": {
                    "sentry": {"status": "error", "last_error": "ConnectError: sentry.example unreachable"},
                    "web-log": {"status": "ok", "last_error": None},
                }
            },
            "failing": ["shop/sentry: ConnectError: sentry.example unreachable"],
        }
    )
    out = capsys.readouterr().out
    assert "source shop/sentry: error: ConnectError: sentry.example unreachable" in out
    assert "source shop/web-log: ok" in out
