"""One AsyncAPI 3.0 document per Medic service, from each service's own runtime.

Each service's runtime is built in-process exactly as its console script builds it, from default
settings, and never started: its bus subscriptions and declared publications are what the
document describes (see :mod:`medic_runtime.asyncapi`). The implementer and the releaser wire
their real handlers only with a target file, so they get a minimal one: an empty git repository,
a local bare forge, the command deployer and the offline playbook LLM.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from medic_runtime import ServiceRuntime, ServiceSettings
from medic_runtime.asyncapi import document

__all__ = ["SERVICES", "export_asyncapi", "render", "service_documents"]

#: The services with a Kafka interface, in pipeline order (file names: ``<service>.asyncapi.json``).
SERVICES = ("watcher", "investigator", "implementer", "releaser", "control-api")

_TARGET = """\
[target]
name = "asyncapi"
repo = "{repo}"
language = "python"
test_command = "true"

[forge]
kind = "local"
remote = "{forge}"

[deployer]
kind = "command"

[deployer.staging]
run = "true"
port = 1

[deployer.production]
run = "true"
port = 2

[llm]
provider = "playbook"
"""


def _minimal_target(workdir: Path) -> Path:
    """A target file the implementer and releaser accept at build time (nothing in it is ever run)."""
    repo, forge = workdir / "repo", workdir / "forge.git"
    repo.mkdir()
    # Hooks off: nothing from the environment runs while the throwaway repositories are made.
    git = ["git", "-c", "core.hooksPath=/dev/null"]
    subprocess.run([*git, "init", "-q", str(repo)], check=True, timeout=60)
    subprocess.run([*git, "init", "-q", "--bare", str(forge)], check=True, timeout=60)
    path = workdir / "medic.toml"
    path.write_text(_TARGET.format(repo=repo, forge=forge), encoding="utf-8")
    return path


def _builders(workdir: Path, target_file: Path) -> dict[str, Callable[[], ServiceRuntime]]:
    """Per service, how to build its runtime from default settings (a fixed instance id keeps documents stable)."""
    from medic_control.app import build as build_control
    from medic_control.settings import ControlSettings
    from medic_implementer.app import build as build_implementer
    from medic_implementer.settings import ImplementerSettings
    from medic_investigator.app import build as build_investigator
    from medic_investigator.settings import InvestigatorSettings
    from medic_releaser.app import build as build_releaser
    from medic_releaser.settings import ReleaserSettings
    from medic_watcher.app import build as build_watcher
    from medic_watcher.settings import WatcherSettings

    # The names that appear in the documents are pinned to their defaults: a MEDIC_TOPIC_PREFIX or
    # MEDIC_KAFKA_BOOTSTRAP in the caller's environment must not change the committed contract.
    defaults = ServiceSettings.model_fields
    common: dict[str, Any] = {
        "data_dir": workdir / "data",
        "instance_id": "docs",
        "topic_prefix": defaults["topic_prefix"].default,
        "kafka_bootstrap": defaults["kafka_bootstrap"].default,
    }

    return {
        "watcher": lambda: build_watcher(WatcherSettings(**common)),
        "investigator": lambda: build_investigator(InvestigatorSettings(**common)),
        "implementer": lambda: build_implementer(ImplementerSettings(**common, target_file=target_file)),
        "releaser": lambda: build_releaser(ReleaserSettings(**common, target_file=target_file)),
        "control-api": lambda: build_control(ControlSettings(**common)),
    }


def service_documents() -> dict[str, dict[str, Any]]:
    """Service name -> its AsyncAPI 3.0 document, each generated from the service's built runtime."""
    with tempfile.TemporaryDirectory(prefix="medic-asyncapi-") as tmp:
        workdir = Path(tmp)
        builders = _builders(workdir, _minimal_target(workdir))
        return {name: document(builders[name]()) for name in SERVICES}


def export_asyncapi(directory: str | Path) -> list[Path]:
    """Write ``<service>.asyncapi.json`` for every service into ``directory``; return the paths."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, doc in service_documents().items():
        path = out / f"{name}.asyncapi.json"
        path.write_text(render(doc), encoding="utf-8")
        written.append(path)
    return written


def render(doc: dict[str, Any]) -> str:
    """The committed form of a document: sorted keys, two-space indent, final newline."""
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
