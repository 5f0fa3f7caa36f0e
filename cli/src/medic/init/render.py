"""The commented ``medic.toml`` written by ``medic init``."""

from __future__ import annotations

import json

from medic_contracts import DEFAULT_APPROVAL_PATHS, DEFAULT_PROTECTED_PATHS

from .detect import RepoFacts

__all__ = ["render"]


def _s(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a TOML basic string


def _list(values: list[str] | tuple[str, ...]) -> str:
    return "[" + ", ".join(_s(v) for v in values) + "]"


def _stage(name: str, facts: RepoFacts, port: int) -> str:
    run = facts.start_command or "echo 'CHECK: set the command that serves this stage on {port}'; exit 1"
    note = "" if facts.start_command else "  # CHECK: no start script found in the repository"
    return (
        f"[deployer.{name}]\n"
        f"run = {_s(run)}{note}\n"
        f"port = {port}\n"
        f'ready_url = "http://127.0.0.1:{port}/"\n'
        f'url = "http://127.0.0.1:{port}"\n'
    )


def render(facts: RepoFacts) -> str:
    """A medic.toml for ``facts``: every value either read from the repository or marked ``CHECK``."""
    test = facts.test_command or "echo 'CHECK: no test command found'; exit 1"
    lines = [
        f"# Medic target file for {facts.name}, written by `medic init` from what the repository shows.",
        "# Every section is validated by the service that reads it; a bad field stops start-up naming it.",
        "# Lines marked CHECK could not be read from the repository: fill them in before `medic dev up --targets`.",
        "",
        "[target]",
        f"name = {_s(facts.name)}",
        'repo = "."                                 # this repository (relative to this file)',
        f"language = {_s(facts.language)}",
        f"services = {_list([facts.name])}",
        f"default_branch = {_s(facts.default_branch)}",
        'staging_branch = "staging"                 # fixes are merged here first and watched on staging',
        f"test_command = {_s(test)}" + ("" if facts.test_command else "  # CHECK"),
    ]
    if facts.setup_command:
        lines.append(f"setup_command = {_s(facts.setup_command)}  # run once in each fresh worktree, in its own environment")
    lines += [
        "test_timeout_s = 600",
        f"source_roots = {_list(facts.source_roots)}",
        "# The fixer never writes these (Medic's defaults, which apply when this key is absent, are listed here",
        "# so you can see and extend them); approval_paths are written only after a human approves.",
        f"protected_paths = {_list(DEFAULT_PROTECTED_PATHS)}",
        f"approval_paths = {_list(DEFAULT_APPROVAL_PATHS)}",
    ]
    if facts.present_protected:
        lines.append(f"# present in this repository: {', '.join(facts.present_protected)}")
    for note in facts.notes:
        lines.append(f"# note: {note}")
    lines += [
        "",
        "# --- watcher: where production errors come from. Uncomment what you use; secrets only as *_env names.",
        "# [[sources]]",
        '# kind = "sentry"',
        '# name = "sentry"',
        '# org = "acme"',
        f'# project = "{facts.name}"',
        '# token_env = "SENTRY_AUTH_TOKEN"',
        "#",
        "# [[sources]]",
        '# kind = "logfile"',
        '# name = "production-log"',
        '# path = "/var/log/app/production.jsonl"',
        "",
        "# --- releaser: how each stage is deployed and watched ({checkout} and {port} are filled in).",
        "[deployer]",
        'kind = "command"',
        'state_dir = ".medic/deployments"',
        "",
        _stage("staging", facts, 3101),
        _stage("production", facts, 3100),
        "[release]",
        "staging_watch_s = 600",
        "production_watch_s = 1800",
        "",
    ]
    if facts.github_repo:
        lines += [
            "[forge]",
            'kind = "github"',
            f"repo = {_s(facts.github_repo)}",
            'token_env = "GITHUB_TOKEN"',
            "",
        ]
    elif facts.local_remote:
        lines += ["[forge]", 'kind = "local"', f"remote = {_s(facts.local_remote)}", ""]
    else:
        lines += ["# [forge]  CHECK: no origin remote found; Medic pushes fix branches there", '# kind = "github"', ""]
    lines += [
        "[llm]",
        'provider = "playbook"   # offline, rule-based; "claude" (with ANTHROPIC_API_KEY_FILE or ANTHROPIC_API_KEY) adds Claude',
        "",
        "[[notifiers]]",
        'kind = "console"',
        "",
    ]
    return "\n".join(lines)
