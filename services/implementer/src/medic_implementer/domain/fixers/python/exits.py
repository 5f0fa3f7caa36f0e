"""The early exit a Python guard takes, copied from the code's own conventions (:mod:`.conventions`).

In a handler: a copy of its own (or its module's other handlers') 4xx exits, status by kind; without one,
the framework's idiom (``raise HTTPException(...)`` in FastAPI, ``abort(...)`` in Flask, ``return
JSONResponse(...)`` in a Starlette view). Inside a loop that already records and skips the items it cannot use
(``rejected.append({...}); continue``), a copy of that skip (:mod:`.loops`); else ``continue`` inside a loop over
the guarded value. A helper of a
web module raises the way its sibling helpers do for the same kind (a ``get_or_404``-style
``raise HTTPException(status_code=404, ...)``), never a framework default it does not use. Elsewhere
``return None`` where the declared return type admits it, else the empty value of a text or collection type
(``-> str`` → ``""``, ``-> list[X]`` → ``[]``, as the TypeScript exits do); a number, bool, mapping or class
has no value that means "nothing", so there is no grounded exit and the guard is not made (None: abstain).
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass

from ...failure import FailureFacts, entity_name
from ..fault import DOCUMENTS_A_THROW, not_found_message
from .conventions import BAD_INPUT_STATUSES, admits_none, copy_exit, pick_exit, sibling_exits
from .loops import loop_skip
from .source import Source

__all__ = ["ExitContext", "bad_input_exit", "early_exit", "exit_context", "takes_request"]

_HTTP_DECORATOR = re.compile(r"\.(get|post|put|patch|delete|head|options|route|api_route|websocket)$")
_ROUTE_CALLS = ("Route", "WebSocketRoute", "add_url_rule", "add_api_route", "add_route", "path", "re_path")
_Function = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True, slots=True)
class ExitContext:
    """Where the failing statement sits: its function, the web framework, the loop variables around it, the
    module's handlers and its text (the conventions an exit copies)."""

    function: _Function | None
    framework: str | None  # "fastapi" | "starlette" | "flask" | None
    loop_names: frozenset[str]
    handlers: tuple[_Function, ...] = ()
    text: str = ""
    functions: tuple[_Function, ...] = ()  # every function of the module (helpers' conventions)
    loop: ast.For | ast.AsyncFor | ast.While | None = None  # the innermost loop around the statement, in its function
    trying: ast.Try | None = None  # the innermost ``try`` inside that loop whose body holds the statement
    module: ast.Module | None = None  # the parsed module (its own classes)

    @property
    def in_handler(self) -> bool:
        """True when the failing function is one of the module's request handlers."""
        return self.function is not None and any(self.function is h for h in self.handlers)


def _framework(tree: ast.Module) -> str | None:
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            roots.add(node.module.split(".")[0])
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
    for name in ("fastapi", "flask", "starlette"):
        if name in roots:
            return name
    return None


def _decorated_handler(fn: _Function) -> bool:
    for deco in fn.decorator_list:
        target = deco.func if isinstance(deco, ast.Call) else deco
        if isinstance(target, ast.Attribute) and _HTTP_DECORATOR.search("." + target.attr):
            return True
    return False


def _routed_names(tree: ast.Module) -> set[str]:
    """Functions named as endpoints in route tables: ``Route("/x", view)``, ``add_url_rule(..., view_func=view)``."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if func not in _ROUTE_CALLS:
            continue
        for value in (*node.args[1:3], *(k.value for k in node.keywords if k.arg in ("endpoint", "view_func", "view"))):
            if isinstance(value, ast.Name):
                names.add(value.id)
    return names


def _handlers(tree: ast.Module) -> tuple[_Function, ...]:
    routed = _routed_names(tree)
    return tuple(
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and (_decorated_handler(node) or node.name in routed)
    )


def exit_context(parents: list[ast.AST], tree: ast.Module, text: str = "") -> ExitContext:
    """The context of a statement, from its ancestors (outermost first), the module's imports and handlers."""
    function: _Function | None = None
    loops: set[str] = set()
    loop: ast.For | ast.AsyncFor | ast.While | None = None
    trying: ast.Try | None = None
    for node, inner in zip(parents, [*parents[1:], None], strict=True):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            function, loops, loop, trying = node, set(), None, None
        elif isinstance(node, ast.For | ast.AsyncFor):
            loops.update(n.id for n in ast.walk(node.target) if isinstance(n, ast.Name))
            loop, trying = node, None
        elif isinstance(node, ast.While):
            loop, trying = node, None
        elif isinstance(node, ast.Try) and any(inner is s for s in node.body):
            trying = node
    functions = tuple(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef))
    return ExitContext(
        function=function,
        framework=_framework(tree),
        loop_names=frozenset(loops),
        handlers=_handlers(tree),
        text=text,
        functions=functions,
        loop=loop,
        trying=trying if loop is not None else None,
        module=tree,
    )


def _framework_exit(framework: str | None, status: int, message: str) -> tuple[str, str | None] | None:
    if framework == "fastapi":
        return f"raise HTTPException(status_code={status}, detail={json.dumps(message)})", "from fastapi import HTTPException"
    if framework == "flask":
        return f"abort({status}, description={json.dumps(message)})", "from flask import abort"
    if framework == "starlette":
        return (
            f"return JSONResponse({{{json.dumps('detail')}: {json.dumps(message)}}}, status_code={status})",
            "from starlette.responses import JSONResponse",
        )
    return None


