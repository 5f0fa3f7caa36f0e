"""Read Python code around a culprit line with the standard ``ast`` module."""

from __future__ import annotations

import ast
import re

from .code import LOOKUP_CALL, Binding, CodeContext, FunctionSpan, Operation, numbered

__all__ = ["python_context"]

_COMPOUND = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try, ast.Match)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_ITERATING_CALLS = {"sum", "max", "min", "sorted", "list", "tuple", "set", "len", "any", "all", "enumerate", "zip", "dict"}
_PARSERS = {"int", "float", "Decimal", "loads", "fromisoformat", "strptime", "UUID", "parse_obj", "model_validate"}


def _header_end(node: ast.stmt) -> int:
    """Last line of a compound statement's header (``if cond:``), or the statement's last line."""
    if isinstance(node, _COMPOUND):
        body: list[ast.AST] = getattr(node, "body", None) or getattr(node, "cases", None) or []
        if body:
            first_body_line: int = getattr(body[0], "lineno", node.lineno)
            return max(node.lineno, first_body_line - 1)
    return node.end_lineno or node.lineno


def _header_parts(node: ast.stmt) -> list[ast.AST]:
    """The expressions evaluated by a statement itself (not by its body)."""
    if isinstance(node, ast.If | ast.While):
        return [node.test]
    if isinstance(node, ast.For | ast.AsyncFor):
        return [node]
    if isinstance(node, ast.With | ast.AsyncWith):
        return list(node.items)
    if isinstance(node, ast.Match):
        return [node.subject]
    if isinstance(node, ast.Try):
        return []
    if isinstance(node, (*_FUNCTIONS, ast.ClassDef)):
        return [*node.decorator_list]
    return [node]


def _enclosing_function(tree: ast.Module, line: int) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    best: ast.FunctionDef | ast.AsyncFunctionDef | None = None
    for node in ast.walk(tree):
        if isinstance(node, _FUNCTIONS) and node.lineno <= line <= (node.end_lineno or node.lineno):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            if best is None or first >= best.lineno:
                best = node
    return best


def _statement_at(scope: ast.AST, line: int) -> ast.stmt | None:
    best: ast.stmt | None = None
    best_span = 1 << 30
    for node in ast.walk(scope):
        if not isinstance(node, ast.stmt) or isinstance(node, (*_FUNCTIONS, ast.ClassDef)):
            continue
        first, last = node.lineno, _header_end(node)
        if first <= line <= last and last - first <= best_span:
            best, best_span = node, last - first
    return best


def _qualname(tree: ast.Module, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and fn in node.body:
            return f"{node.name}.{fn.name}"
    return fn.name


def _src(node: ast.AST) -> str:
    try:
        return ast.unparse(node)
    except Exception:  # pragma: no cover - unparse handles every node the parser makes
        return type(node).__name__


def _operations(parts: list[ast.AST]) -> list[Operation]:
    ops: list[Operation] = []
    for part in parts:
        nodes = [part.target, part.iter] if isinstance(part, ast.For | ast.AsyncFor) else list(ast.walk(part))
        if isinstance(part, ast.For | ast.AsyncFor):
            ops.append(Operation("iteration", _src(part.iter), _src(part.iter), None, part.iter.lineno))
            nodes = [n for sub in nodes for n in ast.walk(sub)]
        for node in nodes:
            line = getattr(node, "lineno", 0)
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                ops.append(Operation("attribute", _src(node), _src(node.value), node.attr, line))
            elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
                key = node.slice
                literal = isinstance(key, ast.Constant) or (
                    isinstance(key, ast.UnaryOp) and isinstance(key.operand, ast.Constant)
                )
                member = repr(key.value) if isinstance(key, ast.Constant) else _src(key)
                ops.append(Operation("subscript", _src(node), _src(node.value), member, line, literal))
            elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div | ast.FloorDiv | ast.Mod):
                if not (
                    isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant) and isinstance(node.left.value, str)
                ):
                    ops.append(Operation("division", _src(node), _src(node.right), None, line))
            elif isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Div | ast.FloorDiv | ast.Mod):
                ops.append(Operation("division", _src(node), _src(node.value), None, line))
            elif isinstance(node, ast.comprehension):
                ops.append(Operation("iteration", _src(node.iter), _src(node.iter), None, getattr(node.iter, "lineno", line)))
            elif isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else _src(node.func)
                if name in _ITERATING_CALLS and node.args:
                    ops.append(Operation("iteration", _src(node), _src(node.args[0]), name, line))
                elif name in _PARSERS and node.args:
                    ops.append(Operation("parse", _src(node), _src(node.args[0]), name, line))
                else:
                    ops.append(Operation("call", _src(node), _src(node.func), name, line))
    return ops


