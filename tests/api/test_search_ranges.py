"""Date, number, quantity and composite parameters over HTTP, on every adapter."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.api.search_support import LOINC, UCUM, create, found, put


def _births(client: TestClient) -> dict[str, str]:
    return {
        d: create(client, {"resourceType": "Patient", "birthDate": d})
        for d in ("1984-12-31", "1985-01-01", "1985-04-12", "1985-12-31", "1986-01-01")
    }


def test_date_year_prefix_matches_whole_year(client: TestClient) -> None:
    b = _births(client)
    in_1985 = {b["1985-01-01"], b["1985-04-12"], b["1985-12-31"]}
    assert found(client, "/fhir/Patient?birthdate=1985") == in_1985
    assert found(client, "/fhir/Patient?birthdate=eq1985") == in_1985
    assert found(client, "/fhir/Patient?birthdate=1985-04") == {b["1985-04-12"]}


def test_date_prefixes(client: TestClient) -> None:
    b = _births(client)
    assert found(client, "/fhir/Patient?birthdate=gt1985") == {b["1986-01-01"]}
    assert found(client, "/fhir/Patient?birthdate=lt1985") == {b["1984-12-31"]}
    assert found(client, "/fhir/Patient?birthdate=ge1985-12-31") == {
        b["1985-12-31"],
        b["1986-01-01"],
    }
    assert found(client, "/fhir/Patient?birthdate=le1985-01-01") == {
        b["1984-12-31"],
        b["1985-01-01"],
    }
    assert found(client, "/fhir/Patient?birthdate=ne1985") == {b["1984-12-31"], b["1986-01-01"]}
    assert found(client, "/fhir/Patient?birthdate=sa1985") == {b["1986-01-01"]}
    assert found(client, "/fhir/Patient?birthdate=eb1985") == {b["1984-12-31"]}


def test_date_range_by_repeated_parameter(client: TestClient) -> None:
    b = _births(client)
    url = "/fhir/Patient?birthdate=ge1985-02-01&birthdate=lt1986"
    assert found(client, url) == {b["1985-04-12"], b["1985-12-31"]}


def test_date_period_and_instant(client: TestClient) -> None:
    morning = create(
        client,
        {
            "resourceType": "Encounter",
            "status": "finished",
            "class": {"code": "AMB"},
            "period": {"start": "2026-11-02T09:30:00+05:30", "end": "2026-11-02T09:50:00+05:30"},
        },
    )
    assert found(client, "/fhir/Encounter?date=2026-11-02") == {morning}
    assert found(client, "/fhir/Encounter?date=ge2026-11-02T04:00:00Z") == {morning}
    # gt: some of the period lies after the value (09:40 IST is inside the visit)
    assert found(client, "/fhir/Encounter?date=gt2026-11-02T04:10:00Z") == {morning}
    assert found(client, "/fhir/Encounter?date=gt2026-11-02T04:30:00Z") == set()
    assert found(client, "/fhir/Encounter?date=lt2026-11-02T04:00:00Z") == set()


def test_date_without_zone_uses_the_configured_default_timezone(
    client_with: Callable[..., TestClient],
) -> None:
    # 2026-11-02T00:30 in Delhi is still 2026-11-01 in UTC
    for zone, expected in (("UTC", False), ("Asia/Kolkata", True)):
        client = client_with(default_timezone=zone)
        late = create(
            client,
            {
                "resourceType": "Observation",
                "status": "final",
                "code": {"text": "x"},
                "effectiveDateTime": "2026-11-01T19:00:00Z",
            },
        )
        assert (late in found(client, "/fhir/Observation?date=2026-11-02")) is expected, zone
        assert (late in found(client, "/fhir/Observation?date=2026-11-01")) is not expected, zone


def _risk(client: TestClient, probability: float) -> str:
    put(client, {"resourceType": "Patient", "id": "p1"})  # references must resolve
    return create(
        client,
        {
            "resourceType": "RiskAssessment",
            "status": "final",
            "subject": {"reference": "Patient/p1"},
            "prediction": [{"probabilityDecimal": probability}],
        },
    )


def test_number_implicit_precision_and_prefixes(client: TestClient) -> None:
    low, mid, high = _risk(client, 0.1), _risk(client, 0.25), _risk(client, 0.8)
    assert found(client, "/fhir/RiskAssessment?probability=0.25") == {mid}
    assert found(client, "/fhir/RiskAssessment?probability=0.4") == set()
    # 0.3 means [0.25, 0.35): the implicit precision includes 0.25
    assert found(client, "/fhir/RiskAssessment?probability=0.3") == {mid}
    assert found(client, "/fhir/RiskAssessment?probability=gt0.25") == {high}
    assert found(client, "/fhir/RiskAssessment?probability=ge0.25") == {mid, high}
    assert found(client, "/fhir/RiskAssessment?probability=lt0.25") == {low}
    assert found(client, "/fhir/RiskAssessment?probability=ne0.25") == {low, high}
    assert found(client, "/fhir/RiskAssessment?probability=0.1,0.8") == {low, high}


def _glucose(client: TestClient, value: float, unit: str, code: str | None = None) -> str:
    quantity = {"value": value, "unit": unit}
    if code is not None:
        quantity.update(system=UCUM, code=code)
    return create(
        client,
        {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": LOINC, "code": "2345-7"}]},
            "valueQuantity": quantity,
            "component": [
                {
                    "code": {"coding": [{"system": LOINC, "code": "8480-6"}]},
                    "valueQuantity": {"value": value * 20, "system": UCUM, "code": "mm[Hg]"},
                }
            ],
        },
    )


def test_quantity_value_system_and_code(client: TestClient) -> None:
    mg = _glucose(client, 5.4, "mg", "mg")
    g = _glucose(client, 5.4, "g", "g")
    bare = _glucose(client, 5.4, "mg")
    assert found(client, f"/fhir/Observation?value-quantity=5.4|{UCUM}|mg") == {mg}
    assert found(client, "/fhir/Observation?value-quantity=5.4||mg") == {mg, bare}
    assert found(client, "/fhir/Observation?value-quantity=5.4") == {mg, g, bare}
    assert found(client, f"/fhir/Observation?value-quantity=5.4|{UCUM}|g") == {g}


def test_quantity_prefixes(client: TestClient) -> None:
    five = _glucose(client, 5.4, "mg", "mg")
    seven = _glucose(client, 7.2, "mg", "mg")
    assert found(client, f"/fhir/Observation?value-quantity=gt6|{UCUM}|mg") == {seven}
    assert found(client, "/fhir/Observation?value-quantity=le5.4") == {five}
    assert found(client, "/fhir/Observation?value-quantity=ap7") == {seven}


def test_composite_code_value_quantity(client: TestClient) -> None:
    five = _glucose(client, 5.4, "mg", "mg")
    seven = _glucose(client, 7.2, "mg", "mg")
    base = "/fhir/Observation?code-value-quantity="
    assert found(client, f"{base}{LOINC}|2345-7$gt6") == {seven}
    assert found(client, f"{base}2345-7$5.4|{UCUM}|mg") == {five}
    assert found(client, f"{base}{LOINC}|9999-9$gt6") == set()


def test_composite_component_code_value_quantity(client: TestClient) -> None:
    five = _glucose(client, 5.4, "mg", "mg")  # component 108 mm[Hg]
    seven = _glucose(client, 7.2, "mg", "mg")  # component 144 mm[Hg]
    base = "/fhir/Observation?component-code-value-quantity="
    assert found(client, f"{base}{LOINC}|8480-6$gt120") == {seven}
    assert found(client, f"{base}8480-6$lt120|{UCUM}|mm[Hg]") == {five}
    # the component code and value must come from the same component
    assert found(client, f"{base}{LOINC}|2345-7$gt120") == set()


def test_missing_true_and_false(client: TestClient) -> None:
    b = _births(client)
    unborn = create(client, {"resourceType": "Patient"})
    assert found(client, "/fhir/Patient?birthdate:missing=true") == {unborn}
    assert found(client, "/fhir/Patient?birthdate:missing=false") == set(b.values())
    assert unborn in found(client, "/fhir/Patient?gender:missing=true")
