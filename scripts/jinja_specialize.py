"""Partial evaluation of a Jinja template for answers that a fork fixes for good.

``specialize_source(source, known)`` returns a template that renders, for every context that
agrees with ``known``, exactly the text the original renders (byte for byte). It resolves the
``if``/``elif``/``else`` branches whose conditions ``known`` decides, folds expressions that only
read known values into constants (``{{ cookiecutter.cloud }}`` becomes the literal text), and
binds top-level ``{% set name = <known> %}`` so that later ``{% if name %}`` resolve too.

What is known is a ``Known`` object: the fixed answers, and a function for the template's
``derived`` filter that returns a value only when the fixed answers alone determine it
(``derived_if_determined``). Expressions are parsed with Jinja's own parser; the tags are found
by a scanner that follows Jinja's delimiters, string literals and bracket nesting. Whitespace
control (``{%-``, ``-%}``, ``{{-``, ...) is honoured: when a tag goes, the whitespace it stripped
goes with it, and a kept tag loses its ``-`` only where the neighbouring text changed so that it
would strip more than before. ``trim_blocks``/``lstrip_blocks`` (cookiecutter's
``_jinja2_env_vars``) are not supported and refused by ``check_environment_settings``.

Pure: no file access. ``scripts/specialize.py`` applies it to a repository.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional

from jinja2 import Environment, nodes
from jinja2.exceptions import TemplateSyntaxError

__all__ = ["Known", "SpecializeError", "specialize_source", "unparse", "check_environment_settings",
           "tracked_derivation"]


class SpecializeError(ValueError):
    """A template that cannot be specialised safely (message names the file part and why)."""


class _Undetermined(Exception):
    """A derivation read an answer that is not fixed."""


class _Tracking(Mapping[str, Any]):
    """The fixed answers as a mapping that raises ``_Undetermined`` when a derivation reads any
    other answer (item access, ``get``, ``in``), so a derived value counts as known only when the
    fixed answers alone decide it."""

    def __init__(self, fixed: Mapping[str, Any]) -> None:
        self._fixed = fixed

    def __getitem__(self, key: str) -> Any:
        if key in self._fixed:
            return self._fixed[key]
        raise _Undetermined(key)

    def get(self, key: str, default: Any = None) -> Any:
        return self[key]

    def __contains__(self, key: object) -> bool:
        if key in self._fixed:
            return True
        raise _Undetermined(key)

    def __iter__(self):
        raise _Undetermined("*")

    def __len__(self) -> int:
        raise _Undetermined("*")


def tracked_derivation(derive: Callable[[Mapping[str, Any], str], Any], fixed: Mapping[str, Any]
                       ) -> Callable[[str], tuple[bool, Any]]:
    """Wrap ``derive(answers, name)`` (hooks/derived.py's ``derived_value``): the result answers
    ``(True, value)`` when ``fixed`` alone determines the value, ``(False, None)`` otherwise."""

    def derived(name: str) -> tuple[bool, Any]:
        try:
            return True, derive(_Tracking(fixed), name)
        except _Undetermined:
            return False, None

    return derived


@dataclass
class Known:
    """What specialisation may assume: ``answers`` (prompt name -> fixed value), ``derived``
    (``tracked_derivation``) and ``environment`` (the Jinja environment whose filters and tests
    fold constant expressions; cookiecutter's, with the template's extensions)."""

    answers: Mapping[str, Any]
    derived: Callable[[str], tuple[bool, Any]] = lambda name: (False, None)
    environment: Environment = field(default_factory=lambda: Environment(keep_trailing_newline=True))
    context_name: str = "cookiecutter"
    # Filters never folded into their result, only their arguments (e.g. ``generate_doc_link``,
    # whose calls the template's tests require instead of literal documentation URLs).
    opaque_filters: frozenset[str] = frozenset()
    # Values never written into the template as literals (e.g. URLs: the template's tests require
    # hosts to come from the answers); expressions that would fold into one stay expressions.
    keep_value: Callable[[Any], bool] = lambda value: False


def check_environment_settings(env_vars: Mapping[str, Any]) -> None:
    """Refuse cookiecutter ``_jinja2_env_vars`` whose whitespace rules this module does not model.

    Raises ``SpecializeError`` naming the setting, e.g. ``trim_blocks: true``."""
    for setting in ("trim_blocks", "lstrip_blocks", "line_statement_prefix", "line_comment_prefix"):
        if env_vars.get(setting):
            raise SpecializeError(
                f"_jinja2_env_vars {setting}={env_vars[setting]!r} is not supported by specialize; "
                "remove it from cookiecutter.json (the template's tags use '-' for whitespace control)")
    for setting in ("block_start_string", "block_end_string", "variable_start_string", "variable_end_string",
                    "comment_start_string", "comment_end_string"):
        if setting in env_vars:
            raise SpecializeError(f"_jinja2_env_vars {setting} is not supported by specialize; keep Jinja's delimiters")


# --- scanning ------------------------------------------------------------------------------------

@dataclass
class _Piece:
    kind: str  # "data", "var" ({{ }}), "block" ({% %}), "comment", "raw" (a whole raw block)
    text: str
    inner: str = ""  # the tag's content without delimiters and '-'/'+'
    lstrip: bool = False  # '-' after the opening delimiter: strips whitespace before the tag
    rstrip: bool = False  # '-' before the closing delimiter: strips whitespace after the tag
    start: int = 0

    @property
    def keyword(self) -> str:
        return self.inner.split(None, 1)[0] if self.kind == "block" and self.inner.split() else ""


_OPEN = re.compile(r"\{\{|\{%|\{#")
_RAW_END = re.compile(r"\{%(-|\+)?\s*endraw\s*(-)?%\}")


def _tag_end(source: str, start: int, closer: str) -> int:
    """Index just after the tag that opens at ``start`` and ends with ``closer`` outside string
    literals and brackets."""
    i, depth, quote = start + 2, 0, ""
    while i < len(source):
        char = source[i]
        if quote:
            if char == "\\":
                i += 2
                continue
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}" and not (depth == 0 and source.startswith(closer, i)):
            depth -= 1
        elif depth <= 0 and source.startswith(closer, i):
            return i + 2
        i += 1
    raise SpecializeError(f"unclosed tag at offset {start}: {source[start:start + 40]!r}")


def scan(source: str) -> list[_Piece]:
    """The template as a list of data and tag pieces whose texts concatenate to ``source``."""
    pieces: list[_Piece] = []
    position = 0
    while True:
        match = _OPEN.search(source, position)
        if not match:
            break
        start = match.start()
        if start > position:
            pieces.append(_Piece("data", source[position:start], start=position))
        opener = match.group()
        if opener == "{#":
            end = source.find("#}", start + 2)
            if end < 0:
                raise SpecializeError(f"unclosed comment at offset {start}")
            end += 2
            kind = "comment"
        else:
            end = _tag_end(source, start, "}}" if opener == "{{" else "%}")
            kind = "var" if opener == "{{" else "block"
        text = source[start:end]
        body = text[2:-2]
        lstrip = body.startswith("-")
        rstrip = body.endswith("-")
        inner = body[1 if body[:1] in "-+" else 0: len(body) - (1 if body.endswith(("-", "+")) else 0)].strip()
        piece = _Piece(kind, text, inner, lstrip, rstrip, start)
        if kind == "block" and piece.keyword == "raw":
            raw_end = _RAW_END.search(source, end)
            if not raw_end:
                raise SpecializeError(f"raw block at offset {start} has no endraw")
            piece = _Piece("raw", source[start:raw_end.end()], "raw", lstrip, bool(raw_end.group(2)), start)
            end = raw_end.end()
        pieces.append(piece)
        position = end
    if position < len(source):
        pieces.append(_Piece("data", source[position:], start=position))
    return pieces


# --- the block structure -------------------------------------------------------------------------

_BLOCK_OPENERS = {"if", "for", "macro", "call", "filter", "block", "with", "autoescape", "trans"}


@dataclass
class _If:
    branches: list[tuple[_Piece, list]]  # (if/elif/else tag, body)
    end: _Piece


@dataclass
class _Block:
    """A non-``if`` block (for, macro, call, ...): its opening tag, body and closing tag."""

    open: _Piece
    body: list
    end: _Piece


def _is_set_block(piece: _Piece) -> bool:
    return piece.keyword == "set" and "=" not in piece.inner


def _parse(pieces: list[_Piece], i: int = 0, stop: tuple[str, ...] = ()) -> tuple[list, int]:
    out: list = []
    while i < len(pieces):
        piece = pieces[i]
        keyword = piece.keyword if piece.kind == "block" else ""
        if keyword in stop:
            return out, i
        if keyword == "if":
            branches, tag = [], piece
            while True:
                body, i = _parse(pieces, i + 1, ("elif", "else", "endif"))
                branches.append((tag, body))
                if i >= len(pieces):
                    raise SpecializeError(f"'if' at offset {piece.start} has no endif")
                tag = pieces[i]
                if tag.keyword == "endif":
                    break
            out.append(_If(branches, tag))
            i += 1
            continue
        if keyword in _BLOCK_OPENERS or _is_set_block(piece):
            closer = "endset" if keyword == "set" else "end" + keyword
            body, i = _parse(pieces, i + 1, (closer,))
            if i >= len(pieces):
                raise SpecializeError(f"'{keyword}' at offset {piece.start} has no {closer}")
            out.append(_Block(piece, body, pieces[i]))
            i += 1
            continue
        if keyword.startswith("end") or keyword in ("elif", "else"):
            raise SpecializeError(f"unexpected '{keyword}' at offset {piece.start}")
        out.append(piece)
        i += 1
    return out, i


# --- expressions -----------------------------------------------------------------------------------

_NO_VALUE = object()
_COMPARE = {
    "eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "lt": lambda a, b: a < b, "lteq": lambda a, b: a <= b,
    "gt": lambda a, b: a > b, "gteq": lambda a, b: a >= b, "in": lambda a, b: a in b, "notin": lambda a, b: a not in b,
}
_OPERATORS = {"eq": "==", "ne": "!=", "lt": "<", "lteq": "<=", "gt": ">", "gteq": ">=", "in": "in", "notin": "not in"}
_BINARY = {nodes.Add: "+", nodes.Sub: "-", nodes.Mul: "*", nodes.Div: "/", nodes.FloorDiv: "//", nodes.Mod: "%",
           nodes.Pow: "**"}


def _literal(value: Any) -> str:
    """Jinja source of a constant."""
    if value is True or value is False:
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, str):
        quote = '"' if '"' not in value or "'" in value else "'"
        escaped = value.replace("\\", "\\\\").replace(quote, "\\" + quote).replace("\n", "\\n")
        return f"{quote}{escaped}{quote}"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, tuple):
        return "(" + ", ".join(map(_literal, value)) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, list):
        return "[" + ", ".join(map(_literal, value)) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    raise SpecializeError(f"cannot write {value!r} as a Jinja literal")


def _args(node: nodes.Node) -> str:
    parts = [unparse(a) for a in node.args] + [f"{k.key}={unparse(k.value)}" for k in node.kwargs]
    if getattr(node, "dyn_args", None) is not None:
        parts.append("*" + unparse(node.dyn_args))
    if getattr(node, "dyn_kwargs", None) is not None:
        parts.append("**" + unparse(node.dyn_kwargs))
    return ", ".join(parts)


def unparse(node: nodes.Node) -> str:
    """Jinja source of an expression node (parenthesised where precedence could matter)."""
    if isinstance(node, nodes.Const):
        return _literal(node.value)
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return f"{_postfix_operand(node.node)}.{node.attr}"
    if isinstance(node, nodes.Getitem):
        return f"{_postfix_operand(node.node)}[{unparse(node.arg)}]"
    if isinstance(node, nodes.Slice):
        parts = [unparse(p) if p is not None else "" for p in (node.start, node.stop)]
        return ":".join(parts) + (f":{unparse(node.step)}" if node.step is not None else "")
    if isinstance(node, nodes.Filter):
        args = _args(node)
        return f"{_filter_operand(node.node)} | {node.name}" + (f"({args})" if args else "")
    if isinstance(node, nodes.Test):
        args = _args(node)
        return f"{_filter_operand(node.node)} is {node.name}" + (f"({args})" if args else "")
    if isinstance(node, nodes.Call):
        return f"{_postfix_operand(node.node)}({_args(node)})"
    if isinstance(node, nodes.Compare):
        text = _wrap(node.expr)
        for operand in node.ops:
            text += f" {_OPERATORS[operand.op]} {_wrap(operand.expr)}"
        return text
    if isinstance(node, nodes.And):
        return f"{_wrap(node.left)} and {_wrap(node.right)}"
    if isinstance(node, nodes.Or):
        return f"{_wrap(node.left)} or {_wrap(node.right)}"
    if isinstance(node, nodes.Not):
        return f"not {_wrap(node.node)}"
    if isinstance(node, nodes.Neg):
        return f"-{_wrap(node.node)}"
    if isinstance(node, nodes.Pos):
        return f"+{_wrap(node.node)}"
    if type(node) in _BINARY:
        return f"{_wrap(node.left)} {_BINARY[type(node)]} {_wrap(node.right)}"
    if isinstance(node, nodes.Concat):
        return " ~ ".join(_wrap(n) for n in node.nodes)
    if isinstance(node, nodes.CondExpr):
        text = f"{_wrap(node.expr1)} if {_wrap(node.test)}"
        return text + (f" else {_wrap(node.expr2)}" if node.expr2 is not None else "")
    if isinstance(node, nodes.List):
        return "[" + ", ".join(unparse(n) for n in node.items) + "]"
    if isinstance(node, nodes.Tuple):
        items = [unparse(n) for n in node.items]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if isinstance(node, nodes.Dict):
        return "{" + ", ".join(f"{unparse(p.key)}: {unparse(p.value)}" for p in node.items) + "}"
    raise SpecializeError(f"cannot write a {type(node).__name__} expression back as source")


_ATOMS = (nodes.Const, nodes.Name, nodes.Getattr, nodes.Getitem, nodes.Call, nodes.List, nodes.Tuple, nodes.Dict,
          nodes.Filter)


def _postfix_operand(node: nodes.Node) -> str:
    """``node`` as the operand of ``.attr``, ``[item]`` or ``(call)``, which bind tighter than any
    operator or filter: ``(x | f)[0]`` keeps its parentheses (``x | f[0]`` filters by ``f[0]``)."""
    text = unparse(node)
    return text if isinstance(node, _ATOMS) and not isinstance(node, nodes.Filter) else f"({text})"


def _filter_operand(node: nodes.Node) -> str:
    """``node`` as the operand of ``| filter`` or ``is test``: filters chain left to right, and any
    operator binds looser (``(a ~ b) | f`` keeps its parentheses)."""
    text = unparse(node)
    return text if isinstance(node, _ATOMS) else f"({text})"


def _wrap(node: nodes.Node) -> str:
    text = unparse(node)
    return text if isinstance(node, _ATOMS) and not isinstance(node, nodes.Filter) else f"({text})"


class _Folder:
    """Folds the known parts of expressions into constants (``fold``)."""

    def __init__(self, known: Known, bindings: Mapping[str, Any]) -> None:
        self.known = known
        self.bindings = bindings

    def value(self, node: nodes.Node) -> Any:
        return node.value if isinstance(node, nodes.Const) else _NO_VALUE

    def _evaluate(self, node: nodes.Node) -> nodes.Node:
        """Evaluate a node whose operands are all constants with the environment's own filters."""
        try:
            value = self.known.environment.compile_expression(unparse(node), undefined_to_none=False)()
        except Exception:  # noqa: BLE001 - what Jinja cannot evaluate here stays an expression
            return node
        if isinstance(value, (str, int, float, bool, type(None), list, tuple, dict)) and not self.known.keep_value(value):
            try:
                _literal(value)
            except SpecializeError:
                return node
            return nodes.Const(value)
        return node

    def fold(self, node: nodes.Node, condition: bool = False) -> nodes.Node:
        """``node`` with every known sub-expression replaced by a constant. With ``condition``
        (an ``if`` test) only truthiness matters, so ``x and true`` may become ``x``."""
        ctx = self.known.context_name
        if isinstance(node, nodes.Name):
            if node.name in self.bindings:
                return nodes.Const(self.bindings[node.name])
            return node
        if isinstance(node, (nodes.Getattr, nodes.Getitem)) and isinstance(node.node, nodes.Name) \
                and node.node.name == ctx and node.node.name not in self.bindings:
            key = node.attr if isinstance(node, nodes.Getattr) else self.value(node.arg)
            if isinstance(key, str) and key in self.known.answers:
                return nodes.Const(self.known.answers[key])
            return node
        if isinstance(node, nodes.Filter) and node.name == "derived" and isinstance(node.node, nodes.Name) \
                and node.node.name == ctx and len(node.args) == 1 and isinstance(node.args[0], nodes.Const):
            determined, value = self.known.derived(node.args[0].value)
            return nodes.Const(value) if determined and not self.known.keep_value(value) else node
        if isinstance(node, (nodes.And, nodes.Or)):
            left = self.fold(node.left, condition)
            right = self.fold(node.right, condition)
            lv, rv = self.value(left), self.value(right)
            is_and = isinstance(node, nodes.And)
            if lv is not _NO_VALUE:
                return (right if lv else left) if is_and else (left if lv else right)
            if condition and rv is not _NO_VALUE:
                if is_and:
                    return left if rv else nodes.Const(False)
                return nodes.Const(True) if rv else left
            return type(node)(left, right)
        if isinstance(node, nodes.Not):
            inner = self.fold(node.node, condition)
            value = self.value(inner)
            return nodes.Const(not value) if value is not _NO_VALUE else nodes.Not(inner)
        if isinstance(node, nodes.Compare):
            expr = self.fold(node.expr)
            ops = [nodes.Operand(o.op, self.fold(o.expr)) for o in node.ops]
            values = [self.value(expr)] + [self.value(o.expr) for o in ops]
            if _NO_VALUE not in values:
                try:
                    result, left = True, values[0]
                    for operand, right in zip(ops, values[1:]):
                        result = result and _COMPARE[operand.op](left, right)
                        left = right
                    return nodes.Const(bool(result))
                except TypeError:
                    pass
            return nodes.Compare(expr, ops)
        if isinstance(node, nodes.CondExpr):
            test = self.fold(node.test, True)
            value = self.value(test)
            if value is not _NO_VALUE:
                chosen = node.expr1 if value else node.expr2
                if chosen is None:  # ``x if false`` renders as nothing: keep it constant
                    return nodes.CondExpr(test, self.fold(node.expr1, condition), None)
                return self.fold(chosen, condition)
            return nodes.CondExpr(test, self.fold(node.expr1, condition),
                                  self.fold(node.expr2, condition) if node.expr2 is not None else None)
        return self._fold_children(node)

    def _fold_children(self, node: nodes.Node) -> nodes.Node:
        """Fold the operands of any other node; evaluate it when they all became constants and it
        is a pure operation (filters, tests, arithmetic, literals, item access; not calls)."""
        if isinstance(node, nodes.Const):
            return node
        operands: list[nodes.Node] = []
        for field_name in node.fields:
            old = getattr(node, field_name)
            if isinstance(old, nodes.Expr):
                new = self.fold(old)
            elif isinstance(old, list):
                new = [self.fold(x) if isinstance(x, nodes.Expr) else self._fold_pair(x) for x in old]
            else:
                new = old
            if new is not old:
                setattr(node, field_name, new)
            operands.extend(x for x in (new if isinstance(new, list) else [new]) if isinstance(x, nodes.Node))
        pure = isinstance(node, (nodes.Filter, nodes.Test, nodes.Getitem, nodes.Getattr, nodes.List, nodes.Tuple,
                                 nodes.Dict, nodes.Concat, nodes.Neg, nodes.Pos, *_BINARY))
        flat = [x.value if isinstance(x, nodes.Pair) else x for x in operands]
        flat += [x.key for x in operands if isinstance(x, nodes.Pair)]
        flat = [x.value if isinstance(x, nodes.Keyword) else x for x in flat]
        if pure and all(isinstance(x, nodes.Const) for x in flat):
            if isinstance(node, nodes.Filter) and (node.name == "derived" or node.name in self.known.opaque_filters):
                return node
            return self._evaluate(node)
        return node

    def _fold_pair(self, item: Any) -> Any:
        if isinstance(item, nodes.Pair):
            return nodes.Pair(self.fold(item.key), self.fold(item.value))
        if isinstance(item, nodes.Keyword):
            return nodes.Keyword(item.key, self.fold(item.value))
        if isinstance(item, nodes.Operand):
            return nodes.Operand(item.op, self.fold(item.expr))
        return item


def _parse_expression(environment: Environment, text: str) -> nodes.Expr:
    template = environment.parse("{{ " + text + " }}")
    return template.body[0].nodes[0]


def _mentions(node: nodes.Node, known: Known, bindings: Mapping[str, Any]) -> bool:
    """Whether ``node`` reads a known answer, a derived value or a bound name."""
    for name in [node, *node.find_all(nodes.Name)]:
        if isinstance(name, nodes.Name) and (name.name in bindings or name.name == known.context_name):
            return True
    return False


# --- emitting --------------------------------------------------------------------------------------

@dataclass
class _Data:
    """Output text that came from the template's data (``strip_left``/``strip_right``: the whitespace
    the original's neighbouring tags stripped) or from a folded expression (``literal``)."""

    text: str
    strip_left: bool = False
    strip_right: bool = False
    literal: bool = False
    left_tag: Optional[int] = None  # id of the original neighbouring tags
    right_tag: Optional[int] = None

    def effective(self) -> str:
        text = self.text
        if self.literal:
            return text
        if self.strip_left:
            text = text.lstrip()
        if self.strip_right:
            text = text.rstrip()
        return text


@dataclass
class _Tag:
    text: str
    lstrip: bool
    rstrip: bool
    ident: int


def _set_markers(text: str, lstrip: bool, rstrip: bool) -> str:
    body = text[2:-2]
    if body[:1] in "-+":
        body = body[1:]
    if body[-1:] in "-+":
        body = body[:-1]
    return text[:2] + ("-" if lstrip else "") + body + ("-" if rstrip else "") + text[-2:]


def _assemble(out: list) -> str:
    """Join data and kept tags so that each run of data renders as the original's pieces did."""
    result: list[str] = []
    tags = [i for i, item in enumerate(out) if isinstance(item, _Tag)]
    # Runs of data between kept tags.
    boundaries = [-1, *tags, len(out)]
    for left_index, right_index in zip(boundaries, boundaries[1:]):
        run = [item for item in out[left_index + 1: right_index]]
        left = out[left_index] if left_index >= 0 else None
        right = out[right_index] if right_index < len(out) else None
        expected = "".join(d.effective() for d in run)
        pretty = []
        for k, d in enumerate(run):
            text = d.text
            if not d.literal:
                # Whitespace that a kept neighbouring tag strips stays in the source, as it was.
                by_left = k == 0 and left is not None and d.left_tag == left.ident
                by_right = k == len(run) - 1 and right is not None and d.right_tag == right.ident
                if d.strip_left and not by_left:
                    text = text.lstrip()
                if d.strip_right and not by_right:
                    text = text.rstrip()
            pretty.append(text)
        joined = "".join(pretty)
        if not joined and any("\n" in d.text for d in run) and left is not None and right is not None and (
                left.rstrip or right.lstrip):
            joined = "\n"  # a dropped tag's line break, which a kept neighbour strips: one line per tag
        rendered = joined
        if left is not None and left.rstrip:
            rendered = rendered.lstrip()
        if right is not None and right.lstrip:
            rendered = rendered.rstrip()
        if rendered != expected:
            joined = expected
            if left is not None and left.rstrip and expected[:1].isspace():
                left.rstrip = False
                left.text = _set_markers(left.text, left.lstrip, False)
            if right is not None and right.lstrip and expected[-1:].isspace():
                right.lstrip = False
                right.text = _set_markers(right.text, False, right.rstrip)
        result.append(("run", joined))
        if right is not None:
            result.append(("tag", right))
    return "".join(item if kind == "run" else item.text for kind, item in result)


class _Specializer:
    def __init__(self, known: Known, pieces: list[_Piece]) -> None:
        self.known = known
        self.bindings: dict[str, Any] = {}
        self.out: list = []
        self._ids = {id(p): n for n, p in enumerate(pieces)}
        self._neighbours: dict[int, tuple[Optional[_Piece], Optional[_Piece]]] = {}
        for n, piece in enumerate(pieces):
            if piece.kind == "data":
                before = pieces[n - 1] if n > 0 else None
                after = pieces[n + 1] if n + 1 < len(pieces) else None
                self._neighbours[id(piece)] = (before, after)
        assigned: dict[str, int] = {}
        for piece in pieces:
            if piece.kind == "block" and piece.keyword in ("set", "for", "macro", "call", "with", "import", "from"):
                for name in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", piece.inner.split("=", 1)[0]
                                       if piece.keyword == "set" else piece.inner):
                    assigned[name] = assigned.get(name, 0) + (1 if piece.keyword == "set" else 2)
        self.bound_sets: dict[int, str] = {}  # index in ``out`` of a ``set`` folded into a binding -> name
        # index in ``out`` of a top-level ``set`` of an expression without calls (no side effect) -> name
        self.pure_sets: dict[int, str] = {}
        self._assigned_once = {name for name, count in assigned.items() if count == 1}

    # -- output helpers
    def data(self, piece: _Piece) -> None:
        before, after = self._neighbours[id(piece)]
        self.out.append(_Data(piece.text, bool(before and before.kind != "data" and before.rstrip),
                              bool(after and after.kind != "data" and after.lstrip),
                              left_tag=self._ids.get(id(before)) if before else None,
                              right_tag=self._ids.get(id(after)) if after else None))

    def keep(self, piece: _Piece, text: Optional[str] = None) -> None:
        self.out.append(_Tag(text if text is not None else piece.text, piece.lstrip, piece.rstrip,
                             self._ids[id(piece)]))

    def literal(self, text: str) -> None:
        self.out.append(_Data(text, literal=True))

    # -- the walk
    def walk(self, items: list, definite: bool) -> None:
        for item in items:
            if isinstance(item, _If):
                self.walk_if(item, definite)
            elif isinstance(item, _Block):
                self.walk_tag(item.open, False)
                self.walk(item.body, False)
                self.keep(item.end)
            elif item.kind == "data":
                self.data(item)
            else:
                self.walk_tag(item, definite)

    def fold(self, text: str, condition: bool = False) -> tuple[nodes.Expr, nodes.Expr]:
        try:
            original = _parse_expression(self.known.environment, text)
        except TemplateSyntaxError as error:
            raise SpecializeError(f"cannot parse expression {text!r}: {error.message}") from None
        folder = _Folder(self.known, self.bindings)
        if not _mentions(original, self.known, self.bindings):
            return original, original
        return original, folder.fold(_parse_expression(self.known.environment, text), condition)

    def walk_tag(self, piece: _Piece, definite: bool) -> None:
        if piece.kind == "var":
            original, folded = self.fold(piece.inner)
            rendered = self._render_constant(folded)
            if rendered is not None and not re.search(r"[{}%#]", rendered):
                self.literal(rendered)
                return
            if folded != original:
                self.keep(piece, _replace_inner(piece, unparse(folded)))
                return
        elif piece.kind == "block" and piece.keyword == "set" and "=" in piece.inner:
            target, _, expression = piece.inner[3:].partition("=")
            original, folded = self.fold(expression.strip())
            name = target.strip()
            if definite and isinstance(folded, nodes.Const) and name in self._assigned_once:
                self.bindings[name] = folded.value
                self.keep(piece, _replace_inner(piece, f"set {name} = {unparse(folded)}"))
                self.bound_sets[len(self.out) - 1] = name
                return
            if definite and name in self._assigned_once and not any(folded.find_all(nodes.Call)):
                self.pure_sets[len(self.out)] = name
            if folded != original:
                self.keep(piece, _replace_inner(piece, f"set {name} = {unparse(folded)}"))
                return
        elif piece.kind == "block" and piece.keyword in ("call", "for", "include"):
            folded_tag = self._fold_statement(piece)
            if folded_tag is not None:
                self.keep(piece, _replace_inner(piece, folded_tag))
                return
        self.keep(piece)

    def _fold_statement(self, piece: _Piece) -> Optional[str]:
        """The content of a ``call``, ``for`` or ``include`` tag with its expression folded, or
        None when nothing changes (``call`` with parameters, ``for`` with a filter or ``recursive``)."""
        keyword, rest = piece.inner.split(None, 1)
        if keyword == "call":
            if rest.startswith("("):
                return None
            original, folded = self.fold(rest)
            return f"call {unparse(folded)}" if folded != original else None
        if keyword == "include":
            expression, _, options = rest.partition(" ignore missing")
            match = re.match(r"(.*?)((?:\s+(?:with|without)\s+context)?)$", expression, re.S)
            original, folded = self.fold(match.group(1))
            suffix = match.group(2) + (" ignore missing" + options if _ else "")
            return f"include {unparse(folded)}{suffix}" if folded != original else None
        target, separator, iterable = rest.partition(" in ")
        if not separator or re.search(r"\b(if|recursive)\b", iterable):
            return None
        original, folded = self.fold(iterable)
        return f"for {target.strip()} in {unparse(folded)}" if folded != original else None

    def _render_constant(self, node: nodes.Expr) -> Optional[str]:
        """What ``{{ node }}`` renders when it reads no variable (e.g. ``"s" if false``), else None."""
        if isinstance(node, nodes.Const):
            rendered = self.known.environment.from_string("{{ value }}").render(value=node.value)
            return None if self.known.keep_value(rendered) else rendered
        found = [node, *node.find_all(nodes.Node)]
        if any(isinstance(n, (nodes.Name, nodes.Call)) for n in found):
            return None
        if any(isinstance(n, nodes.Filter) and (n.name in self.known.opaque_filters or n.name == "derived")
               for n in found):
            return None
        try:
            rendered = self.known.environment.from_string("{{ " + unparse(node) + " }}").render()
        except Exception:  # noqa: BLE001 - not constant after all: keep the expression
            return None
        return None if self.known.keep_value(rendered) else rendered

    def walk_if(self, block: _If, definite: bool) -> None:
        kept: list[tuple[_Piece, Optional[str], list]] = []  # (tag, new condition or None for else, body)
        for tag, body in block.branches:
            if tag.keyword == "else":
                kept.append((tag, None, body))
                break
            condition = tag.inner.split(None, 1)[1]
            original, folded = self.fold(condition, condition=True)
            value = folded.value if isinstance(folded, nodes.Const) else _NO_VALUE
            if value is _NO_VALUE:
                kept.append((tag, condition if folded == original else unparse(folded), body))
            elif value:
                kept.append((tag, None, body))
                break
            # a false branch goes, tag and body
        if not kept:
            return
        if kept[0][1] is None:  # the first branch left is always taken: its body only
            self.walk(kept[0][2], definite)
            return
        for n, (tag, condition, body) in enumerate(kept):
            if condition is None:
                self.keep(tag, _replace_inner(tag, "else"))
            else:
                self.keep(tag, _replace_inner(tag, f"{'if' if n == 0 else 'elif'} {condition}"))
            self.walk(body, False)
        self.keep(block.end)


