"""Schedules typed as text, ``"(ER()**20 * HIO(beta=0.9)**100)**5"``, parsed safely (never ``eval``).

The grammar is the operator algebra's: products ``A * B`` (B acts first), powers ``A ** n``
with an integer ``n``, parentheses, and calls of the known operators and schedules
(:data:`NAMES`) with number, string or ``(start, stop)`` arguments. Python's own parser
reads the text into a syntax tree; only these node types are accepted, and anything else
(attributes, names that are not operators, arithmetic on numbers) is refused by name.
"""

from __future__ import annotations

import ast
from typing import Any

from . import algorithms as A
from .support import ShrinkWrap

NAMES: dict[str, Any] = {"ER": A.ER, "HIO": A.HIO, "RAAR": A.RAAR, "OSS": A.OSS, "GPS": A.GPS,
                         "ShrinkWrap": ShrinkWrap, "RestartFromBest": A.RestartFromBest,
                         "oss": A.oss, "gps": A.gps}
MAX_LENGTH = 2000
MAX_ITERATIONS = 10_000_000


def _literal(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str)) \
            and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        return -_literal(node.operand)
    if isinstance(node, ast.Tuple) and len(node.elts) == 2:
        return tuple(_literal(e) for e in node.elts)
    raise ValueError(f"algorithm: arguments must be numbers, strings or (start, stop) pairs, "
                     f"got {ast.unparse(node)!r}")


def _build(node: ast.AST) -> A.Operator:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        return _build(node.left) * _build(node.right)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        n = node.right
        if not (isinstance(n, ast.Constant) and type(n.value) is int):
            raise ValueError(f"algorithm: a power must be a whole number, got {ast.unparse(n)!r}")
        return _build(node.left) ** n.value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if node.func.id not in NAMES:
            raise ValueError(f"algorithm: unknown operator {node.func.id!r}; use one of {', '.join(NAMES)}")
        args = [_literal(a) for a in node.args]
        kwargs = {k.arg: _literal(k.value) for k in node.keywords if k.arg is not None}
        if len(kwargs) != len(node.keywords):
            raise ValueError("algorithm: ** keyword unpacking is not allowed")
        try:
            op = NAMES[node.func.id](*args, **kwargs)
        except TypeError as exc:
            raise ValueError(f"algorithm: {node.func.id}: {exc}") from None
        return op
    raise ValueError(f"algorithm: expected operators combined with * and **, got {ast.unparse(node)!r}")


def parse_schedule(text: str) -> A.Operator:
    """The operator a schedule text describes (see the module docstring)."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("algorithm must be a non-empty schedule such as 'ER()**20 * HIO()**100'")
    if len(text) > MAX_LENGTH:
        raise ValueError(f"algorithm must be at most {MAX_LENGTH} characters, got {len(text)}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"algorithm: not a schedule expression ({exc.msg})") from None
    op = _build(tree.body)
    if not isinstance(op, A.Operator):
        raise ValueError("algorithm must describe an operator")
    if not 1 <= op.iterations <= MAX_ITERATIONS:
        raise ValueError(f"algorithm: total iterations must be in [1, {MAX_ITERATIONS}], got {op.iterations}")
    return op
