"""Deployed paths mapped to repository files, and in-app decisions."""

from __future__ import annotations

import pytest

from medic_contracts import StackFrame
from medic_stacktrace import (
    InAppRules,
    RepoPathResolver,
    find_culprit,
    is_library_path,
    normalize_deployed_path,
    parse_trace,
    repo_frame_path,
    repo_frames,
)

NEXT_APP = [
    "package.json",
    "src/app/api/practices/[id]/route.ts",
    "src/app/(dashboard)/page.tsx",
    "src/lib/db.ts",
    "src/lib/format.ts",
    "src/pages/api/legacy.ts",
    "tests/lib/db.test.ts",
    "dist/bundle.js",
]


@pytest.mark.parametrize(
    ("deployed", "expected"),
    [
        ("/var/task/.next/server/app/api/practices/[id]/route.js", "src/app/api/practices/[id]/route.ts"),
        ("/var/task/.next/server/app/(dashboard)/page.js", "src/app/(dashboard)/page.tsx"),
        ("/var/task/.next/server/pages/api/legacy.js", "src/pages/api/legacy.ts"),
        ("webpack-internal:///(rsc)/./src/lib/db.ts", "src/lib/db.ts"),
        ("webpack-internal:///(app-pages-browser)/./src/lib/format.ts", "src/lib/format.ts"),
        ("webpack://_N_E/./src/lib/db.ts", "src/lib/db.ts"),
        ("webpack:///./src/lib/db.ts", "src/lib/db.ts"),
        ("app:///src/lib/db.ts", "src/lib/db.ts"),
        ("file:///app/src/lib/db.ts", "src/lib/db.ts"),
        ("/usr/src/app/src/lib/db.ts", "src/lib/db.ts"),
        ("~/dist/bundle.js", "dist/bundle.js"),
        ("http://localhost:3000/dist/bundle.js?v=3#x", "dist/bundle.js"),
        ("C:\\builds\\shop\\src\\lib\\db.ts", "src/lib/db.ts"),
        ("/home/runner/work/shop/shop/src/lib/format.ts", "src/lib/format.ts"),
    ],
)
def test_deployed_paths_resolve_to_repository_files(deployed: str, expected: str) -> None:
    assert RepoPathResolver(NEXT_APP).resolve(deployed) == expected


def test_configured_prefixes_apply_first_longest_first() -> None:
    resolver = RepoPathResolver(["web/src/lib/db.ts", "src/lib/db.ts"], {"/srv/": "", "/srv/www/": "web/"})
    assert resolver.resolve("/srv/www/src/lib/db.ts") == "web/src/lib/db.ts"
    assert resolver.resolve("/srv/src/lib/db.ts") == "src/lib/db.ts"


def test_longest_suffix_must_be_unique() -> None:
    resolver = RepoPathResolver(["a/util.py", "b/util.py", "b/deep/handlers.py"])
    assert resolver.resolve("/opt/svc/a/util.py") == "a/util.py"
    assert resolver.resolve("/opt/svc/util.py") is None  # a/util.py or b/util.py: ambiguous
    assert resolver.resolve("/x/y/handlers.py") == "b/deep/handlers.py"
    assert resolver.resolve("/x/y/missing.py") is None


def test_resolver_only_ever_returns_repository_files() -> None:
    resolver = RepoPathResolver(["src/app.py"])
    for hostile in ("../../etc/passwd", "/etc/passwd", "src/../../.env", "file:///etc/shadow", "", "   "):
        assert resolver.resolve(hostile) in (None, "src/app.py")
    assert resolver.resolve("/deploy/../src/app.py") == "src/app.py"


def test_compiled_names_fall_back_to_typescript_sources() -> None:
    resolver = RepoPathResolver(["src/lib/db.ts"])
    assert resolver.resolve("/var/task/dist/lib/db.js") == "src/lib/db.ts"
    assert resolver.candidates("/var/task/.next/server/app/x/route.js")[:2] == ["src/app/x/route.js", "src/app/x/route.ts"]


def test_normalize_strips_hosts_schemes_and_deploy_roots() -> None:
    assert normalize_deployed_path("https://cdn.example.com/_next/static/chunks/app/page-1a2b.js") == (
        "_next/static/chunks/app/page-1a2b.js"
    )
    assert normalize_deployed_path("file://mac/Home/Desktop/test.html") == "Home/Desktop/test.html"
    assert normalize_deployed_path("/var/task/") == ""
    assert normalize_deployed_path("/code/errors/views.py", {"/code/": "backend/"}) == "backend/errors/views.py"


