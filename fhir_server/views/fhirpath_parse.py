"""FHIRPath text -> a tree of tuples (a small Pratt parser), for views/fhirpath.py.

Trees: ("lit", [value]) ("const", name) ("this",) ("var", name) ("member", name)
("call", name, [args]) ("path", left, member-or-call) ("index", left, index)
("binop", op, left, right) ("unary", op, operand) ("typeop", "is"|"as", operand, type).
"""

from __future__ import annotations

import re


class FhirPathError(ValueError):
    """The expression cannot be parsed (or names an unknown constant)."""


_TOKEN_RE = re.compile(
    r"""\s+|//[^\n]*|/\*.*?\*/
    |(?P<str>'(?:[^'\\]|\\.)*')
    |(?P<delim>`[^`]*`)
    |(?P<date>@[0-9T:\-+.Z]+)
    |(?P<num>\d+(?:\.\d+)?)
    |(?P<const>%(?:[A-Za-z_][A-Za-z0-9_]*|`[^`]*`|'[^']*'))
    |(?P<var>\$(?:this|index|total))
    |(?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<op><=|>=|!=|!~|[-+*/&|=~<>()\[\],.{}])""",
    re.VERBOSE | re.DOTALL,
)
_ESCAPES = {
    "'": "'",
    '"': '"',
    "`": "`",
    "\\": "\\",
    "/": "/",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
}
# binding power of infix operators (FHIRPath precedence, loosest first)
_INFIX = {
    "implies": 1,
    "or": 2,
    "xor": 2,
    "and": 3,
    "in": 4,
    "contains": 4,
    "=": 5,
    "~": 5,
    "!=": 5,
    "!~": 5,
    "<": 6,
    ">": 6,
    "<=": 6,
    ">=": 6,
    "|": 7,
    "is": 8,
    "as": 8,
    "+": 9,
    "-": 9,
    "&": 9,
    "*": 10,
    "/": 10,
    "div": 10,
    "mod": 10,
}


def _unescape(text: str) -> str:
    return re.sub(r"\\(u[0-9a-fA-F]{4}|.)", _escape_char, text)


def _escape_char(m: re.Match[str]) -> str:
    code = m.group(1)
    return chr(int(code[1:], 16)) if code.startswith("u") else _ESCAPES.get(code, code)


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if m is None:
            raise FhirPathError(f"unexpected character {text[pos]!r} at {pos}")
        pos = m.end()
        if m.lastgroup is not None:
            tokens.append((m.lastgroup, m.group(m.lastgroup)))
    return tokens


class _Parser:
    """Pratt parser: FHIRPath text -> a tree of tuples."""

    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (value is not None and tok[1] != value):
            raise FhirPathError(f"expected {value or 'more'} but found {tok[1] if tok else 'end'}")
        self.i += 1
        return tok

    def parse(self) -> tuple:
        node = self.expression(0)
        if self.peek() is not None:
            raise FhirPathError(f"unexpected {self.peek()[1]!r}")  # type: ignore[index]
        return node

    def expression(self, min_power: int) -> tuple:
        left = self.unary()
        while (tok := self.peek()) is not None:
            op = tok[1]
            power = _INFIX.get(op) if tok[0] in ("op", "ident") else None
            if power is None or power <= min_power:
                break
            self.i += 1
            if op in ("is", "as"):
                left = ("typeop", op, left, self.type_name())
            else:
                left = ("binop", op, left, self.expression(power))
        return left

    def unary(self) -> tuple:
        tok = self.peek()
        if tok is not None and tok[0] == "op" and tok[1] in "+-":
            self.i += 1
            return ("unary", tok[1], self.unary())
        return self.postfix(self.term())

    def type_name(self) -> str:
        name = self.identifier()
        while (tok := self.peek()) is not None and tok[1] == ".":
            self.i += 1
            name = self.identifier()  # FHIR.Quantity / System.String: the last part names it
        return name

    def identifier(self) -> str:
        kind, value = self.take()
        if kind == "ident":
            return value
        if kind == "delim":
            return value[1:-1]
        raise FhirPathError(f"expected a name, found {value!r}")

    def term(self) -> tuple:
        kind, value = self.take()
        if kind == "str":
            return ("lit", [_unescape(value[1:-1])])
        if kind == "num":
            return ("lit", [float(value) if "." in value else int(value)])
        if kind == "date":
            return ("lit", [value[1:]])
        if kind == "const":
            name = value[1:]
            return ("const", name[1:-1] if name[:1] in "`'" else name)
        if kind == "var":
            return ("this",) if value == "$this" else ("var", value)
        if kind == "op" and value == "(":
            inner = self.expression(0)
            self.take(")")
            return inner
        if kind == "op" and value == "{":
            self.take("}")
            return ("lit", [])
        if kind in ("ident", "delim"):
            name = value if kind == "ident" else value[1:-1]
            if kind == "ident" and name in ("true", "false"):
                return ("lit", [name == "true"])
            return self.invocation(name, kind)
        raise FhirPathError(f"unexpected {value!r}")

    def invocation(self, name: str, kind: str) -> tuple:
        tok = self.peek()
        if kind == "ident" and tok is not None and tok[1] == "(":
            self.i += 1
            args: list[tuple] = []
            if self.peek() is not None and self.peek()[1] != ")":  # type: ignore[index]
                args.append(self.expression(0))
                while self.peek() is not None and self.peek()[1] == ",":  # type: ignore[index]
                    self.i += 1
                    args.append(self.expression(0))
            self.take(")")
            return ("call", name, args)
        return ("member", name)

    def postfix(self, node: tuple) -> tuple:
        while (tok := self.peek()) is not None and tok[1] in (".", "["):
            self.i += 1
            if tok[1] == ".":
                kind, value = self.take()
                if kind not in ("ident", "delim"):
                    raise FhirPathError(f"expected a name after '.', found {value!r}")
                name = value if kind == "ident" else value[1:-1]
                node = ("path", node, self.invocation(name, kind))
            else:
                index = self.expression(0)
                self.take("]")
                node = ("index", node, index)
        return node


def parse(text: str) -> tuple:
    return _Parser(text).parse()