def _expressions(parts: list[ast.AST]) -> list[ast.AST]:
    out: list[ast.AST] = []
    for part in parts:
        out.extend([part.target, part.iter] if isinstance(part, ast.For | ast.AsyncFor) else [part])
    return out


def _names(parts: list[ast.AST]) -> list[str]:
    seen: list[str] = []
    for part in _expressions(parts):
        for node in ast.walk(part):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in seen:
                seen.append(node.id)
    return seen


def _calls(parts: list[ast.AST]) -> list[str]:
    found: list[str] = []
    for part in _expressions(parts):
        for node in ast.walk(part):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else _src(node.func)
                if name not in found:
                    found.append(name)
    return found


def _called_name(value: ast.AST | None) -> str | None:
    while isinstance(value, ast.Await):
        value = value.value
    if isinstance(value, ast.Call):
        func = value.func
        return func.attr if isinstance(func, ast.Attribute) else _src(func)
    return None


def _target_names(target: ast.AST) -> list[str]:
    return [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]


def _is_none_check(test: ast.AST, name: str) -> bool:
    text = _src(test)
    n = re.escape(name)
    pattern = rf"(?:\b{n}\s+is\s+(?:not\s+)?None\b|\bnot\s+{n}\b|^{n}$|\b{n}\s+and\b)"
    return re.search(pattern, text) is not None


def _bindings(
    tree: ast.Module, fn: ast.FunctionDef | ast.AsyncFunctionDef | None, names: list[str], line: int, lines: list[str]
) -> list[Binding]:
    def source(node: ast.AST) -> str:
        first = getattr(node, "lineno", 1)
        last = min(getattr(node, "end_lineno", first) or first, first + 2)
        return "\n".join(lines[first - 1 : last]).strip()[:400]

    found: dict[str, Binding] = {}
    scope: ast.AST = fn if fn is not None else tree
    if fn is not None:
        args = fn.args
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
            if arg is not None and arg.arg in names:
                annotation = _src(arg.annotation) if arg.annotation else ""
                optional = "None" in annotation or "Optional" in annotation
                found[arg.arg] = Binding(arg.arg, arg.lineno, "parameter", source(arg), None, None, optional)
    candidates: list[tuple[int, Binding]] = []
    for node in ast.walk(scope):
        node_line = getattr(node, "lineno", 0)
        if node_line > line or node is fn:
            continue
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.NamedExpr):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            value = node.value
            for target in targets:
                for name in _target_names(target):
                    if name in names and value is not None:
                        text = _src(value)
                        missing = bool(LOOKUP_CALL.search(text)) or (isinstance(value, ast.Constant) and value.value is None)
                        candidates.append(
                            (node_line, Binding(name, node_line, "assignment", source(node), text, _called_name(value), missing))
                        )
        elif isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
            for name in _target_names(node.target):
                if name in names:
                    candidates.append((getattr(node.target, "lineno", node_line), Binding(name, node_line, "loop", source(node))))
        elif isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                if item.optional_vars is not None:
                    for name in _target_names(item.optional_vars):
                        if name in names:
                            candidates.append(
                                (node_line, Binding(name, node_line, "assignment", source(node), _src(item.context_expr)))
                            )
    for _, binding in sorted(candidates, key=lambda c: c[0]):
        found[binding.name] = binding  # the latest binding before the fault wins
    for node in tree.body:  # module level: imports, definitions, globals
        for name in names:
            if name in found:
                continue
            if isinstance(node, ast.Import | ast.ImportFrom):
                for alias in node.names:
                    if (alias.asname or alias.name.split(".")[0]) == name:
                        found[name] = Binding(name, node.lineno, "import", source(node))
            elif isinstance(node, (*_FUNCTIONS, ast.ClassDef)) and node.name == name:
                found[name] = Binding(
                    name, node.lineno, "definition", f"{'class' if isinstance(node, ast.ClassDef) else 'def'} {name}"
                )
            elif isinstance(node, ast.Assign) and name in [n for t in node.targets for n in _target_names(t)]:
                found[name] = Binding(name, node.lineno, "global", source(node), _src(node.value))
    # A None check between the binding and the fault means the lookup result was handled.
    for name, binding in list(found.items()):
        if not binding.may_be_missing:
            continue
        for node in ast.walk(scope):
            test = getattr(node, "test", None)
            node_line = getattr(node, "lineno", 0)
            if test is not None and binding.line < node_line <= line and _is_none_check(test, name):
                found[name] = Binding(
                    binding.name, binding.line, binding.kind, binding.source, binding.value, binding.calls, True, True
                )
                break
    return [found[n] for n in names if n in found]