@pytest.mark.parametrize(
    "path",
    [
        "/usr/local/lib/python3.11/site-packages/django/views/generic/base.py",
        "/usr/lib/python3/dist-packages/requests/api.py",
        "/usr/lib/python3.11/json/decoder.py",
        "/root/.pyenv/versions/3.11.7/lib/python3.11/asyncio/runners.py",
        "<frozen runpy>",
        "/tmp/<frozen runpy>",
        "node:internal/modules/cjs/loader",
        "internal/process/task_queues.js",
        "/var/task/node_modules/next/dist/server/base-server.js",
        "webpack-internal:///(rsc)/./node_modules/next/dist/compiled/next-server/app-route.runtime.dev.js",
        "webpack://_N_E/webpack/bootstrap",
        "/var/task/.next/server/webpack-runtime.js",
        "/var/task/___next_launcher.cjs",
        "/app/node_modules/.pnpm/zod@3.22.4/node_modules/zod/lib/types.js",
        "[native code]",
        "<anonymous>",
        "actionpack (6.1.7.7) lib/action_controller/metal/basic_implicit_render.rb",
    ],
)
def test_library_and_runtime_paths_are_not_in_app(path: str) -> None:
    assert is_library_path(path)
    assert not InAppRules().is_in_app(path)


@pytest.mark.parametrize(
    "path",
    [
        "/var/task/.next/server/app/api/practices/[id]/route.js",
        "webpack-internal:///(rsc)/./src/lib/db.ts",
        "/code/errors/views.py",
        "src/app/page.tsx",
        "/srv/app/lib/python_helpers.py",
    ],
)
def test_application_paths_are_in_app(path: str) -> None:
    assert not is_library_path(path)
    assert InAppRules().is_in_app(path)


def test_source_roots_limit_in_app_when_dot_is_not_a_root() -> None:
    rules = InAppRules(source_roots=("src", "app"), extra_library_patterns=(r"(^|/)generated/",))
    assert rules.is_in_app("/var/task/src/lib/db.ts")
    assert rules.is_in_app("app/api/route.ts")
    assert not rules.is_in_app("/var/task/scripts/seed.ts")
    assert not rules.is_in_app("src/generated/client.ts")


def test_culprit_mapped_by_name_only_is_flagged_as_compiled() -> None:
    text = (
        "TypeError: Cannot read properties of null (reading 'name')\n"
        "    at GET (/var/task/.next/server/app/api/practices/[id]/route.js:1:2345)\n"
        "    at async /var/task/node_modules/next/dist/server/base-server.js:1:2\n"
    )
    culprit = find_culprit(parse_trace(text), RepoPathResolver(NEXT_APP))
    assert culprit is not None and culprit.repo_path == "src/app/api/practices/[id]/route.ts"
    assert culprit.compiled  # line 1 is the bundle's, not the TypeScript file's

    python = find_culprit(
        parse_trace('Traceback (most recent call last):\n  File "/app/src/lib/db.py", line 3, in get\nKeyError: 1\n'),
        RepoPathResolver(["src/lib/db.py"]),
    )
    assert python is not None and not python.compiled


@pytest.mark.parametrize(
    "path",
    [
        "/srv/app/.venv/lib/python3.11/site-packages/flask/app.py",
        "/home/dev/project/.venv/bin/gunicorn",
        "/work/__pypackages__/3.11/lib/requests/api.py",
        "<frozen>",
        "<frozen runpy>",
    ],
)
def test_virtualenvs_pep582_installs_and_frozen_modules_are_library_code(path: str) -> None:
    assert is_library_path(path)


def test_repo_frames_rank_repository_files_innermost_first_whatever_the_sdk_said() -> None:
    resolver = RepoPathResolver(["errors/views.py", "errors/models.py", "app/views.py"])
    frames = (
        StackFrame(file="/code/errors/models.py", line=3, in_app=False),  # the SDK said library: the repository decides
        StackFrame(file="/usr/lib/python3.11/site-packages/django/core/handlers/base.py", line=9, in_app=True),
        StackFrame(file="/code/errors/views.py", line=18, function="view", in_app=True),
        StackFrame(file="/zipapp/main.pyz/views.py", module="app.views", line=5),  # resolved by its module
        StackFrame(file="/code/errors/views.py", line=None),  # no line: skipped
    )
    ranked = repo_frames(frames, resolver)
    assert [(f.file, f.line, f.depth) for f in ranked] == [
        ("app/views.py", 5, 1),
        ("errors/views.py", 18, 2),
        ("errors/models.py", 3, 4),
    ]
    assert repo_frames(frames, resolver, limit=1)[0].function is None
    assert repo_frame_path(StackFrame(file="/var/task/node_modules/next/dist/server/base-server.js"), resolver) is None


def test_deploy_roots_and_webpack_layer_prefixes_are_stripped() -> None:
    assert normalize_deployed_path("/home/app/errors/views.py") == "errors/views.py"
    assert normalize_deployed_path("/srv/errors/views.py") == "errors/views.py"
    assert normalize_deployed_path("webpack:///(app-pages-browser)/./src/lib/db.ts") == "src/lib/db.ts"