def _replace_inner(piece: _Piece, inner: str) -> str:
    """The tag ``piece`` with new content, its delimiters, whitespace markers and padding kept."""
    body = piece.text[2:-2]
    head = body[:1] if body[:1] in "-+" else ""
    tail = body[-1:] if body[-1:] in "-+" else ""
    core = body[len(head): len(body) - len(tail)]
    lead = core[: len(core) - len(core.lstrip())]
    trail = core[len(core.rstrip()):]
    if piece.inner == inner:
        return piece.text
    return piece.text[:2] + head + lead + inner + trail + tail + piece.text[-2:]


_SHARES_CONTEXT = re.compile(r"\b(include|extends)\b|\bwith\s+context\b")


_IMPORT = re.compile(r"^(?:import\s+\S+\s+as\s+(\w+)|from\s+\S+\s+import\s+([\w\s,]+?))(?:\s+(?:with|without)\s+context)?$")


def _uses(name: str, texts: list[str]) -> int:
    return sum(len(re.findall(rf"(?<![.\w]){re.escape(name)}\b", text)) for text in texts)


def _drop_unused(out: list, bound_sets: Mapping[int, str], comments_explain: bool = False) -> list:
    """``out`` without the folded ``set`` tags (``bound_sets``) and the ``import``/``from`` tags
    whose names no other kept tag reads any more (after branches that used them went).

    With ``comments_explain``, a comment does not count as a reader, and a comment followed only by
    ``set`` tags that all go (whitespace between) goes with them: it explained those settings."""
    tags = [item.text for item in out if isinstance(item, _Tag) and not (comments_explain and item.text.startswith("{#"))]
    unused = {index for index, name in bound_sets.items() if _uses(name, tags) == 1}
    if comments_explain:
        for index, item in enumerate(out):
            if not (isinstance(item, _Tag) and item.text.startswith("{#")):
                continue
            following = []
            for later in range(index + 1, len(out)):
                if isinstance(out[later], _Data) and not out[later].text.strip():
                    continue
                if isinstance(out[later], _Tag) and re.match(r"\{%[-+]?\s*set\s", out[later].text):
                    following.append(later)
                    continue
                break
            if following and all(later in unused for later in following):
                unused.add(index)
    for index, item in enumerate(out):
        if not isinstance(item, _Tag) or not item.text.startswith("{%"):
            continue
        match = _IMPORT.match(item.text[2:-2].strip("-+ \t\n"))
        if match:
            names = [match.group(1)] if match.group(1) else [n.strip() for n in match.group(2).split(",")]
            if all(_uses(name, tags) == _uses(name, [item.text]) for name in names):
                unused.add(index)
    return [item for index, item in enumerate(out) if index not in unused]


