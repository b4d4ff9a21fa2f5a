"""$validate-code on ValueSet (is the code in the value set?) and CodeSystem (is it a
code of the system?): `result`, a `message` naming code, system and value set when it
is not (or when the display is not one of the concept's), and the concept's `display`.

The code comes as `code` + `system` (+`display`), a `coding`, or a `codeableConcept`
(true when any of its codings is valid). A value set or code system the server does
not know is a 404 naming it; no code at all is a 400.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from fhir_server.errors import FhirError
from fhir_server.operations.registry import Operation, OperationParameter, register
from fhir_server.operations.terminology_common import canonical, service, stored_instance
from fhir_server.rest.context import RequestInfo, ServerContext
from fhir_server.rest.results import InteractionResult
from fhir_server.terminology.parameters import OperationInput, param, parameters
from fhir_server.terminology.service import CodeCheck, TerminologyService


def run_validate_code(
    ctx: ServerContext,
    request: RequestInfo,
    type_: str | None,
    id_: str | None,
    params: Sequence[tuple[str, str]],
    body: Any,
) -> InteractionResult:
    terminology = service(ctx)
    given = OperationInput("validate-code", params, body)
    codings = _codings(given)
    if type_ == "CodeSystem":
        url = given.text("url") or given.text("system")
        if id_ is not None:
            url = canonical(stored_instance(ctx, "CodeSystem", id_))
        if not url:
            raise FhirError(400, "required", "$validate-code needs the parameter 'url'")
        checks = [_in_code_system(terminology, url, given.text("version"), *c) for c in codings]
    else:
        if id_ is not None:
            compiled = terminology.compile_inline(stored_instance(ctx, "ValueSet", id_))
        elif (inline := given.complex("valueSet")) is not None:
            compiled = terminology.compile_inline(inline)
        else:
            url = given.text("url")
            if not url:
                raise FhirError(400, "required", "$validate-code needs the parameter 'url'")
            version = given.text("valueSetVersion")
            compiled = terminology.compiled(f"{url}|{version}" if version else url)
        checks = [terminology.check_in(compiled, *c) for c in codings]
    chosen = next((c for c in checks if c.result), checks[0])
    if not chosen.result and len(checks) > 1:
        message = "; ".join(c.message or "" for c in checks)
        chosen = CodeCheck(False, message)
    out = parameters(
        param("result", "Boolean", chosen.result),
        param("message", "String", chosen.message),
        param("display", "String", chosen.display),
    )
    return InteractionResult(200, body=orjson.dumps(out))


def _codings(given: OperationInput) -> list[tuple[str | None, str, str | None]]:
    code = given.text("code")
    if code:
        return [(given.text("system"), code, given.text("display"))]
    coding = given.complex("coding")
    if coding is not None:
        return [(coding.get("system"), _code(coding, "coding"), coding.get("display"))]
    concept = given.complex("codeableConcept")
    if concept is not None and concept.get("coding"):
        return [
            (c.get("system"), _code(c, "codeableConcept.coding"), c.get("display"))
            for c in concept["coding"]
        ]
    raise FhirError(
        400,
        "required",
        "$validate-code needs 'code' (with 'system'), 'coding' or 'codeableConcept'",
    )


def _code(coding: dict[str, Any], where: str) -> str:
    code = coding.get("code")
    if not isinstance(code, str) or not code:
        raise FhirError(400, "required", f"$validate-code: {where} has no code")
    return code


def _in_code_system(
    terminology: TerminologyService,
    url: str,
    version: str | None,
    system: str | None,
    code: str,
    display: str | None,
) -> CodeCheck:
    source = terminology.require_code_system(url, version)
    if system is not None and system != source.url:
        return CodeCheck(False, f"The system '{system}' is not the CodeSystem {source.url}")
    concept = source.lookup(code)
    if concept is None:
        return CodeCheck(False, f"The code '{code}' is not in the CodeSystem {source.url}")
    names = [concept.display or ""] + [d[2] for d in concept.designations]
    if display and display.casefold() not in (n.casefold() for n in names):
        return CodeCheck(
            True,
            f"The display '{display}' is not a display of code '{code}' (expected"
            f" '{concept.display}')",
            concept.display,
        )
    return CodeCheck(True, None, concept.display)


OPERATION = register(
    Operation(
        name="validate-code",
        levels=frozenset({"type", "instance"}),
        types=frozenset({"ValueSet", "CodeSystem"}),
        handler=run_validate_code,
        definition_url="http://hl7.org/fhir/OperationDefinition/ValueSet-validate-code",
        documentation=(
            "Is a code (code+system, coding or codeableConcept) in the value set (or code"
            " system)? result, message and display"
        ),
        parameters=(
            OperationParameter("url", "in", 0, "1", "uri", "The value set (or code system)"),
            OperationParameter("valueSet", "in", 0, "1", None, "An inline ValueSet"),
            OperationParameter("valueSetVersion", "in", 0, "1", "string", "Its version"),
            OperationParameter("code", "in", 0, "1", "code", "The code"),
            OperationParameter("system", "in", 0, "1", "uri", "Its system"),
            OperationParameter("display", "in", 0, "1", "string", "Its display, checked"),
            OperationParameter("coding", "in", 0, "1", "Coding", "The code as a Coding"),
            OperationParameter("codeableConcept", "in", 0, "1", "CodeableConcept", "Any"),
            OperationParameter("result", "out", 1, "1", "boolean", "Valid or not"),
            OperationParameter("message", "out", 0, "1", "string", "Why not"),
            OperationParameter("display", "out", 0, "1", "string", "The concept's display"),
        ),
    )
)