def early_exit(
    ctx: ExitContext, node: ast.expr, role: str, facts: FailureFacts, src: Source, *, indent: str = ""
) -> tuple[str, str | None] | None:
    """(exit statement, import line it needs), or None when the code offers no grounded exit (abstain).

    ``indent`` is where the exit statement goes (a copied multi-line sibling is re-indented to it).
    """
    guarded = node.value if isinstance(node, ast.Subscript) and role in ("key", "index") else node
    name = entity_name(src.segment(guarded))
    kind = "input" if role == "key" else "missing"
    if role == "key":
        key = node.slice if isinstance(node, ast.Subscript) else node
        key_text = str(key.value) if isinstance(key, ast.Constant) else src.segment(key)
        message = facts.exit_message or f"Missing {key_text}"
    else:
        message = not_found_message(name, role, facts)
    skip = loop_skip(ctx, guarded, message, indent=indent)
    if skip is not None:
        return skip, None  # the loop already records and skips the items it cannot use: this one too
    if ctx.function is not None and ctx.in_handler:
        exits = sibling_exits(ctx.function, ctx.handlers) if ctx.text else []
        sibling = pick_exit(exits, kind)
        if facts.exit_status:
            status = facts.exit_status
        elif kind == "input":
            status = sibling.status if sibling is not None and sibling.status in BAD_INPUT_STATUSES else 400
        else:
            status = 404
        if sibling is not None:
            return copy_exit(sibling, ctx.text, status=status, message=message, indent=indent), None
        framework = _framework_exit(ctx.framework, status, message)
        if framework is not None:
            return framework
    names = {n.id for n in ast.walk(guarded) if isinstance(n, ast.Name)}
    if names & ctx.loop_names:
        return "continue", None
    if ctx.function is not None and ctx.text and ctx.framework is not None:
        # A helper of a web module: its own raises, else those its sibling helpers use for the same kind
        # (``raise HTTPException(status_code=404, ...)`` in a FastAPI ``get_or_404``-style helper).
        raised = [e for e in sibling_exits(ctx.function, ctx.functions) if isinstance(e.statement, ast.Raise)]
        sibling = next((e for e in raised if e.kind == kind), None)
        if sibling is not None:
            status = facts.exit_status or sibling.status
            return copy_exit(sibling, ctx.text, status=status, message=message, indent=indent), None
    # Outside a handler the caller decides what a missing value means: None where the return type admits it,
    # else the declared type's empty value (as the TypeScript exits do); a type without one gets no guard.
    if ctx.function is not None and admits_none(ctx.function) is False:
        value = empty_value(ctx.function)
        if value is None or DOCUMENTS_A_THROW.search(ast.get_docstring(ctx.function) or ""):
            return None  # no empty value, or the docstring says it raises: a quiet empty answer breaks that
        return f"return {value}", None
    return "return None", None


def takes_request(fn: _Function) -> bool:
    """True for a function that is handed the request (``request: Request``): a FastAPI dependency or a view's helper
    runs while a request is answered, so bad client input is answered there as the handler would."""
    params = [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]
    return any(
        p.annotation is not None and ast.unparse(p.annotation).rsplit(".", 1)[-1] in ("Request", "HTTPConnection") for p in params
    )


def bad_input_exit(ctx: ExitContext, message: str, *, indent: str) -> tuple[str, str | None] | None:
    """(exit statement, import line it needs) answering bad client input, or None when the code has no such answer.

    In a handler, or a function handed the request: a copy of its own (or the module's handlers') 4xx exit with
    ``message``, keeping a bad-input status (400/422) and using 400 otherwise; without one, the framework's
    400. In another helper of a web module: a bad-input raise its sibling helpers already use. Never ``return
    None`` or an empty value: text that does not parse is the client's error, not an absent value.
    """
    fn = ctx.function
    if fn is None:
        return None
    if ctx.in_handler or takes_request(fn):
        exits = sibling_exits(fn, ctx.handlers) if ctx.text else []
        sibling = pick_exit(exits, "input")
        status = sibling.status if sibling is not None and sibling.status in BAD_INPUT_STATUSES else 400
        if sibling is not None:
            return copy_exit(sibling, ctx.text, status=status, message=message, indent=indent), None
        return _framework_exit(ctx.framework, status, message)
    if ctx.text and ctx.framework is not None:  # the module's other helpers' convention, not its handlers'
        helpers = tuple(f for f in ctx.functions if not any(f is h for h in ctx.handlers))
        raised = [e for e in sibling_exits(fn, helpers) if isinstance(e.statement, ast.Raise) and e.status in BAD_INPUT_STATUSES]
        if raised:
            return copy_exit(raised[0], ctx.text, status=raised[0].status, message=message, indent=indent), None
    return None


# Text and collections have an empty value that means "nothing here"; a number, a flag or a mapping (an
# entity's record) does not: 0, False or {} would be an answer, not an absence, so those get no guard.
_EMPTY_VALUES = {
    "str": '""',
    "bytes": 'b""',
    "list": "[]",
    "List": "[]",
    "Sequence": "[]",
    "tuple": "()",
    "Tuple": "()",
    "set": "set()",
    "Set": "set()",
    "frozenset": "frozenset()",
}


def empty_value(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """The empty value of ``fn``'s declared return type (``-> str`` → ``""``, ``-> list[X]`` → ``[]``); None when
    the type has none that means "nothing" (a number, a bool, a mapping, a class, an unannotated function)."""
    ann = fn.returns
    if isinstance(ann, ast.Constant) and isinstance(ann.value, str):
        try:
            ann = ast.parse(ann.value, mode="eval").body
        except SyntaxError:
            return None
    base = ann.value if isinstance(ann, ast.Subscript) else ann
    name = base.id if isinstance(base, ast.Name) else base.attr if isinstance(base, ast.Attribute) else None
    return _EMPTY_VALUES.get(name or "")
