"""Source maps: VLQ decoding, real tsc/esbuild output run by node, and Node's own mapping as the oracle."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from medic_stacktrace import (
    RepoPathResolver,
    SourceMap,
    SourceMapError,
    SourceMapper,
    decode_vlq,
    find_culprit,
    parse_trace,
    source_map_url,
)

RunNode = Callable[..., str]
NodeTool = Callable[[str], Path]

ROUTE_TS = "src/app/api/practices/route.ts"


@pytest.mark.parametrize(
    ("segment", "values"),
    [
        ("A", [0]),
        ("C", [1]),
        ("D", [-1]),
        ("gB", [16]),
        ("2H", [123]),
        ("qxmvrH", [123456789]),
        ("AAgBC", [0, 0, 16, 1]),
        ("SAAQ,CAAC", None),
    ],
)
def test_vlq_segments_decode_to_signed_integers(segment: str, values: list[int] | None) -> None:
    if values is None:
        with pytest.raises(SourceMapError):
            decode_vlq(segment)  # ',' is not a base64 digit inside one segment
        return
    assert decode_vlq(segment) == values


def test_truncated_vlq_is_an_error() -> None:
    with pytest.raises(SourceMapError, match="truncated"):
        decode_vlq("g")


def _node_positions(tsapp: Path, entry: str) -> list[tuple[str, int, int]]:
    """Node's own source-map consumer (--enable-source-maps) as the reference answer."""
    node = shutil.which("node")
    assert node is not None
    result = subprocess.run(
        [node, "--enable-source-maps", entry], cwd=tsapp, capture_output=True, text=True, timeout=60, check=False
    )
    found = re.findall(r"\((/[^()]+\.ts):(\d+):(\d+)\)", result.stderr)
    return [(str(Path(f).relative_to(tsapp)), int(line), int(col)) for f, line, col in found]


@pytest.mark.parametrize("entry", ["dist/main.js", "bundle/main.min.js"])
def test_compiled_frames_map_to_typescript_exactly_as_node_maps_them(tsapp_dir: Path, run_node: RunNode, entry: str) -> None:
    text = run_node(tsapp_dir, entry)
    trace = parse_trace(text)
    assert trace.main is not None and trace.main.type == "TypeError"
    assert trace.frames[-1].file.endswith(".js")

    mapper = SourceMapper(tsapp_dir)
    mapped = mapper.map_trace(trace)

    assert mapper.errors == []
    ours = [(f.file, f.line, f.column) for f in reversed(mapped.frames) if f.file.endswith(".ts")]
    assert ours == _node_positions(tsapp_dir, entry)
    assert ours[0][0] == ROUTE_TS
    innermost = mapped.frames[-1]
    assert innermost.function == "GET"  # minified "c" restored from the caller's call site
    assert innermost.in_app


def test_minified_bundle_with_inline_map_gives_sources_content_and_a_culprit(tsapp_dir: Path, run_node: RunNode) -> None:
    javascript = (tsapp_dir / "bundle/main.min.js").read_text(encoding="utf-8")
    url = source_map_url(javascript)
    assert url is not None and url.startswith("data:application/json;base64,")

    trace = SourceMapper(tsapp_dir).map_trace(parse_trace(run_node(tsapp_dir, "bundle/main.min.js")))
    innermost = trace.frames[-1]
    assert innermost.context_line == "  const practice = findPractice(id);"
    assert innermost.post_context[0] == "  return practice!.name.toUpperCase();"

    files = [p.relative_to(tsapp_dir).as_posix() for p in tsapp_dir.rglob("*.ts")]
    culprit = find_culprit(trace, RepoPathResolver(files))
    assert culprit is not None and culprit.repo_path == ROUTE_TS and culprit.line == 4


def test_separate_map_files_resolve_sources_relative_to_the_map(tsapp_dir: Path) -> None:
    source_map = SourceMap.from_json((tsapp_dir / "dist/app/api/practices/route.js.map").read_bytes())
    position = source_map.lookup(7, 21)  # `practice.name` in tsc's output
    assert position is not None
    assert (position.source, position.line) == ("../../../../src/app/api/practices/route.ts", 5)


def test_index_maps_offset_their_sections(tsapp_dir: Path) -> None:
    inner = json.loads((tsapp_dir / "dist/app/api/practices/route.js.map").read_text(encoding="utf-8"))
    index = {"version": 3, "sections": [{"offset": {"line": 0, "column": 0}, "map": inner}]}
    index["sections"].append({"offset": {"line": 100, "column": 10}, "map": inner})
    source_map = SourceMap(index)
    direct = SourceMap(inner).lookup(7, 21)
    assert source_map.lookup(7, 21) == direct
    shifted = source_map.lookup(101, 11)  # line 100 (0-based) col 10 is the second section's origin
    assert shifted == SourceMap(inner).lookup(1, 1)
    assert source_map.lookup(107, 21) == direct
    assert source_map.lookup(101) == SourceMap(inner).lookup(1)


