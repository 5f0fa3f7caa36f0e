"""medic_stacktrace: stack traces in, repository locations out.

Parse Python tracebacks (chains, ``ExceptionGroup``, ``SyntaxError``), V8/Node and Firefox/Safari
JavaScript traces, and Sentry event payloads into :class:`medic_contracts.StackFrame` chains
(innermost frame last, oldest exception first, as in Sentry); decide in-app frames; map deployed
paths (``/var/task/``, ``webpack://``, ``app:///``, ``.next/server/...``) and source-mapped bundles
back to repository files; and pick the culprit frame.

Typical use (the investigator)::

    trace = parse_sentry_event(event, rules=InAppRules(source_roots=target.source_roots))
    # or: trace = parse_trace(stack_text)
    if build_dir:                      # compiled JS with source maps available
        trace = SourceMapper(build_dir, prefixes=target.path_prefixes).map_trace(trace)
    resolver = RepoPathResolver(git_ls_files, target.path_prefixes)
    culprit = find_culprit(trace, resolver)   # culprit.repo_path, culprit.frame.line
    ranked = repo_frames(trace.frames, resolver)   # by repository membership alone, innermost first

Everything here is pure (no I/O) except :class:`SourceMapper`, which reads compiled files and
their maps under the build directory it is given.
"""

from .chain import main_exception_index
from .culprit import Culprit, RepoFrame, find_culprit, repo_frame_path, repo_frames
from .inapp import DEFAULT_IN_APP_RULES, InAppRules, is_library_path
from .javascript import parse_gecko_stack, parse_v8_stack
from .mapper import SourceMapper, source_map_url
from .model import ChainRelation, ParsedException, ParsedTrace, TraceLanguage
from .parse import detect_language, parse_text, parse_trace
from .paths import DEFAULT_DEPLOY_PREFIXES, RepoPathResolver, normalize_deployed_path
from .python import parse_python_traceback
from .sentry import frame_from_sentry, parse_sentry_event
from .sourcemap import OriginalPosition, SourceMap, SourceMapError, decode_vlq

__all__ = [
    "DEFAULT_DEPLOY_PREFIXES",
    "DEFAULT_IN_APP_RULES",
    "ChainRelation",
    "Culprit",
    "InAppRules",
    "OriginalPosition",
    "ParsedException",
    "ParsedTrace",
    "RepoFrame",
    "RepoPathResolver",
    "SourceMap",
    "SourceMapError",
    "SourceMapper",
    "TraceLanguage",
    "decode_vlq",
    "detect_language",
    "find_culprit",
    "frame_from_sentry",
    "is_library_path",
    "main_exception_index",
    "normalize_deployed_path",
    "parse_gecko_stack",
    "parse_python_traceback",
    "parse_sentry_event",
    "parse_text",
    "parse_trace",
    "parse_v8_stack",
    "repo_frame_path",
    "repo_frames",
    "source_map_url",
]
