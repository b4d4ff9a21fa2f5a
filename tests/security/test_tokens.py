"""Issued access tokens verify; a verified token is remembered only until it expires."""

from __future__ import annotations

from pathlib import Path

import pytest

from fhir_server.security.keys import load_or_create
from fhir_server.security.tokens import InvalidToken, TokenService


@pytest.fixture
def service(tmp_path: Path) -> TokenService:
    return TokenService(load_or_create(tmp_path / "key.pem"))


def test_verified_tokens_are_remembered_until_they_expire(
    service: TokenService, monkeypatch: pytest.MonkeyPatch
) -> None:
    token, _ = service.issue("iss", "aud", "c1", "system/*.rs", "HFR-1", False)
    decoded: list[str] = []
    original = service._decode

    def counting(*args: object, **kwargs: object) -> dict:
        decoded.append("x")
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(service, "_decode", counting)
    first = service.verify(token, "iss", "aud")
    again = service.verify(token, "iss", "aud")
    assert first == again and first.facility == "HFR-1"
    assert len(decoded) == 1  # the signature was checked once
    key = (token, "iss", "aud")
    service._verified[key] = (first, 0.0)  # as if it had expired
    service.verify(token, "iss", "aud")
    assert len(decoded) == 2  # checked again once its time was up
    with pytest.raises(InvalidToken):
        service.verify(token, "iss", "another-audience")  # cached per audience too


def test_the_cache_is_bounded(service: TokenService, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("fhir_server.security.tokens.VERIFIED_CACHE_SIZE", 3)
    for n in range(5):
        token, _ = service.issue("iss", "aud", f"c{n}", "system/*.rs", None, False)
        service.verify(token, "iss", "aud")
    assert len(service._verified) == 3
