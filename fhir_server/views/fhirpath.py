"""The FHIRPath subset SQL on FHIR v2 requires, compiled to Python closures over JSON.

A view evaluates a handful of paths per resource, millions of times, so each path is
parsed once into a tree and the tree into nested closures that walk the resource dict
directly (no model objects, no per-call parsing). Covered: member access (choice
elements like `value` find `valueQuantity`), `ofType`/`as`/`is`, indexers, literals,
`%constants`, `$this`, `= != < > <= >= and or xor implies not() | + - * / &`, `in`,
`contains`, the functions exists, empty, where, select, first, last, tail, count, not,
join, extension, ofType, as, is, hasValue, distinct, single, toString, lower, upper,
length, substring, startsWith, endsWith, contains, matches, all, allTrue, anyTrue,
allFalse, anyFalse, and SQL on FHIR's getResourceKey() and getReferenceKey([type]). Any
other function sends the whole expression to `fhirpathpy` (complete, but about 30x
slower on the example views), with the two key functions and the constants given to it.

A compiled path is `Path(focus_item, env) -> list`; `env` holds the resource being
viewed and the view's constants. Results may share lists with the resource (no copy
for a plain member): callers never mutate them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

import orjson

from fhir_server.search.references import parse_reference
from fhir_server.search.registry import CHOICE_ELEMENTS_FILE
from fhir_server.views.fhirpath_parse import FhirPathError, parse

Fn = Callable[[list, "Env"], list]


@dataclass(slots=True)
class Env:
    resource: Any
    constants: Mapping[str, list]


class Unsupported(Exception):
    """Outside the compiled subset: evaluate with fhirpathpy."""


# -- types ---------------------------------------------------------------------------
_STRINGY = frozenset(
    {
        "string",
        "code",
        "id",
        "uri",
        "url",
        "canonical",
        "oid",
        "uuid",
        "markdown",
        "base64Binary",
        "date",
        "dateTime",
        "instant",
        "time",
    }
)
# a few keys that tell complex types apart when the element name does not (ofType on a
# collection of mixed values, e.g. an extension's value)
_SHAPES: dict[str, tuple[str, ...]] = {
    "Quantity": ("value", "unit", "code"),
    "Reference": ("reference", "identifier"),
    "CodeableConcept": ("coding", "text"),
    "Coding": ("system", "code", "display"),
    "Period": ("start", "end"),
    "Identifier": ("system", "value"),
}


def _upper_first(name: str) -> str:
    return name[:1].upper() + name[1:]


def is_type(value: Any, type_name: str) -> bool:
    """Best effort for JSON values that lost their declared type."""
    lowered = type_name[:1].lower() + type_name[1:]
    if type(value) is dict:
        if "resourceType" in value:
            return value["resourceType"] == type_name
        shape = _SHAPES.get(type_name)
        return shape is not None and any(k in value for k in shape)
    if lowered == "boolean":
        return type(value) is bool
    if lowered in ("integer", "positiveInt", "unsignedInt"):
        return type(value) is int
    if lowered == "decimal":
        return type(value) in (int, float)
    if lowered in _STRINGY:
        return type(value) is str
    return False


@lru_cache(maxsize=1)
def choice_elements() -> dict[str, tuple[str, ...]]:
    """`value` -> ('Quantity', 'String', ...): where a choice element's value may be kept."""
    raw = orjson.loads(CHOICE_ELEMENTS_FILE.read_bytes())
    return {name: tuple(types) for name, types in raw.items()}


# -- compiled pieces -----------------------------------------------------------------
def _member(name: str) -> Fn:
    choices = tuple(name + t for t in choice_elements().get(name, ()))
    is_type_name = name[:1].isupper()

    def member(focus: list, env: Env) -> list:
        if len(focus) == 1 and type(focus[0]) is dict:
            # the common case (one resource or element): no new list when the value is one
            value = focus[0].get(name)
            if value is not None:
                return value if type(value) is list else [value]
        out: list = []
        for item in focus:
            if type(item) is not dict:
                continue
            value = item.get(name)
            if value is None:
                if is_type_name and item.get("resourceType") == name:
                    out.append(item)
                    continue
                for key in choices:
                    value = item.get(key)
                    if value is not None:
                        break
                else:
                    continue
            if type(value) is list:
                out.extend(value)
            else:
                out.append(value)
        return out

    return member


