"""A safe parser for formulas that users type, evaluated on torch tensors.

A formula such as ``"x**2 + 1.5*sin(2*pi*x)"`` or ``"(x - 1)**2 + 10*(y - x**2)**2"``
is parsed with :mod:`ast` in ``eval`` mode and checked node by node against a
whitelist; nothing is ever passed to ``eval``/``exec``. The accepted grammar is::

    expr := number | name | expr (+ - * / **) expr | (+|-) expr | func(expr)
    name := one of the allowed variables (default ``x``, ``y``) | pi | e
    func := sin cos tan exp log sqrt abs tanh cosh sinh arctan

Everything else (attributes, subscripts, comparisons, keywords, strings,
lambdas, comprehensions, ``^``...) raises a :class:`ValueError` that names the
parameter ``formula``. Limits keep a formula cheap to evaluate: at most
:data:`MAX_LENGTH` characters, :data:`MAX_NODES` syntax nodes, nesting depth
:data:`MAX_DEPTH`, number literals of magnitude at most :data:`MAX_LITERAL`,
constant exponents of magnitude at most :data:`MAX_EXPONENT` and no power
inside an exponent. Only ASCII is accepted: Python would fold look-alike letters
(``ｘ``, ``𝐱``, ``ⅹ``) into ``x`` by NFKC normalisation.

>>> import torch
>>> f = parse("x**2 + 1")
>>> f(x=torch.tensor([0.0, 2.0]))
tensor([1., 5.])
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

MAX_LENGTH = 500
MAX_NODES = 300
MAX_DEPTH = 40
MAX_LITERAL = 1e12
MAX_EXPONENT = 64

FUNCTIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "sin": torch.sin, "cos": torch.cos, "tan": torch.tan, "exp": torch.exp, "log": torch.log,
    "sqrt": torch.sqrt, "abs": torch.abs, "tanh": torch.tanh, "cosh": torch.cosh,
    "sinh": torch.sinh, "arctan": torch.atan,
}
CONSTANTS = {"pi": math.pi, "e": math.e}
_BINOPS: dict[type, Callable] = {
    ast.Add: torch.add, ast.Sub: torch.sub, ast.Mult: torch.mul, ast.Div: torch.div, ast.Pow: torch.pow,
}
_SYMBOL = {ast.BitXor: "^ (use ** for powers)", ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@",
           ast.BitAnd: "&", ast.BitOr: "|", ast.LShift: "<<", ast.RShift: ">>"}


def _fail(message: str) -> ValueError:
    return ValueError(f"formula: {message}")


@dataclass(frozen=True)
class Formula:
    """A checked formula; call it with tensors for its variables."""

    text: str
    tree: ast.Expression
    variables: tuple[str, ...]
    used: frozenset[str]

    def __call__(self, **values: torch.Tensor) -> torch.Tensor:
        missing = [v for v in self.variables if v not in values]
        if missing:
            raise TypeError(f"formula needs values for {', '.join(missing)}")
        tensors = {k: torch.as_tensor(v) for k, v in values.items()}
        like = next(iter(tensors.values()))
        shape = torch.broadcast_shapes(*(t.shape for t in tensors.values()))
        out = _evaluate(self.tree.body, tensors, like)
        return out.expand(shape).clone() if out.shape != shape else out

    def __str__(self) -> str:
        return self.text


def parse(formula: str, variables: Sequence[str] = ("x", "y")) -> Formula:
    """Check ``formula`` against the whitelist and return a callable :class:`Formula`.

    ``variables`` are the names the formula may use (``pi`` and ``e`` are always
    allowed). Raises ``ValueError("formula: ...")`` for anything unsafe or
    malformed, before any evaluation.
    """
    if not isinstance(formula, str):
        raise TypeError(f"formula must be a string, got {type(formula).__name__}")
    text = formula.strip()
    if not text:
        raise _fail("must not be empty")
    if len(text) > MAX_LENGTH:
        raise _fail(f"must be at most {MAX_LENGTH} characters, got {len(text)}")
    # Python folds identifiers by NFKC ('ｘ', '𝐱', 'ⅹ' all become 'x'): only ASCII is accepted,
    # so what is evaluated is exactly what was typed
    for column, char in enumerate(text, start=1):
        if not (char.isascii() and (char.isprintable() or char in " \t")):
            raise _fail(f"only ASCII letters, digits and operators are allowed; got {char!r} "
                        f"(U+{ord(char):04X}) at column {column}")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise _fail(f"cannot parse {text!r}: {exc.msg} at column {exc.offset}") from None
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise _fail(f"is too long: at most {MAX_NODES} syntax nodes, got {len(nodes)}")
    variables = tuple(variables)
    used: set[str] = set()
    _check(tree.body, set(variables), used, depth=0)
    return Formula(text, tree, variables, frozenset(used))


def _constant(node: ast.AST) -> float | None:
    """The value of a number literal, possibly signed; None for anything else."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _constant(node.operand)
        return None if inner is None else (-inner if isinstance(node.op, ast.USub) else inner)
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return _magnitude_checked(node.value)
    return None