def test_a_frame_without_a_column_maps_through_the_first_mapping_of_its_line() -> None:
    # generated line 1: columns 4 and 10 map to original lines 3 and 7 (0-based 2 and 6)
    source_map = SourceMap({"version": 3, "sources": ["a.ts"], "names": [], "mappings": "IAEA,MAIA"})
    first = source_map.lookup(1)
    assert first is not None and (first.source, first.line) == ("a.ts", 3)
    assert source_map.lookup(1, 1) is None  # a column before the first mapping stays unmapped
    later = source_map.lookup(1, 11)
    assert later is not None and later.line == 7


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("not json", "not JSON"),
        ('{"version": 2, "mappings": ""}', "version"),
        ('{"version": 3, "sources": ["a.ts"], "mappings": "AA!A"}', "invalid base64"),
        ('{"version": 3, "sources": ["a.ts"], "mappings": "AA"}', "2 fields"),
        ('{"version": 3, "sections": [{"offset": {"line": 0, "column": 0}, "url": "x.map"}]}', "url"),
    ],
)
def test_broken_maps_raise_a_clear_error(document: str, message: str) -> None:
    with pytest.raises(SourceMapError, match=message):
        SourceMap.from_json(document).lookup(1, 1)


def test_broken_or_escaping_maps_leave_frames_unchanged_and_are_reported(tmp_path: Path) -> None:
    build = tmp_path / "build"
    build.mkdir()
    outside = tmp_path / "secret.map"
    outside.write_text('{"version": 3, "sources": ["stolen.ts"], "mappings": "AAAA"}', encoding="utf-8")
    (build / "escape.js").write_text("x();\n//# sourceMappingURL=../secret.map\n", encoding="utf-8")
    (build / "broken.js").write_text("x();\n", encoding="utf-8")
    (build / "broken.js.map").write_text("{nope", encoding="utf-8")
    bad_inline = base64.b64encode(b'{"version": 9}').decode()
    (build / "inline.js").write_text(f"x();\n//# sourceMappingURL=data:application/json;base64,{bad_inline}\n", encoding="utf-8")
    (build / "link.js").symlink_to(tmp_path / "elsewhere.js")
    (tmp_path / "elsewhere.js").write_text("x();\n", encoding="utf-8")

    text = "\n".join(
        ["Error: boom"] + [f"    at f (/var/task/{name}:1:1)" for name in ("escape.js", "broken.js", "inline.js", "link.js")]
    )
    trace = parse_trace(text)
    mapper = SourceMapper(build)
    mapped = mapper.map_trace(trace)

    assert mapped.frames == trace.frames
    assert any("broken.js" in e and "not JSON" in e for e in mapper.errors)
    assert any("inline.js" in e and "version" in e for e in mapper.errors)
    assert mapper.locate("/var/task/link.js") is None  # a symlink out of the build root is not followed


def test_fresh_esbuild_compile_maps_back_to_typescript(
    tmp_path: Path, tsapp_dir: Path, run_node: RunNode, node_tool: NodeTool
) -> None:
    esbuild = node_tool("esbuild")
    shutil.copytree(tsapp_dir / "src", tmp_path / "src")
    subprocess.run(
        [str(esbuild), "src/main.ts", "--bundle", "--platform=node", "--sourcemap", "--outfile=out/server.js"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert (tmp_path / "out/server.js.map").exists()
    trace = SourceMapper(tmp_path).map_trace(parse_trace(run_node(tmp_path, "out/server.js")))
    assert (trace.frames[-1].file, trace.frames[-1].line) == (ROUTE_TS, 5)


def test_tsx_runs_typescript_and_its_traces_name_the_ts_files(tmp_path: Path, tsapp_dir: Path, node_tool: NodeTool) -> None:
    tsx = node_tool("tsx")
    shutil.copytree(tsapp_dir / "src", tmp_path / "src")
    result = subprocess.run([str(tsx), "src/main.ts"], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode != 0
    trace = parse_trace(result.stderr)
    files = [p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.ts")]
    culprit = find_culprit(trace, RepoPathResolver(files, {str(tmp_path) + "/": ""}))
    assert culprit is not None and culprit.repo_path == ROUTE_TS and culprit.line == 5


def test_next_static_urls_are_located_under_the_dot_next_build_directory(tsapp_dir: Path, tmp_path: Path) -> None:
    chunk = tmp_path / ".next/static/chunks/app/page-3f2a.js"
    chunk.parent.mkdir(parents=True)
    shutil.copy(tsapp_dir / "bundle/main.min.js", chunk)
    text = "TypeError: x is null\n    at c (http://localhost:3000/_next/static/chunks/app/page-3f2a.js?v=1:1:124)\n"

    mapper = SourceMapper(tmp_path)
    assert mapper.locate("http://localhost:3000/_next/static/chunks/app/page-3f2a.js") == chunk.resolve()
    frame = mapper.map_trace(parse_trace(text)).frames[-1]
    assert frame.file.endswith("src/app/api/practices/route.ts") and (frame.line, frame.column) == (4, 35)
