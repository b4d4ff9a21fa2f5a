"""Paging links: next, previous (while the token's trail lasts) and first."""

from __future__ import annotations

from fastapi.testclient import TestClient

from fhir_server.rest.page_trail import TRAIL


def _links(bundle: dict) -> dict[str, str]:
    return {
        link["relation"]: link["url"].replace("http://testserver", "") for link in bundle["link"]
    }


def _ids(bundle: dict) -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", [])]


def test_previous_steps_back_through_the_pages_already_seen(client: TestClient) -> None:
    for i in range(9):
        client.put(f"/fhir/Patient/p{i}", json={"resourceType": "Patient", "id": f"p{i}"})
    pages = [client.get("/fhir/Patient?_count=2&_sort=_id").json()]
    assert "previous" not in _links(pages[0]) and "first" not in _links(pages[0])
    while "next" in _links(pages[-1]):
        pages.append(client.get(_links(pages[-1])["next"]).json())
    assert [i for page in pages for i in _ids(page)] == [f"p{i}" for i in range(9)]

    back = pages[-1]
    for expected in reversed(pages[:-1]):
        back = client.get(_links(back)["previous"]).json()
        assert _ids(back) == _ids(expected)
    assert "previous" not in _links(back)  # back on the first page
    first = client.get(_links(pages[3])["first"]).json()
    assert _ids(first) == _ids(pages[0])


def test_previous_is_offered_only_as_far_as_the_trail_reaches(client: TestClient) -> None:
    for i in range(TRAIL + 4):
        client.put(f"/fhir/Patient/q{i:02d}", json={"resourceType": "Patient", "id": f"q{i:02d}"})
    page = client.get("/fhir/Patient?_count=1&_sort=_id").json()
    for _ in range(TRAIL + 2):
        page = client.get(_links(page)["next"]).json()
    steps = 0
    while "previous" in _links(page):
        page = client.get(_links(page)["previous"]).json()
        steps += 1
    assert steps == TRAIL
    assert "first" in _links(page)


def test_a_forged_cursor_is_400(client: TestClient) -> None:
    assert client.get("/fhir/Patient?_cursor=WzEsMl0").status_code == 400