def _magnitude_checked(value: int | float) -> float:
    """A literal as a float, refused when it is not finite or its magnitude exceeds MAX_LITERAL."""
    too_big = abs(value) > MAX_LITERAL  # exact for ints of any size: no conversion to float first
    if too_big or not math.isfinite(value):
        shown = repr(value) if len(repr(value)) <= 24 else f"a {len(str(abs(value)))}-digit number"
        raise _fail(f"number literals must have magnitude at most {MAX_LITERAL:g}, got {shown}")
    return float(value)


def _check(node: ast.AST, allowed: set[str], used: set[str], depth: int) -> None:
    if depth > MAX_DEPTH:
        raise _fail(f"is nested too deeply (at most {MAX_DEPTH} levels)")
    if isinstance(node, ast.Constant):
        if type(node.value) not in (int, float):
            raise _fail(f"only numbers are allowed as constants, got {node.value!r}")
        _magnitude_checked(node.value)
        return
    if isinstance(node, ast.Name):
        if node.id in allowed:
            used.add(node.id)
        elif node.id not in CONSTANTS:
            names = ", ".join([*sorted(allowed), *CONSTANTS])
            hint = " (a function must be called, e.g. sin(x))" if node.id in FUNCTIONS else ""
            raise _fail(f"unknown name {node.id!r}{hint}; allowed names: {names}")
        return
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise _fail(f"operator {type(node.op).__name__} is not allowed; use + - * / **")
        _check(node.operand, allowed, used, depth + 1)
        return
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINOPS:
            symbol = _SYMBOL.get(type(node.op), type(node.op).__name__)
            raise _fail(f"operator {symbol} is not allowed; use + - * / **")
        if isinstance(node.op, ast.Pow):
            exponent = _constant(node.right)
            if exponent is not None and abs(exponent) > MAX_EXPONENT:
                raise _fail(f"exponents must have magnitude at most {MAX_EXPONENT}, got {exponent:g}")
            if any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Pow) for n in ast.walk(node.right)):
                raise _fail("a power inside an exponent (a**b**c) is not allowed")
        _check(node.left, allowed, used, depth + 1)
        _check(node.right, allowed, used, depth + 1)
        return
    if isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name not in FUNCTIONS:
            shown = name or ast.unparse(node.func)
            raise _fail(f"function {shown!r} is not allowed; allowed: {', '.join(FUNCTIONS)}")
        if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
            raise _fail(f"{name}() takes exactly one positional argument")
        _check(node.args[0], allowed, used, depth + 1)
        return
    raise _fail(f"{type(node).__name__} expressions are not allowed "
                "(only numbers, variables, + - * / **, and functions)")


def _evaluate(node: ast.AST, values: dict[str, torch.Tensor], like: torch.Tensor) -> torch.Tensor:
    dtype = like.dtype if like.is_floating_point() else torch.get_default_dtype()
    if isinstance(node, ast.Constant):
        return torch.tensor(float(node.value), dtype=dtype, device=like.device)
    if isinstance(node, ast.Name):
        if node.id in values:
            return values[node.id].to(dtype)
        return torch.tensor(CONSTANTS[node.id], dtype=dtype, device=like.device)
    if isinstance(node, ast.UnaryOp):
        inner = _evaluate(node.operand, values, like)
        return -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp):
        return _BINOPS[type(node.op)](_evaluate(node.left, values, like), _evaluate(node.right, values, like))
    if isinstance(node, ast.Call):
        return FUNCTIONS[node.func.id](_evaluate(node.args[0], values, like))
    raise _fail(f"{type(node).__name__} expressions are not allowed")  # unreachable after parse()


def evaluate(formula: str, **values: torch.Tensor) -> torch.Tensor:
    """Parse ``formula`` with the given variable names and evaluate it on ``values``."""
    return parse(formula, variables=tuple(values))(**values)
