import math

import pytest
import torch

from workbench import expr


def test_evaluates_arithmetic_and_functions_like_torch():
    x = torch.linspace(-2, 2, 9, dtype=torch.float64)
    y = torch.linspace(0.5, 3, 9, dtype=torch.float64)
    got = expr.parse("x**2 + 1.5*sin(2*pi*x) - exp(-y)/sqrt(y) + abs(x)*log(y) + arctan(x)")(x=x, y=y)
    want = x ** 2 + 1.5 * torch.sin(2 * math.pi * x) - torch.exp(-y) / torch.sqrt(y) \
        + x.abs() * torch.log(y) + torch.atan(x)
    torch.testing.assert_close(got, want, rtol=0, atol=1e-14)


def test_precedence_unary_minus_and_constants():
    x = torch.tensor([3.0], dtype=torch.float64)
    assert expr.parse("-x**2", ("x",))(x=x).item() == -9.0  # ** binds tighter than unary minus
    assert expr.parse("2**-1 + e - e", ("x",))(x=x).item() == 0.5
    assert expr.parse("tanh(0) + cosh(0) + sinh(0) + cos(0) + tan(0)", ("x",))(x=x).item() == 2.0  # cosh(0) + cos(0)


def test_constant_formula_broadcasts_to_the_grid():
    x = torch.zeros(4, 5)
    out = expr.parse("3")(x=x, y=x)
    assert out.shape == (4, 5) and torch.all(out == 3)


def test_used_variables_are_reported():
    assert expr.parse("x + 1").used == {"x"}


@pytest.mark.parametrize("text, fragment", [
    ("__import__('os').system('ls')", "function"),
    ("x.__class__", "Attribute"),
    ("[x for x in y]", "ListComp"),
    ("lambda: 1", "Lambda"),
    ("x if y else 1", "IfExp"),
    ("x[0]", "Subscript"),
    ("'abc'", "only numbers"),
    ("x < y", "Compare"),
    ("z + 1", "unknown name 'z'"),
    ("sin", "must be called"),
    ("x ^ 2", "use ** for powers"),
    ("x // 2", "//"),
    ("min(x, y)", "not allowed"),
    ("sin(x, y)", "exactly one"),
    ("sin(x=1)", "exactly one"),
    ("x ** 1000", "exponents must have magnitude"),
    ("2 ** 2 ** 10", "power inside an exponent"),
    ("1e400", "magnitude"),
    ("x +", "cannot parse"),
    ("", "empty"),
    ("x" + "+x" * 300, "at most 500 characters"),
    ("sin(" * 45 + "x" + ")" * 45, "nested too deeply"),
])
def test_rejects_unsafe_or_malformed_formulas_naming_the_parameter(text, fragment):
    with pytest.raises(ValueError) as info:
        expr.parse(text)
    message = str(info.value)
    assert message.startswith("formula:")
    assert fragment in message


def test_too_many_nodes_is_rejected():
    with pytest.raises(ValueError, match="syntax nodes"):
        expr.parse("+".join(["x*y"] * 120)[:499])


def test_non_string_is_a_type_error():
    with pytest.raises(TypeError, match="formula must be a string"):
        expr.parse(3)


@pytest.mark.parametrize("text", ["ｘ**2", "𝐱 + 1", "ⅹ*2", "x + ｙ", "sin(x)\u00a0+ 1", "x\u200b+1"])
def test_look_alike_letters_are_refused_not_folded(text):
    with pytest.raises(ValueError, match=r"formula: only ASCII .* at column \d+"):
        expr.parse(text)


@pytest.mark.parametrize("text", ["1" * 400, "x + " + "9" * 400, "x**" + "1" * 400, "-" + "7" * 480,
                                  "1" * 400 + ".5", "1e400"])
def test_huge_literals_are_one_line_value_errors(text):
    with pytest.raises(ValueError, match="formula: .*magnitude at most") as info:
        expr.parse(text)
    assert "\n" not in str(info.value) and len(str(info.value)) < 200
