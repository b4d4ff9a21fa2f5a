"""SearchQueryParser: every parameter form to its IR, and every bad input to a 400."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fhir_server.errors import FhirError
from fhir_server.instants import to_micros
from fhir_server.search.dates import date_range
from fhir_server.search.query import ParsedSearch, SearchQueryParser
from fhir_server.search.registry import SearchParameterRegistry
from fhir_server.search.result_params import Include
from fhir_server.storage.query import (
    And,
    Composite,
    IdIn,
    LastUpdated,
    Missing,
    Not,
    Nothing,
    Or,
    Range,
    Reference,
    SearchQuery,
    SortKey,
    String,
    Token,
    TokenText,
    Uri,
)
from tests.search.conftest import OWN_BASE

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"


def where(parser: SearchQueryParser, resource_type: str, query: str) -> object:
    return parse(parser, resource_type, query).where


def parse(parser: SearchQueryParser, resource_type: str, query: str, **kw: object) -> ParsedSearch:
    pairs = [tuple(p.split("=", 1)) for p in query.split("&")] if query else []
    return parser.parse([resource_type] if resource_type else [], pairs, **kw)  # type: ignore[arg-type]


def rejects(parser: SearchQueryParser, resource_type: str, query: str, *names: str) -> FhirError:
    with pytest.raises(FhirError) as err:
        parse(parser, resource_type, query, strict=False)
    assert err.value.status == 400
    for name in names:
        assert name in err.value.diagnostics
    return err.value


# -- tokens ---------------------------------------------------------------------------


def test_token_code_only_matches_any_system(parser: SearchQueryParser) -> None:
    assert where(parser, "Patient", "gender=male") == Token("gender", "male")


def test_token_system_and_code(parser: SearchQueryParser) -> None:
    assert where(parser, "Observation", f"code={LOINC}|8480-6") == Token("code", "8480-6", LOINC)


def test_token_bar_code_means_no_system(parser: SearchQueryParser) -> None:
    assert where(parser, "Observation", "code=|8480-6") == Token("code", "8480-6", None, True)


def test_token_system_bar_means_any_code_in_system(parser: SearchQueryParser) -> None:
    assert where(parser, "Observation", f"code={LOINC}|") == Token("code", None, LOINC)


def test_comma_is_or_and_repeated_parameter_is_and(parser: SearchQueryParser) -> None:
    assert where(parser, "Patient", "gender=male,female&gender=other") == And(
        (Or((Token("gender", "male"), Token("gender", "female"))), Token("gender", "other"))
    )


def test_escaped_comma_and_bar_stay_in_the_value(parser: SearchQueryParser) -> None:
    assert where(parser, "Patient", r"identifier=a\|b|c\,d") == Token("identifier", "c,d", "a|b")


def test_token_text_modifier(parser: SearchQueryParser) -> None:
    assert where(parser, "Observation", "code:text=Blood Pressure") == TokenText(
        "code", "blood pressure"
    )


def test_token_not_modifier_negates_the_whole_list(parser: SearchQueryParser) -> None:
    assert where(parser, "Patient", "gender:not=male,female") == Not(
        Or((Token("gender", "male"), Token("gender", "female")))
    )


def test_identifier_of_type(parser: SearchQueryParser) -> None:
    system = "http://terminology.hl7.org/CodeSystem/v2-0203"
    assert where(parser, "Patient", f"identifier:of-type={system}|MR|446053") == Token(
        "identifier:of-type", "MR|446053", system
    )


def test_abha_identifier_search_uses_the_canonical_health_id_token(
    parser: SearchQueryParser,
) -> None:
    # either health-ID system, with or without hyphens, becomes one canonical token
    for query in (
        "identifier=https://healthid.ndhm.gov.in|22-7225-4829-5255",
        "identifier=https://healthid.abdm.gov.in|22722548295255",
    ):
        assert where(parser, "Patient", query) == Token(
            "identifier", "22722548295255", "urn:abdm:abha-number"
        )


@pytest.mark.parametrize("modifier", ["in", "not-in", "above", "below"])
def test_terminology_modifiers_say_they_need_the_terminology_service(
    parser: SearchQueryParser, modifier: str
) -> None:
    with pytest.raises(FhirError) as err:
        where(parser, "Observation", f"code:{modifier}=http://x/vs")
    assert err.value.status == 400 and "terminology" in err.value.diagnostics


# -- strings --------------------------------------------------------------------------


def test_string_default_is_normalised_starts_with(parser: SearchQueryParser) -> None:
    assert where(parser, "Patient", "family=Müller") == String("family", "muller", "start")


def test_string_exact_keeps_the_value_as_written(parser: SearchQueryParser) -> None:
    assert where(parser, "Patient", "family:exact=Müller") == String("family", "Müller", "exact")


def test_string_contains(parser: SearchQueryParser) -> None:
    assert where(parser, "Patient", "name:contains=UMA") == String("name", "uma", "contains")


def test_devanagari_string_is_kept(parser: SearchQueryParser) -> None:
    assert where(parser, "Patient", "name=राम कुमार") == String("name", "राम कुमार")


# -- dates ------------------------------------------------------------------------------


def test_date_eq_is_contained_in_the_precision_range(parser: SearchQueryParser) -> None:
    low, high = date_range("2020")
    assert where(parser, "Patient", "birthdate=2020") == Range(
        "birthdate", (("low", ">=", low), ("high", "<=", high))
    )


@pytest.mark.parametrize(
    ("prefix", "conditions"),
    [
        ("gt", ((("high", ">", "H"),),)),
        ("lt", ((("low", "<", "L"),),)),
        ("sa", ((("low", ">", "H"),),)),
        ("eb", ((("high", "<", "L"),),)),
        ("ge", ((("high", ">", "H"),), (("low", ">=", "L"), ("high", "<=", "H")))),
        ("le", ((("low", "<", "L"),), (("low", ">=", "L"), ("high", "<=", "H")))),
    ],
)
def test_date_prefixes(parser: SearchQueryParser, prefix: str, conditions: tuple) -> None:
    low, high = date_range("2020-06")
    bounds = {"L": low, "H": high}
    expected = [
        Range("date", tuple((f, op, bounds[b]) for f, op, b in alternative))
        for alternative in conditions
    ]
    got = where(parser, "Observation", f"date={prefix}2020-06")
    assert got == (expected[0] if len(expected) == 1 else Or(tuple(expected)))


def test_date_ne_is_not_eq(parser: SearchQueryParser) -> None:
    low, high = date_range("2020-06-01")
    assert where(parser, "Observation", "date=ne2020-06-01") == Not(
        Range("date", (("low", ">=", low), ("high", "<=", high)))
    )


def test_date_ap_widens_by_a_tenth_of_the_distance_from_now(
    registry: SearchParameterRegistry,
) -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    parser = SearchQueryParser(registry, now=lambda: now)
    got = where(parser, "Observation", "date=ap2020-01-01")
    assert isinstance(got, Range)
    low, high = date_range("2020-01-01")
    (f1, op1, b1), (f2, op2, b2) = got.conditions
    assert (f1, op1, f2, op2) == ("low", "<=", "high", ">=")
    assert b1 > high and b2 < low
    assert abs((b1 - high) - (to_micros(now) - (low + high) // 2) // 10) <= 1


def test_date_without_zone_uses_the_configured_zone(registry: SearchParameterRegistry) -> None:
    ist = SearchQueryParser(registry, default_timezone="Asia/Kolkata")
    got = where(ist, "Observation", "date=2024-03-01T10:00:00")
    assert isinstance(got, Range)
    assert got.conditions[0][2] == to_micros(datetime(2024, 3, 1, 4, 30, tzinfo=UTC))


def test_last_updated_is_a_record_column(parser: SearchQueryParser) -> None:
    low, _ = date_range("2024-01-01T00:00:00Z")
    got = where(parser, "Patient", "_lastUpdated=gt2024-01-01T00:00:00Z")
    assert isinstance(got, LastUpdated)
    assert got.conditions == (("high", ">", low + 999_999),)


# -- numbers and quantities -------------------------------------------------------------


def test_number_eq_uses_the_implicit_precision(parser: SearchQueryParser) -> None:
    assert where(parser, "RiskAssessment", "probability=0.25") == Range(
        "probability", (("low", ">=", 0.245), ("high", "<", 0.255))
    )
    assert where(parser, "RiskAssessment", "probability=1e2") == Range(
        "probability", (("low", ">=", 50.0), ("high", "<", 150.0))
    )


def test_number_comparison_prefixes_use_the_exact_value(parser: SearchQueryParser) -> None:
    assert where(parser, "RiskAssessment", "probability=gt0.8") == Range(
        "probability", (("high", ">", 0.8),)
    )
    assert where(parser, "RiskAssessment", "probability=le0.8") == Range(
        "probability", (("low", "<=", 0.8),)
    )


def test_quantity_with_system_and_code(parser: SearchQueryParser) -> None:
    assert where(parser, "Observation", f"value-quantity=lt60|{UCUM}|mm[Hg]") == Range(
        "value-quantity", (("low", "<", 60.0),), "quantity", UCUM, "mm[Hg]"
    )


def test_quantity_with_code_only_and_number_only(parser: SearchQueryParser) -> None:
    assert where(parser, "Observation", "value-quantity=5.4||mg") == Range(
        "value-quantity", (("low", ">=", 5.35), ("high", "<", 5.45)), "quantity", None, "mg"
    )
    got = where(parser, "Observation", "value-quantity=ge5")
    assert got == Range("value-quantity", (("high", ">=", 5.0),), "quantity")


# -- references -------------------------------------------------------------------------


def test_reference_type_and_id(parser: SearchQueryParser) -> None:
    assert where(parser, "Observation", "subject=Patient/123") == Reference(
        "subject", (("Patient", "123"),)
    )


def test_bare_id_takes_the_single_target_type(parser: SearchQueryParser) -> None:
    assert where(parser, "Observation", "patient=123") == Reference(
        "patient", (("Patient", "123"),)
    )
    assert where(parser, "Observation", "subject=123") == Reference("subject", ((None, "123"),))


def test_type_modifier_sets_the_target_type(parser: SearchQueryParser) -> None:
    assert where(parser, "Observation", "subject:Patient=123") == Reference(
        "subject", (("Patient", "123"),)
    )


def test_own_base_url_is_a_local_reference(parser: SearchQueryParser) -> None:
    assert where(parser, "Observation", f"subject={OWN_BASE}/Patient/123") == Reference(
        "subject", (("Patient", "123"),)
    )


def test_versioned_reference_matches_the_resource(parser: SearchQueryParser) -> None:
    assert where(parser, "Observation", "subject=Patient/123/_history/4") == Reference(
        "subject", (("Patient", "123"),)
    )


def test_foreign_absolute_url_is_matched_as_url(parser: SearchQueryParser) -> None:
    url = "https://other.example.org/fhir/Patient/9"
    assert where(parser, "Observation", f"subject={url}") == Reference("subject", url=url)


def test_reference_identifier_modifier(parser: SearchQueryParser) -> None:
    assert where(parser, "Observation", "subject:identifier=https://healthid.ndhm.gov.in|1") == (
        Token("subject:identifier", "1", "https://healthid.ndhm.gov.in")
    )


def test_canonical_with_version(parser: SearchQueryParser) -> None:
    url = "http://example.org/PlanDefinition/diabetes|1.2"
    assert where(parser, "CarePlan", f"instantiates-canonical={url}") == Reference(
        "instantiates-canonical", url=url
    )


# -- uri, missing, composite, _id ------------------------------------------------------------


def test_uri_below_and_above(parser: SearchQueryParser) -> None:
    assert where(parser, "ValueSet", "url:below=https://nrces.in/") == Uri(
        "url", "https://nrces.in/", "below"
    )
    assert where(parser, "ValueSet", "url=https://x/vs") == Uri("url", "https://x/vs")


@pytest.mark.parametrize(
    ("query", "kind"),
    [
        ("gender:missing=true", "token"),
        ("name:missing=false", "string"),
        ("birthdate:missing=true", "range"),
        ("general-practitioner:missing=true", "reference"),
    ],
)
def test_missing_modifier(parser: SearchQueryParser, query: str, kind: str) -> None:
    got = where(parser, "Patient", query)
    assert isinstance(got, Missing) and got.kind == kind
    assert got.missing == query.endswith("true")


def test_composite_token_and_quantity(parser: SearchQueryParser) -> None:
    assert where(parser, "Observation", f"code-value-quantity={LOINC}|8480-6$gt100") == Composite(
        "code-value-quantity", (f"{LOINC}|8480-6", ""), (("high", ">", 100.0),)
    )
    assert where(
        parser, "Observation", f"component-code-value-quantity=8480-6$lt60|{UCUM}|mm[Hg]"
    ) == Composite(
        "component-code-value-quantity", ("8480-6", f"{UCUM}|mm[Hg]"), (("low", "<", 60.0),)
    )


def test_composite_token_and_token(parser: SearchQueryParser) -> None:
    assert where(parser, "Observation", f"code-value-concept={LOINC}|1$|pos") == Composite(
        "code-value-concept", (f"{LOINC}|1", "|pos")
    )


def test_id_is_an_id_list(parser: SearchQueryParser) -> None:
    assert where(parser, "Patient", "_id=a,b") == IdIn(("a", "b"))


def test_common_parameters_on_system_search(parser: SearchQueryParser) -> None:
    assert where(parser, "", "_tag=https://x|y") == Token("_tag", "y", "https://x")


def test_type_parameter_sets_the_types_of_a_system_search(parser: SearchQueryParser) -> None:
    parsed = parse(parser, "", "_type=Observation,Condition&code=1234")
    assert parsed.types == ("Observation", "Condition")
    assert parsed.where == Token("code", "1234")


def test_empty_values_are_ignored(parser: SearchQueryParser) -> None:
    assert where(parser, "Patient", "gender=") is None


# -- chains and _has ---------------------------------------------------------------------------


class RecordingSubSearch:
    def __init__(self, keys: list[tuple[str, str]]) -> None:
        self.keys = keys
        self.calls: list[tuple] = []

    def match_keys(self, types, where):  # type: ignore[no-untyped-def]
        self.calls.append(("match", tuple(types), where))
        return [k for k in self.keys if k[0] in types]

    def referenced_keys(self, types, where, param):  # type: ignore[no-untyped-def]
        self.calls.append(("referenced", tuple(types), where, param))
        return self.keys


def test_chain_with_type_modifier(parser: SearchQueryParser) -> None:
    sub = RecordingSubSearch([("Patient", "p1"), ("Patient", "p2")])
    got = parser.parse(["Observation"], [("subject:Patient.name", "peter")], subsearch=sub)
    assert got.where == Reference("subject", (("Patient", "p1"), ("Patient", "p2")))
    assert sub.calls == [("match", ("Patient",), String("name", "peter"))]


def test_chain_without_type_uses_targets_having_the_parameter(parser: SearchQueryParser) -> None:
    sub = RecordingSubSearch([("Patient", "p1")])
    got = parser.parse(["Observation"], [("patient.gender", "male")], subsearch=sub)
    assert got.where == Reference("patient", (("Patient", "p1"),))


def test_chain_of_several_levels(parser: SearchQueryParser) -> None:
    sub = RecordingSubSearch([("Organization", "o1"), ("Patient", "p1")])
    got = parser.parse(
        ["Observation"], [("subject:Patient.organization.name", "AIIMS")], subsearch=sub
    )
    assert got.where == Reference("subject", (("Patient", "p1"),))
    assert sub.calls[0] == ("match", ("Organization",), String("name", "aiims"))
    assert sub.calls[1] == (
        "match",
        ("Patient",),
        Reference("organization", (("Organization", "o1"),)),
    )


def test_chain_with_no_match_is_nothing(parser: SearchQueryParser) -> None:
    sub = RecordingSubSearch([])
    got = parser.parse(["Observation"], [("subject:Patient.name", "x")], subsearch=sub)
    assert got.where == Nothing()


def test_has_finds_referenced_resources(parser: SearchQueryParser) -> None:
    sub = RecordingSubSearch([("Patient", "p1"), ("Group", "g1")])
    got = parser.parse(["Patient"], [("_has:Observation:patient:code", "1234-5")], subsearch=sub)
    assert got.where == IdIn(("p1",))
    assert sub.calls == [("referenced", ("Observation",), Token("code", "1234-5"), "patient")]


def test_nested_has(parser: SearchQueryParser) -> None:
    sub = RecordingSubSearch([("Patient", "p1"), ("Observation", "o1")])
    got = parser.parse(
        ["Patient"],
        [("_has:Observation:patient:_has:AuditEvent:entity:agent", "u1")],
        subsearch=sub,
    )
    assert got.where == IdIn(("p1",))
    inner = sub.calls[0]
    assert inner[1] == ("AuditEvent",) and inner[3] == "entity"


def test_chain_without_a_store_is_not_supported(parser: SearchQueryParser) -> None:
    with pytest.raises(FhirError) as err:
        parser.parse(["Observation"], [("subject:Patient.name", "x")])
    assert err.value.status == 400


# -- result parameters -------------------------------------------------------------------------


def test_sort_with_several_keys_and_descending(parser: SearchQueryParser) -> None:
    parsed = parse(parser, "Observation", "_sort=-date,code,_id,-_lastUpdated")
    assert parsed.result.sort == (
        SortKey("date", True),
        SortKey("code"),
        SortKey("_id"),
        SortKey("_lastUpdated", True),
    )


def test_count_summary_elements_total_contained(parser: SearchQueryParser) -> None:
    parsed = parse(
        parser,
        "Patient",
        "_count=50&_summary=count&_elements=name,birthDate&_total=accurate&_contained=both"
        "&_containedType=contained&_cursor=abc&_format=json",
    )
    r = parsed.result
    assert (r.count, r.summary, r.elements, r.total) == (
        50,
        "count",
        ("name", "birthDate"),
        "accurate",
    )
    assert (r.contained, r.contained_type, r.cursor) == ("both", "contained", "abc")
    assert parsed.where is None
    assert parsed.query() == SearchQuery(("Patient",), None, (), 50, "abc", "accurate")


def test_count_defaults_from_settings(registry: SearchParameterRegistry) -> None:
    from fhir_server.settings import load_settings

    parser = SearchQueryParser.from_settings(registry, load_settings(default_count=7))
    assert parser.parse(["Patient"], []).result.count == 7


def test_include_and_revinclude(parser: SearchQueryParser) -> None:
    parsed = parse(
        parser,
        "Observation",
        "_include=Observation:subject:Patient&_include:iterate=Patient:organization"
        "&_revinclude=Provenance:target&_include=*",
    )
    assert parsed.result.include == (
        Include("Observation", "subject", "Patient"),
        Include("Patient", "organization", None, iterate=True),
        Include("*", "*"),
    )
    assert parsed.result.revinclude == (Include("Provenance", "target", reverse=True),)


def test_unknown_parameter_is_a_warning_when_lenient(parser: SearchQueryParser) -> None:
    parsed = parse(parser, "Patient", "foo=bar&gender=male")
    assert parsed.where == Token("gender", "male")
    assert [w.expression for w in parsed.warnings] == [["foo"]]
    assert parsed.warnings[0].severity == "warning"


def test_unknown_parameter_is_an_error_when_strict(parser: SearchQueryParser) -> None:
    with pytest.raises(FhirError) as err:
        parse(parser, "Patient", "foo=bar", strict=True)
    assert err.value.status == 400 and "foo" in err.value.diagnostics


def test_unsupported_special_parameters_are_reported(parser: SearchQueryParser) -> None:
    parsed = parse(parser, "Location", "near=1|2|3|km&_text=x")
    assert parsed.where is None and len(parsed.warnings) == 2


# -- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource_type", "query", "named"),
    [
        ("Observation", "date=xx2020", "date"),
        ("Observation", "date=2020-13-01", "date"),
        ("Observation", "date=ge", "date"),
        ("RiskAssessment", "probability=abc", "probability"),
        ("RiskAssessment", "probability=gtx1", "probability"),
        ("Observation", "value-quantity=5|http://x", "value-quantity"),
        ("Observation", "value-quantity=five", "value-quantity"),
        ("Patient", "gender:exact=male", "gender"),
        ("Patient", "family:below=x", "family"),
        ("Patient", "birthdate:text=x", "birthdate"),
        ("Observation", "subject:Foo=1", "subject"),
        ("Observation", "subject:Practitioner.name=x", "subject"),
        ("Patient", "gender.name=x", "gender"),
        ("Observation", "subject:Patient.nope=x", "nope"),
        ("Patient", "gender:missing=maybe", "gender"),
        ("Patient", "identifier=a|b|c", "identifier"),
        ("Patient", "gender=|", "gender"),
        ("Patient", "identifier:of-type=sys|MR", "identifier"),
        ("Observation", "code-value-quantity=1234", "code-value-quantity"),
        ("Observation", "code-value-quantity=1234$abc", "code-value-quantity"),
        ("Patient", "_count=-1", "_count"),
        ("Patient", "_count=abc", "_count"),
        ("Patient", "_count=100000", "_count"),
        ("Patient", "_sort=nope", "nope"),
        ("Observation", "_sort=code-value-quantity", "code-value-quantity"),
        ("Patient", "_summary=maybe", "_summary"),
        ("Patient", "_total=all", "_total"),
        ("Patient", "_elements=na me", "_elements"),
        ("Patient", "_include=Patient", "_include"),
        ("Patient", "_include=Patient:gender", "gender"),
        ("Patient", "_include=Foo:subject", "Foo"),
        ("Patient", "_include:deep=Patient:organization", "_include"),
        ("Patient", "_id:exact=1", "_id"),
        ("Patient", "_lastUpdated=2020-99", "_lastUpdated"),
        ("Patient", "_has:Observation:code:status=final", "code"),
        ("Patient", "_has:Observation=x", "_has"),
        ("Patient", "_has:Nope:patient:code=1", "Nope"),
        ("", "_type=Nope", "_type"),
    ],
)
def test_bad_input_is_a_400_naming_the_parameter(
    parser: SearchQueryParser, resource_type: str, query: str, named: str
) -> None:
    rejects(parser, resource_type, query, named)


def test_unknown_resource_type_is_rejected(parser: SearchQueryParser) -> None:
    with pytest.raises(FhirError) as err:
        parser.parse(["Nope"], [])
    assert err.value.status == 400
