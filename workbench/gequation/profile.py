"""A safe parser for user-given shear profiles ``f(y)``.

The text is parsed with :mod:`ast` and only a whitelist of nodes is
evaluated (numbers, ``y``, ``pi``, ``+ − * / **``, unary signs and the
functions ``sin cos tan tanh exp abs sqrt``); nothing is ever passed to
``eval``. The result is evaluated on a torch tensor of y values.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable

import torch

_FUNCS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "sin": torch.sin, "cos": torch.cos, "tan": torch.tan, "tanh": torch.tanh,
    "exp": torch.exp, "abs": torch.abs, "sqrt": torch.sqrt,
}
_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.Pow: operator.pow}
_NAMES = {"pi": math.pi}
ALLOWED = "numbers, y, pi, + - * / **, and " + ", ".join(sorted(_FUNCS))


def parse_profile(text: str) -> Callable[[torch.Tensor], torch.Tensor]:
    """Compile ``text`` (e.g. ``"sin(y) + 0.5*cos(2*y)"``) into ``f(y) -> tensor``."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("profile must be a non-empty expression in y, e.g. 'sin(y)'")
    if len(text) > 500:
        raise ValueError("profile must be at most 500 characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        raise ValueError(f"profile {text!r} is not a valid expression; allowed: {ALLOWED}") from None

    def check(node: ast.AST) -> None:
        if isinstance(node, ast.Expression):
            check(node.body)
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise ValueError(f"profile: only numeric constants are allowed, got {node.value!r}")
        elif isinstance(node, ast.Name):
            if node.id != "y" and node.id not in _NAMES:
                raise ValueError(f"profile: unknown name {node.id!r}; allowed: {ALLOWED}")
        elif isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            check(node.left)
            check(node.right)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
            check(node.operand)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCS:
            if len(node.args) != 1 or node.keywords:
                raise ValueError(f"profile: {node.func.id}() takes exactly one argument")
            check(node.args[0])
        else:
            raise ValueError(f"profile: {type(node).__name__} is not allowed; allowed: {ALLOWED}")

    check(tree)

    def run(node: ast.AST, y: torch.Tensor):
        if isinstance(node, ast.Expression):
            return run(node.body, y)
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            return y if node.id == "y" else _NAMES[node.id]
        if isinstance(node, ast.BinOp):
            return _BINOPS[type(node.op)](run(node.left, y), run(node.right, y))
        if isinstance(node, ast.UnaryOp):
            value = run(node.operand, y)
            return -value if isinstance(node.op, ast.USub) else value
        arg = run(node.args[0], y)
        if not isinstance(arg, torch.Tensor):
            arg = torch.as_tensor(arg, dtype=y.dtype, device=y.device)
        return _FUNCS[node.func.id](arg)

    def f(y: torch.Tensor) -> torch.Tensor:
        out = run(tree, y)
        if not isinstance(out, torch.Tensor):
            out = torch.full_like(y, float(out))
        return out

    f.text = text.strip()  # type: ignore[attr-defined]
    return f
