"""Parser for the FHIRPath subset a FHIRPath Patch `path` needs.

A patch path must *locate* elements (so they can be changed), not compute values, so only
navigation is accepted:

    path      := term ( '.' invocation | '[' INTEGER ']' )*
    term      := invocation
    invocation:= IDENTIFIER | '$this' | function
    function  := 'first()' | 'last()' | 'single()' | 'where(' criteria ')'
               | 'ofType(' TYPE ')' | 'extension(' STRING ')'
               | 'exists()' | 'empty()'            (inside where() only)
    criteria  := and ( 'or' and )*
    and       := comparison ( 'and' comparison )*
    comparison:= '(' criteria ')' | path ( ('=' | '!=') literal )?
    literal   := STRING | NUMBER | 'true' | 'false' | '@' DATE/TIME

Anything else raises FhirError(400, "not-supported") naming the expression, rather than being
silently misread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import NoReturn

from fhir_server.errors import FhirError

Literal = str | bool | int | Decimal


@dataclass(frozen=True, slots=True)
class Member:
    name: str


@dataclass(frozen=True, slots=True)
class Index:
    position: int


@dataclass(frozen=True, slots=True)
class This:
    pass


@dataclass(frozen=True, slots=True)
class Function:
    name: str  # first | last | single | exists | empty | ofType | extension
    argument: str | None = None  # type name for ofType, url for extension


@dataclass(frozen=True, slots=True)
class Where:
    criteria: Criteria


@dataclass(frozen=True, slots=True)
class Comparison:
    path: tuple[Step, ...]
    operator: str | None  # "=" | "!=" | None (the path itself must be true)
    literal: Literal | None


@dataclass(frozen=True, slots=True)
class BoolOp:
    operator: str  # "and" | "or"
    operands: tuple[Criteria, ...]


Step = Member | Index | This | Function | Where
Criteria = Comparison | BoolOp

_NO_ARG_FUNCTIONS = frozenset({"first", "last", "single"})
_CRITERIA_ONLY_FUNCTIONS = frozenset({"exists", "empty"})

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<date>@[0-9T:.+\-Z]+)
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*|`[^`]+`|\$this)
  | (?P<op>!=|[.\[\]()=,])
    """,
    re.VERBOSE,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "f": "\f"}  # others (\\ \' \/ ...) map to themselves


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str
    position: int


def parse_path(expression: str) -> tuple[Step, ...]:
    """Parse a patch path into steps; raises FhirError(400) on anything outside the subset."""
    if not isinstance(expression, str) or not expression.strip():
        raise FhirError(400, "invalid", "FHIRPath Patch path is empty")
    parser = _Parser(expression, _tokenize(expression))
    steps = parser.path()
    if not parser.at_end():
        parser.unsupported()
    return steps


def _tokenize(expression: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(expression):
        match = _TOKEN.match(expression, position)
        if match is None:
            raise _unsupported(expression, f"unexpected character at offset {position}")
        kind = match.lastgroup or ""
        if kind != "ws":
            tokens.append(_Token(kind, match.group(), position))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, expression: str, tokens: list[_Token]) -> None:
        self.expression = expression
        self.tokens = tokens
        self.position = 0

    # -- token helpers -------------------------------------------------------------------

    def at_end(self) -> bool:
        return self.position >= len(self.tokens)

    def peek(self, text: str | None = None, kind: str | None = None) -> bool:
        if self.at_end():
            return False
        token = self.tokens[self.position]
        return (text is None or token.text == text) and (kind is None or token.kind == kind)

    def take(self, text: str | None = None, kind: str | None = None) -> _Token:
        if not self.peek(text, kind):
            self.unsupported()
        token = self.tokens[self.position]
        self.position += 1
        return token

    def unsupported(self, detail: str | None = None) -> NoReturn:
        if detail is None:
            detail = (
                f"unexpected '{self.tokens[self.position].text}'"
                if not self.at_end()
                else "unexpected end"
            )
        raise _unsupported(self.expression, detail)

    # -- grammar -------------------------------------------------------------------------

    def path(self, in_criteria: bool = False) -> tuple[Step, ...]:
        steps = [self.invocation(in_criteria)]
        while True:
            if self.peek("."):
                self.take(".")
                steps.append(self.invocation(in_criteria))
            elif self.peek("["):
                self.take("[")
                steps.append(Index(int(self.take(kind="number").text)))
                self.take("]")
            else:
                return tuple(steps)

    def invocation(self, in_criteria: bool) -> Step:
        name = self.take(kind="ident").text
        if name == "$this":
            return This()
        if name.startswith("`"):
            return Member(name[1:-1])
        if not self.peek("("):
            if name in ("and", "or", "true", "false"):
                self.unsupported()
            return Member(name)
        self.take("(")
        step = self.function(name, in_criteria)
        self.take(")")
        return step

    def function(self, name: str, in_criteria: bool) -> Step:
        if name in _NO_ARG_FUNCTIONS or (in_criteria and name in _CRITERIA_ONLY_FUNCTIONS):
            return Function(name)
        if name == "where":
            return Where(self.criteria())
        if name == "ofType":
            type_name = self.take(kind="ident").text
            while self.peek("."):  # qualified names such as FHIR.Quantity
                self.take(".")
                type_name = self.take(kind="ident").text
            return Function("ofType", type_name)
        if name == "extension":
            return Function("extension", _unquote(self.take(kind="string").text))
        return self.unsupported(f"function '{name}()' is not supported")

    def criteria(self) -> Criteria:
        operands = [self.conjunction()]
        while self.peek("or", "ident"):
            self.take()
            operands.append(self.conjunction())
        return operands[0] if len(operands) == 1 else BoolOp("or", tuple(operands))

    def conjunction(self) -> Criteria:
        operands = [self.comparison()]
        while self.peek("and", "ident"):
            self.take()
            operands.append(self.comparison())
        return operands[0] if len(operands) == 1 else BoolOp("and", tuple(operands))

    def comparison(self) -> Criteria:
        if self.peek("("):
            self.take("(")
            inner = self.criteria()
            self.take(")")
            return inner
        path = self.path(in_criteria=True)
        if self.peek("=") or self.peek("!="):
            operator = self.take().text
            return Comparison(path, operator, self.literal())
        return Comparison(path, None, None)

    def literal(self) -> Literal:
        token = self.take()
        if token.kind == "string":
            return _unquote(token.text)
        if token.kind == "number":
            return Decimal(token.text) if "." in token.text else int(token.text)
        if token.kind == "date":
            # Dates compare as their JSON text, which is how the resource stores them.
            return token.text[1:].removeprefix("T")
        if token.text in ("true", "false"):
            return token.text == "true"
        return self.unsupported(f"expected a literal, found '{token.text}'")


def _unsupported(expression: str, detail: str) -> FhirError:
    return FhirError(
        400,
        "not-supported",
        f"FHIRPath expression '{expression}' is not supported by FHIRPath Patch ({detail}); "
        "supported: member names, [n], first(), last(), single(), $this, "
        "where(<path> = <literal> [and|or ...]), ofType(T), extension('url')",
        [expression],
    )


def _unquote(text: str) -> str:
    body = text[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[i + 2 : i + 6]):
                out.append(chr(int(body[i + 2 : i + 6], 16)))
                i += 6
                continue
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)
