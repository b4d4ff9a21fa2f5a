"""No Aadhaar number, token or secret reaches a log line."""

from __future__ import annotations

import logging

import pytest

from fhir_server.security.log_redaction import install, redact

JWT = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJjMSJ9.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("GET /fhir/Patient?identifier=https://uidai.gov.in|234567890123", "234567890123"),
        ("identifier=x|2345 6789 0123 HTTP/1.1", "2345 6789 0123"),
        ("identifier=x|2345%206789%200123", "2345%206789%200123"),
        ("identifier=x|2345-6789-0123 200", "2345-6789-0123"),
        (f"Authorization: Bearer {JWT}", JWT),
        (f"token {JWT} refused", JWT),
        ("client_assertion=abc.def.ghi&grant_type=x", "abc.def.ghi"),
    ],
)
def test_secrets_are_redacted(line: str, secret: str) -> None:
    assert secret not in redact(line)


@pytest.mark.parametrize(
    "line",
    [
        "ABHA 91-1234-5678-9012 looked up",  # the health id itself stays readable
        "took 1234 ms for 5678 rows",
        "recorded 2026-11-25T10:00:00Z",
        "timestamp 17643456789012345",
    ],
)
def test_ordinary_numbers_are_kept(line: str) -> None:
    assert redact(line) == line


def test_installed_factory_redacts_arguments(caplog: pytest.LogCaptureFixture) -> None:
    install()
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/%s" %d',
            "127.0.0.1",
            "GET",
            "/fhir/Patient?id=x|234567890123",
            "1.1",
            200,
        )
    assert "234567890123" not in caplog.text
    assert "127.0.0.1" in caplog.text and "[12-digit number]" in caplog.text