def _typed_member(name: str, type_name: str) -> Fn:
    """`value.ofType(Quantity)`: the `valueQuantity` key, or `value` when it has the type."""
    key = name + _upper_first(type_name)

    def typed(focus: list, env: Env) -> list:
        out: list = []
        for item in focus:
            if type(item) is not dict:
                continue
            value = item.get(key)
            if value is None:
                plain = item.get(name)
                if plain is None:
                    continue
                values = plain if type(plain) is list else [plain]
                out.extend(v for v in values if is_type(v, type_name))
            elif type(value) is list:
                out.extend(value)
            else:
                out.append(value)
        return out

    return typed


def _single_bool(values: list, what: str) -> bool | None:
    if not values:
        return None
    if len(values) == 1 and type(values[0]) is bool:
        return values[0]
    if len(values) == 1:
        return True  # a single non-boolean value is true in a boolean context
    raise FhirPathError(f"{what}: expected a single boolean, got {len(values)} values")


def _compare(op: str) -> Callable[[Any, Any], bool]:
    return {
        "<": lambda a, b: a < b,
        ">": lambda a, b: a > b,
        "<=": lambda a, b: a <= b,
        ">=": lambda a, b: a >= b,
    }[op]


def _binop(op: str, left: Fn, right: Fn) -> Fn:
    if op in ("and", "or", "xor", "implies"):
        return _logic(op, left, right)
    if op in ("=", "!=", "~", "!~"):
        negate = op.startswith("!")
        loose = "~" in op

        def equal(focus: list, env: Env) -> list:
            a, b = left(focus, env), right(focus, env)
            if not a or not b:
                return []
            if loose:
                a = [x.lower() if type(x) is str else x for x in a]
                b = [x.lower() if type(x) is str else x for x in b]
            same = a == b
            return [same != negate]

        return equal
    if op in ("<", ">", "<=", ">="):
        test = _compare(op)

        def compare(focus: list, env: Env) -> list:
            a, b = left(focus, env), right(focus, env)
            if len(a) != 1 or len(b) != 1:
                return []
            try:
                return [test(a[0], b[0])]
            except TypeError:
                raise FhirPathError(f"cannot compare {a[0]!r} {op} {b[0]!r}") from None

        return compare
    if op == "|":

        def union(focus: list, env: Env) -> list:
            out: list = []
            for v in (*left(focus, env), *right(focus, env)):
                if v not in out:
                    out.append(v)
            return out

        return union
    if op in ("in", "contains"):
        item_fn, coll_fn = (left, right) if op == "in" else (right, left)

        def membership(focus: list, env: Env) -> list:
            item = item_fn(focus, env)
            if not item:
                return []
            return [item[0] in coll_fn(focus, env)]

        return membership
    if op in ("+", "-", "*", "/", "&", "div", "mod"):
        return _arithmetic(op, left, right)
    raise Unsupported(op)


def _logic(op: str, left: Fn, right: Fn) -> Fn:
    def logic(focus: list, env: Env) -> list:
        a = _single_bool(left(focus, env), op)
        if op == "and" and a is False:
            return [False]
        if op == "or" and a is True:
            return [True]
        if op == "implies" and a is False:
            return [True]
        b = _single_bool(right(focus, env), op)
        if op == "and":
            return [True] if a and b else [False] if b is False else []
        if op == "or":
            return [True] if b else [False] if a is False and b is False else []
        if op == "xor":
            return [] if a is None or b is None else [a != b]
        return [True] if b else [] if a is None or b is None else [False]

    return logic