def python_context(source: str, *, file: str, line: int) -> CodeContext:
    """The :class:`CodeContext` of ``line`` in Python ``source``; a syntax error gives a line-window context."""
    lines = source.splitlines()
    try:
        tree = ast.parse(source, filename=file)
    except (SyntaxError, ValueError) as exc:
        # A file that does not parse (another version, a partial file): read the failing line on its own.
        window = numbered(lines, line - 5, line + 5, mark=line)
        text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
        try:
            snippet: list[ast.AST] = [ast.parse(text).body[0]] if text else []
        except (SyntaxError, ValueError, IndexError):
            snippet = []
        for part in snippet:
            for node in ast.walk(part):
                if hasattr(node, "lineno"):
                    node.lineno = line  # the snippet's line 1 is the file's fault line
        return CodeContext(
            file,
            "python",
            line,
            None,
            line,
            line,
            text,
            operations=tuple(_operations(snippet)),
            calls=tuple(_calls(snippet)),
            excerpt=window,
            parse_error=str(exc)[:200],
        )
    fn = _enclosing_function(tree, line)
    scope: ast.AST = fn if fn is not None else tree
    stmt = _statement_at(scope, line)
    if stmt is None:
        text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
        first = last = line
        parts: list[ast.AST] = []
    else:
        first, last = stmt.lineno, _header_end(stmt)
        text = "\n".join(lines[first - 1 : last])
        parts = _header_parts(stmt)
    ops = _operations(parts)
    # Operations on the reported line first: that is where the interpreter stopped.
    ops.sort(key=lambda o: (o.line != line, 0))
    names = _names(parts)
    span = None
    if fn is not None:
        fn_first = min([fn.lineno, *(d.lineno for d in fn.decorator_list)])
        span = FunctionSpan(_qualname(tree, fn), fn_first, fn.end_lineno or fn.lineno)
        excerpt_first, excerpt_last = fn_first, min(fn.end_lineno or fn.lineno, fn_first + 80)
        excerpt_first = max(excerpt_first, line - 60)
    else:
        excerpt_first, excerpt_last = line - 10, line + 10
    return CodeContext(
        file=file,
        language="python",
        line=line,
        function=span,
        statement_first=first,
        statement_last=last,
        statement=text,
        operations=tuple(ops),
        bindings=tuple(_bindings(tree, fn, names, line, lines)),
        calls=tuple(_calls(parts)),
        excerpt=numbered(lines, excerpt_first, excerpt_last, mark=line),
    )
