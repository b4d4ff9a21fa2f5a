"""What a search returns: `_sort`, `_count` and paging, `_summary`, `_elements`, `_total`."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.search_support import bundle, create, ids_of, next_link, put

PEOPLE = (
    ("p1", "Sharma", "1990-01-01", "female"),
    ("p2", "Agarwal", "1980-05-05", "male"),
    ("p3", "Sharma", "1970-03-03", "male"),
    ("p4", "Zaidi", "1990-01-01", "female"),
    ("p5", "Mehta", None, "female"),
)


def _people(client: TestClient) -> None:
    for pid, family, birth, gender in PEOPLE:
        resource = {
            "resourceType": "Patient",
            "id": pid,
            "name": [{"family": family}],
            "gender": gender,
            "text": {
                "status": "generated",
                "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{family}</div>',
            },
        }
        if birth:
            resource["birthDate"] = birth
        put(client, resource)


def _all_pages(client: TestClient, url: str) -> list[str]:
    ids: list[str] = []
    next_url: str | None = url
    while next_url:
        body = bundle(client, next_url)
        ids += ids_of(body)
        next_url = next_link(body)
    return ids


def test_sort_ascending_and_descending(client: TestClient) -> None:
    _people(client)
    assert ids_of(bundle(client, "/fhir/Patient?_sort=family,_id")) == [
        "p2",
        "p5",
        "p1",
        "p3",
        "p4",
    ]
    assert ids_of(bundle(client, "/fhir/Patient?_sort=-family,_id")) == [
        "p4",
        "p1",
        "p3",
        "p5",
        "p2",
    ]


def test_sort_multi_key_with_descending_second_key(client: TestClient) -> None:
    _people(client)
    ids = ids_of(bundle(client, "/fhir/Patient?_sort=family,-birthdate"))
    assert ids == ["p2", "p5", "p1", "p3", "p4"]
    ids = ids_of(bundle(client, "/fhir/Patient?_sort=-birthdate,-_id"))
    # resources without a birthDate come last in both directions
    assert ids == ["p4", "p1", "p2", "p3", "p5"]


def test_sort_by_id_and_last_updated(client: TestClient) -> None:
    _people(client)
    assert ids_of(bundle(client, "/fhir/Patient?_sort=-_id")) == ["p5", "p4", "p3", "p2", "p1"]
    assert ids_of(bundle(client, "/fhir/Patient?_sort=_lastUpdated")) == [
        "p1",
        "p2",
        "p3",
        "p4",
        "p5",
    ]


def test_count_pages_have_no_duplicates_or_gaps(client: TestClient) -> None:
    _people(client)
    for sort in ("", "&_sort=family", "&_sort=-birthdate,_id", "&_sort=-_lastUpdated"):
        ids = _all_pages(client, f"/fhir/Patient?_count=2{sort}")
        assert sorted(ids) == ["p1", "p2", "p3", "p4", "p5"], sort
        assert len(ids) == 5


def test_paging_is_stable_when_resources_are_written_between_pages(client: TestClient) -> None:
    _people(client)
    body = bundle(client, "/fhir/Patient?_count=2&_sort=family")
    seen = ids_of(body)
    # a new resource that sorts before the cursor, one after it, and an update
    put(client, {"resourceType": "Patient", "id": "p0", "name": [{"family": "Aaron"}]})
    put(client, {"resourceType": "Patient", "id": "p9", "name": [{"family": "Zz"}]})
    put(
        client,
        {"resourceType": "Patient", "id": "p3", "name": [{"family": "Sharma"}], "gender": "other"},
    )
    next_url = next_link(body)
    while next_url:
        body = bundle(client, next_url)
        seen += ids_of(body)
        next_url = next_link(body)
    assert len(seen) == len(set(seen)), seen
    assert set(seen) >= {"p1", "p2", "p3", "p4", "p5"}
    assert "p0" not in seen and "p9" in seen


def test_count_zero_returns_only_the_total(client: TestClient) -> None:
    _people(client)
    body = bundle(client, "/fhir/Patient?_count=0")
    assert body["total"] == 5 and body.get("entry", []) == []


def test_summary_count(client: TestClient) -> None:
    _people(client)
    body = bundle(client, "/fhir/Patient?gender=female&_summary=count")
    assert body["total"] == 3
    assert body.get("entry", []) == []


def test_summary_true_keeps_summary_elements(client: TestClient) -> None:
    _people(client)
    patient = bundle(client, "/fhir/Patient?_id=p1&_summary=true")["entry"][0]["resource"]
    assert patient["name"] == [{"family": "Sharma"}] and "text" not in patient
    assert "SUBSETTED" in str(patient["meta"])


def test_summary_text_data_and_false(client: TestClient) -> None:
    _people(client)
    text = bundle(client, "/fhir/Patient?_id=p1&_summary=text")["entry"][0]["resource"]
    assert "text" in text and "gender" not in text
    data = bundle(client, "/fhir/Patient?_id=p1&_summary=data")["entry"][0]["resource"]
    assert "text" not in data and data["gender"] == "female"
    full = bundle(client, "/fhir/Patient?_id=p1&_summary=false")["entry"][0]["resource"]
    assert "text" in full and full["gender"] == "female"


def test_elements_keeps_only_the_named_elements(client: TestClient) -> None:
    _people(client)
    patient = bundle(client, "/fhir/Patient?_id=p1&_elements=gender")["entry"][0]["resource"]
    assert patient["gender"] == "female"
    assert "name" not in patient and "birthDate" not in patient
    assert patient["id"] == "p1" and patient["resourceType"] == "Patient"


def test_total_accurate_estimate_and_none(client: TestClient) -> None:
    _people(client)
    assert bundle(client, "/fhir/Patient?_count=2&_total=accurate")["total"] == 5
    estimate = bundle(client, "/fhir/Patient?_count=2&_total=estimate").get("total")
    assert estimate is None or estimate >= 2
    assert "total" not in bundle(client, "/fhir/Patient?_count=2&_total=none")


def test_total_is_free_when_everything_fits_on_one_page(client: TestClient) -> None:
    _people(client)
    assert bundle(client, "/fhir/Patient?gender=male&_total=estimate")["total"] == 2


def test_default_order_is_stable_without_sort(client: TestClient) -> None:
    for _ in range(3):
        create(client, {"resourceType": "Patient"})
    first = ids_of(bundle(client, "/fhir/Patient"))
    assert ids_of(bundle(client, "/fhir/Patient")) == first
