"""Keep secrets and Aadhaar numbers out of every log line the process writes.

Installed as the log-record factory, so it covers uvicorn's access log (which prints
query strings: `identifier=...|1234 5678 9012`), our own loggers and libraries alike.
String arguments are redacted one by one, keeping the formatters that read
`record.args` (uvicorn's access formatter does) working.
"""

from __future__ import annotations

import logging
import re
from typing import Any

# a standalone 12-digit number, optionally grouped 4-4-4 (not part of a longer number,
# so a 14-digit ABHA number or a timestamp stays readable)
_AADHAAR = re.compile(r"(?<![\d-])\d{4}(?:[ -]|%20)?\d{4}(?:[ -]|%20)?\d{4}(?![\d-])")
# JWTs (access tokens, client assertions) and bearer credentials
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(?i)(bearer\s+)\S+")
_SECRET_FIELDS = re.compile(
    r"(?i)((?:client_assertion|access_token|aadhaar_hash_key|password)=)[^&\s]+"
)

_installed = False


def redact(text: str) -> str:
    text = _JWT.sub("[token]", text)
    text = _BEARER.sub(r"\1[token]", text)
    text = _SECRET_FIELDS.sub(r"\1[redacted]", text)
    return _AADHAAR.sub("[12-digit number]", text)


def _redacted(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


def install() -> None:
    global _installed
    if _installed:
        return
    make = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        record.msg = _redacted(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _redacted(v) for k, v in record.args.items()}
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