def _arithmetic(op: str, left: Fn, right: Fn) -> Fn:
    def arith(focus: list, env: Env) -> list:
        a, b = left(focus, env), right(focus, env)
        if op == "&":
            return ["".join(str(v[0]) if v else "" for v in (a, b))]
        if len(a) != 1 or len(b) != 1:
            return []
        x, y = a[0], b[0]
        try:
            if op == "+":
                return [x + y]
            if op == "-":
                return [x - y]
            if op == "*":
                return [x * y]
            if op == "/":
                return [] if y == 0 else [x / y]
            if op == "div":
                return [] if y == 0 else [int(x // y)]
            return [] if y == 0 else [x % y]
        except TypeError:
            raise FhirPathError(f"cannot compute {x!r} {op} {y!r}") from None

    return arith


def _reference_key(type_name: str | None) -> Fn:
    def reference_key(focus: list, env: Env) -> list:
        out: list = []
        for item in focus:
            ref = item.get("reference") if type(item) is dict else None
            if type(ref) is not str:
                continue
            parsed = parse_reference(ref)
            if parsed is None:
                continue
            if parsed.id is None and parsed.url is not None:
                # an absolute URL on another server: .../Type/id names the target too
                parts = parsed.url.rstrip("/").split("/")
                target_type, target_id = (parts[-2], parts[-1]) if len(parts) >= 2 else (None, None)
            else:
                target_type, target_id = parsed.type, parsed.id
            if target_id is None or (type_name is not None and target_type != type_name):
                continue
            out.append(target_id)
        return out

    return reference_key


def _resource_key(focus: list, env: Env) -> list:
    return [item["id"] for item in focus if type(item) is dict and "id" in item]


def _iterate(arg: Fn, keep: Callable[[list], bool]) -> Callable[[list, Env], list]:
    def filtered(focus: list, env: Env) -> list:
        return [item for item in focus if keep(arg([item], env))]

    return filtered


def _truthy(values: list) -> bool:
    return values == [True]


def _function(name: str, args: list[tuple], input_: Fn | None) -> Fn:
    """`input_.name(args)`; input_ None means the function applies to the focus itself."""
    inner = input_ or (lambda focus, env: focus)
    n = len(args)
    if name in ("ofType", "as", "is") and n == 1:
        type_name = _type_argument(args[0])
        if name == "is":
            return lambda f, e: [is_type(v[0], type_name)] if len(v := inner(f, e)) == 1 else []
        return lambda f, e: [v for v in inner(f, e) if is_type(v, type_name)]
    if name == "getReferenceKey" and n <= 1:
        key = _reference_key(_type_argument(args[0]) if args else None)
        return lambda f, e: key(inner(f, e), e)
    if name == "getResourceKey" and n == 0:
        return lambda f, e: _resource_key(inner(f, e), e)
    if name == "extension" and n == 1:
        url_fn = compile_node(args[0])
        ext = _member("extension")

        def extension(focus: list, env: Env) -> list:
            urls = url_fn(focus, env)
            return [x for x in ext(inner(focus, env), env) if x.get("url") in urls]

        return extension
    compiled = [compile_node(a) for a in args]
    if name == "where" and n == 1:
        keep = _iterate(compiled[0], _truthy)
        return lambda f, e: keep(inner(f, e), e)
    if name == "select" and n == 1:
        sel = compiled[0]
        return lambda f, e: [v for item in inner(f, e) for v in sel([item], e)]
    if name == "exists" and n <= 1:
        if n == 0:
            return lambda f, e: [bool(inner(f, e))]
        keep = _iterate(compiled[0], _truthy)
        return lambda f, e: [bool(keep(inner(f, e), e))]
    if name in ("all", "allTrue", "anyTrue", "allFalse", "anyFalse") and n <= 1:
        return _aggregate_bool(name, inner, compiled[0] if compiled else None)
    if name == "join" and n <= 1:
        sep_fn = compiled[0] if compiled else (lambda f, e: [""])

        def join(focus: list, env: Env) -> list:
            sep = sep_fn(focus, env)
            values = inner(focus, env)
            return [(sep[0] if sep else "").join(_to_string(v) for v in values)]

        return join
    simple: dict[str, Callable[[list], list]] = {
        "empty": lambda v: [not v],
        "first": lambda v: v[:1],
        "last": lambda v: v[-1:],
        "tail": lambda v: v[1:],
        "count": lambda v: [len(v)],
        "not": lambda v: [] if (b := _single_bool(v, "not()")) is None else [not b],
        "hasValue": lambda v: [len(v) == 1 and type(v[0]) is not dict],
        "distinct": lambda v: [x for i, x in enumerate(v) if x not in v[:i]],
        "single": _single,
        "toString": lambda v: [_to_string(v[0])] if len(v) == 1 else [],
        "lower": lambda v: [v[0].lower()] if len(v) == 1 and type(v[0]) is str else [],
        "upper": lambda v: [v[0].upper()] if len(v) == 1 and type(v[0]) is str else [],
        "length": lambda v: [len(v[0])] if len(v) == 1 and type(v[0]) is str else [],
    }
    if name in simple and n == 0:
        fn = simple[name]
        return lambda f, e: fn(inner(f, e))
    if name == "substring" and n in (1, 2):
        return _substring(inner, compiled)
    if name in ("startsWith", "endsWith", "contains", "matches") and n == 1:
        return _string_test(name, inner, compiled[0])
    raise Unsupported(name)


def _single(values: list) -> list:
    if len(values) > 1:
        raise FhirPathError(f"single(): {len(values)} values")
    return values


def _to_string(value: Any) -> str:
    if type(value) is bool:
        return "true" if value else "false"
    return value if type(value) is str else str(value)


def _substring(inner: Fn, args: list[Fn]) -> Fn:
    def substring(focus: list, env: Env) -> list:
        values = inner(focus, env)
        bounds = [a(focus, env) for a in args]
        if len(values) != 1 or type(values[0]) is not str or any(len(b) != 1 for b in bounds):
            return []
        start = bounds[0][0]
        if type(start) is not int or not 0 <= start < len(values[0]):
            return []
        end = start + bounds[1][0] if len(bounds) == 2 else None
        return [values[0][start:end]]

    return substring


def _string_test(name: str, inner: Fn, arg: Fn) -> Fn:
    def test(focus: list, env: Env) -> list:
        values, other = inner(focus, env), arg(focus, env)
        if len(values) != 1 or len(other) != 1:
            return []
        s, t = str(values[0]), str(other[0])
        if name == "startsWith":
            return [s.startswith(t)]
        if name == "endsWith":
            return [s.endswith(t)]
        if name == "contains":
            return [t in s]
        return [re.search(t, s) is not None]

    return test


def _aggregate_bool(name: str, inner: Fn, criteria: Fn | None) -> Fn:
    def aggregate(focus: list, env: Env) -> list:
        values = inner(focus, env)
        if name == "all":
            assert criteria is not None
            return [all(_truthy(criteria([v], env)) for v in values)]
        if name == "allTrue":
            return [all(v is True for v in values)]
        if name == "anyTrue":
            return [any(v is True for v in values)]
        if name == "allFalse":
            return [all(v is False for v in values)]
        return [any(v is False for v in values)]

    return aggregate


def _type_argument(node: tuple) -> str:
    # ofType(Quantity), ofType(FHIR.Quantity), getReferenceKey(Patient): a type name
    if node[0] == "member":
        return node[1]
    if node[0] == "path" and node[2][0] == "member":
        return node[2][1]
    raise FhirPathError("expected a type name")


def compile_node(node: tuple) -> Fn:
    kind = node[0]
    if kind == "lit":
        value = node[1]
        return lambda f, e: value
    if kind == "const":
        name = node[1]
        if name in ("resource", "rootResource", "context"):
            return lambda f, e: [e.resource]
        return lambda f, e: _constant(e, name)
    if kind == "this":
        return lambda f, e: f
    if kind == "member":
        return _member(node[1])
    if kind == "call":
        return _function(node[1], node[2], None)
    if kind == "path":
        left, right = node[1], node[2]
        if right[0] == "call" and right[1] == "ofType" and len(right[2]) == 1:
            typed = _typed_path(left, _type_argument(right[2][0]))
            if typed is not None:
                return typed
        left_fn = compile_node(left)
        if right[0] == "member":
            member = _member(right[1])
            return lambda f, e: member(left_fn(f, e), e)
        return _function(right[1], right[2], left_fn)
    if kind == "index":
        left_fn, index_fn = compile_node(node[1]), compile_node(node[2])

        def index(focus: list, env: Env) -> list:
            i = index_fn(focus, env)
            values = left_fn(focus, env)
            return values[i[0] : i[0] + 1] if i and type(i[0]) is int and i[0] >= 0 else []

        return index
    if kind == "binop":
        return _binop(node[1], compile_node(node[2]), compile_node(node[3]))
    if kind == "unary":
        operand = compile_node(node[2])
        if node[1] == "+":
            return operand
        return lambda f, e: [-v for v in operand(f, e)]
    if kind == "typeop":
        return _function(
            "is" if node[1] == "is" else "ofType", [("member", node[3])], compile_node(node[2])
        )
    raise Unsupported(kind)


def _typed_path(left: tuple, type_name: str) -> Fn | None:
    if left[0] == "member":
        return _typed_member(left[1], type_name)
    if left[0] == "path" and left[2][0] == "member":
        base = compile_node(left[1])
        typed = _typed_member(left[2][1], type_name)
        return lambda f, e: typed(base(f, e), e)
    return None


def _constant(env: Env, name: str) -> list:
    try:
        return env.constants[name]
    except KeyError:
        raise FhirPathError(f"unknown constant %{name}") from None


# -- the fallback engine ---------------------------------------------------------------
def _engine(expression: str) -> Fn:
    import fhirpathpy
    from fhirpathpy.engine.util import get_data
    from fhirpathpy.models import models

    # the engine calls a user function with (input collection, *arguments)
    def resource_key(inputs: list) -> list:
        return _resource_key([get_data(i) for i in inputs], None)  # type: ignore[arg-type]

    def reference_key(inputs: list, type_name: Any = None) -> list:
        wanted = type_name if isinstance(type_name, str) else None
        return _reference_key(wanted)([get_data(i) for i in inputs], None)  # type: ignore[arg-type]

    table = {
        "getResourceKey": {"fn": resource_key, "arity": {0: []}},
        "getReferenceKey": {"fn": reference_key, "arity": {0: [], 1: ["String"]}},
    }
    # getReferenceKey(Patient) passes a type name; the engine wants an expression string
    text = re.sub(
        r"getReferenceKey\(\s*([A-Za-z][A-Za-z0-9]*)\s*\)", r"getReferenceKey('\1')", expression
    )
    compiled = fhirpathpy.compile(text, models["r4"], {"userInvocationTable": table})

    def run(focus: list, env: Env) -> list:
        variables = {k: v[0] if len(v) == 1 else v for k, v in env.constants.items()}
        variables["resource"] = env.resource
        out: list = []
        for item in focus:
            out.extend(_plain(value) for value in compiled(item, variables))
        return out

    return run


def _plain(value: Any) -> Any:
    """The engine's values as JSON values: decimals as numbers, dates and times as text."""
    if isinstance(value, (str, bool, int, float, dict, list)):
        return value
    if isinstance(value, Decimal):
        return (
            int(value)
            if value == value.to_integral_value() and "." not in str(value)
            else float(value)
        )
    return str(value)


@dataclass(frozen=True, slots=True)
class CompiledPath:
    expression: str
    evaluate: Fn
    compiled: bool  # False: the fallback engine evaluates it

    def __call__(self, item: Any, env: Env) -> list:
        return self.evaluate([item], env)


@lru_cache(maxsize=512)
def compile_path(expression: str) -> CompiledPath:
    """Raises FhirPathError when the expression does not parse."""
    tree = parse(expression)
    try:
        return CompiledPath(expression, compile_node(tree), True)
    except Unsupported:
        pass
    try:
        return CompiledPath(expression, _engine(expression), False)
    except Exception as exc:  # the engine's own parse errors are plain exceptions
        raise FhirPathError(f"cannot evaluate {expression!r}: {exc}") from None