def read_names(source: str, environment: Environment) -> set[str]:
    """The names that the Jinja template ``source`` reads: the name tokens of its tags, without
    statement keywords, the targets of ``{% set name = ... %}``, comments and string literals."""
    names: set[str] = set()
    tokens = [(kind, value) for _, kind, value in environment.lex(source) if kind != "whitespace"]
    for n, (kind, value) in enumerate(tokens):
        if kind != "name" or n >= 1 and tokens[n - 1][0] == "block_begin":  # a statement's keyword
            continue
        if n >= 2 and tokens[n - 1] == ("name", "set") and tokens[n - 2][0] == "block_begin":
            continue
        names.add(value)
    return names


def specialize_source(source: str, known: Known, exports: bool = False,
                      shared_names: frozenset[str] = frozenset(),
                      read_elsewhere: Optional[frozenset[str]] = None) -> str:
    """``source`` (a Jinja template) with what ``known`` decides evaluated; see the module docstring.

    A top-level ``{% set %}`` folded into a constant is dropped once nothing reads it, unless the
    template shares its context (``include``, ``extends``, ``import ... with context``) with
    templates that may read it (``shared_names``: the identifiers of every partial), or ``exports``
    says other templates import it (its top-level names are then a module's attributes).
    ``read_elsewhere`` (the names every other template reads, ``read_names``) replaces both rules:
    a folded ``set``, or a top-level ``set`` of an expression without calls, goes unless another
    template reads its name (a partial's settings that only a deleted partial read).
    Raises ``SpecializeError`` on a template it cannot scan or an expression Jinja cannot parse."""
    if not _OPEN.search(source):
        return source
    pieces = scan(source)
    tree, _ = _parse(pieces)
    specializer = _Specializer(known, pieces)
    specializer.walk(tree, True)
    out = specializer.out
    shares = any(p.kind == "block" and _SHARES_CONTEXT.search(p.inner) for p in pieces)
    if read_elsewhere is not None:
        candidates = {**specializer.bound_sets, **specializer.pure_sets}
        bound = {k: v for k, v in candidates.items() if v not in read_elsewhere}
    else:
        bound = {} if exports else {k: v for k, v in specializer.bound_sets.items()
                                    if not shares or v not in shared_names}
    out = _drop_unused(out, bound, comments_explain=read_elsewhere is not None)
    return _assemble(out)
