"""Search latency and streaming rate over real HTTP against a ≥ 1M-resource SQLite store.

Uses the cached database of `generate.py` (built first if missing), starts
`fhir-server serve` on it on a free loopback port, and drives it with one httpx client
(keep-alive, sequential requests, so each figure is one request's latency):

- p50/p95 of the first page of token, date-range, string-prefix, reference, chained and
  `_include` searches, and of `_summary=count` on large results;
- the streaming rate: resources/s while following `next` links with `_count=1000`.

    .venv/bin/python benchmarks/search.py --copies 11 --repeat 50 --record
"""

from __future__ import annotations

import argparse
import socket
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import orjson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from crud import free_port, pct, start_server  # noqa: E402
from generate import ensure  # noqa: E402
from reporting import load_average, report  # noqa: E402


@dataclass(frozen=True)
class Shape:
    label: str
    query: str  # path and query string under the FHIR base


def bring_up_to_date(db: Path) -> None:
    """Open the store once (its DDL builds indexes added since the file was generated)
    and refresh the planner statistics if any index has none yet."""
    from fhir_server.storage.sqlite import SQLiteStore

    SQLiteStore(str(db)).close()
    conn = sqlite3.connect(db)
    missing = conn.execute(
        "SELECT count(*) FROM sqlite_master m WHERE m.type = 'index' AND m.sql IS NOT NULL"
        " AND NOT EXISTS (SELECT 1 FROM sqlite_stat1 s WHERE s.idx = m.name)"
    ).fetchone()[0]
    if missing:
        conn.execute("ANALYZE")
    conn.close()


def pick_shapes(db: Path) -> list[Shape]:
    """Queries whose arguments exist in the generated data (read from the db directly)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    # a patient of the last copy, so that ids and names are not at the start of any index
    patient_id = conn.execute(
        "SELECT id FROM resources WHERE type = 'Patient' AND id LIKE '%-c10'"
        " ORDER BY rid LIMIT 1 OFFSET 40"
    ).fetchone()
    if patient_id is None:
        patient_id = conn.execute(
            "SELECT id FROM resources WHERE type = 'Patient' ORDER BY rid LIMIT 1 OFFSET 40"
        ).fetchone()
    pid = patient_id[0]
    family = conn.execute(
        "SELECT s.exact FROM idx_string s JOIN resources r ON r.rid = s.rid"
        " WHERE r.type = 'Patient' AND r.id = ? AND s.param = 'family'",
        (pid,),
    ).fetchone()[0]
    conn.close()
    return [
        Shape("token", "Observation?code=http://loinc.org|8867-4"),
        Shape("token, code only", "Observation?code=8867-4"),
        Shape("date range (one month)", "Observation?date=ge2020-01-01&date=lt2020-02-01"),
        Shape("string prefix", "Patient?name=Bal"),
        Shape("reference", f"Observation?subject=Patient/{pid}"),
        Shape("chained", f"Observation?subject:Patient.family={quote(family)}"),
        Shape("_include", "MedicationRequest?_include=MedicationRequest:patient"),
        Shape("token + date", "Observation?code=8867-4&date=ge2020-01-01"),
        Shape("_summary=count, token", "Observation?code=8867-4&_summary=count"),
        Shape("_summary=count, whole type", "Observation?_summary=count"),
        Shape("_summary=count, date range", "Observation?date=ge2015-01-01&_summary=count"),
    ]


def measure(client: httpx.Client, base: str, shape: Shape, repeat: int) -> tuple[list[float], str]:
    url = f"{base}/{shape.query}"
    first = client.get(url)
    assert first.status_code == 200, (url, first.status_code, first.text[:300])
    bundle = first.json()
    outcome = (
        f"total {bundle['total']}"
        if "total" in bundle
        else f"{len(bundle.get('entry', []))} entries"
    )
    latencies = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        r = client.get(url)
        latencies.append(time.perf_counter() - t0)
        assert r.status_code == 200
    return latencies, outcome


_MATCH = b',"search":{"mode":"match"}}'


class RawClient:
    """A minimal HTTP/1.1 keep-alive GET client for the streaming figure.

    httpx parses a response in Python (h11) at roughly 15 ms per MB here, more than the
    server needs to produce a 1,000-resource page; with client and server sharing two
    cores that would measure the client. This reads Content-Length bodies and nothing else.
    """

    def __init__(self, base: str) -> None:
        netloc = urlsplit(base).netloc
        host, port = netloc.rsplit(":", 1)
        self.host = netloc
        self.sock = socket.create_connection((host, int(port)))

    def get(self, url: str) -> bytes:
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        self.sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {self.host}\r\n\r\n".encode())
        buffer = b""
        while b"\r\n\r\n" not in buffer:
            buffer += self._recv(1 << 16)
        head, _, body = buffer.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        chunks, received = [body], len(body)
        while received < length:
            chunk = self._recv(1 << 20)
            chunks.append(chunk)
            received += len(chunk)
        assert status == 200, b"".join(chunks)[:300]
        return b"".join(chunks)

    def _recv(self, size: int) -> bytes:
        data = self.sock.recv(size)
        if not data:  # the server closed the connection (e.g. keep-alive timeout)
            raise ConnectionError("the server closed the connection")
        return data

    def close(self) -> None:
        self.sock.close()


def stream(get: Callable[[str], bytes], base: str, query: str, limit: int) -> tuple[int, float]:
    """Resources received following `next` links until `limit` (or the end).

    The client reads the Bundle head (links) and counts match entries without parsing
    the resources: on a shared 2-core machine a full parse would measure the client.
    The first page is also parsed fully to check that the count agrees.
    """
    url: str | None = f"{base}/{query}"
    received = 0
    checked = False
    start = time.perf_counter()
    while url and received < limit:
        body = get(url)
        head = orjson.loads(body[: body.index(b',"entry":[')] + b"}")
        matches = body.count(_MATCH)
        if not checked:
            entries = orjson.loads(body)["entry"]
            assert matches == sum(1 for e in entries if e["search"]["mode"] == "match")
            checked = True
        received += matches
        url = next((x["url"] for x in head.get("link", []) if x["relation"] == "next"), None)
    return received, time.perf_counter() - start


def _ok(response: httpx.Response) -> httpx.Response:
    assert response.status_code == 200, response.text[:300]
    return response


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--copies", type=int, default=11, help="Synthea copies (11 = 1.01M)")
    parser.add_argument("--db", type=Path, help="an existing database instead of generate.py's")
    parser.add_argument("--repeat", type=int, default=50, help="timed requests per shape")
    parser.add_argument("--stream", type=int, default=300_000, help="resources to stream")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()

    db = args.db or ensure(args.copies)
    bring_up_to_date(db)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    resources = conn.execute("SELECT count(*) FROM resources").fetchone()[0]
    conn.close()
    shapes = pick_shapes(db)
    port = free_port()
    base = f"http://127.0.0.1:{port}/fhir"
    lines: list[str] = []
    proc = start_server(db, port, args.workers)
    try:
        with httpx.Client(timeout=120) as client:
            for shape in shapes:
                latencies, outcome = measure(client, base, shape, args.repeat)
                p50, p95 = pct(latencies, 0.5), pct(latencies, 0.95)
                line = f"- {shape.label}: p50 {p50:.1f} ms, p95 {p95:.1f} ms"
                line += f" ({outcome}; `{shape.query}`)"
                print(line, flush=True)
                lines.append(line)
            query = "Observation?_count=1000"
            clients: list[tuple[str, Callable[[str], bytes]]] = [
                ("httpx client", lambda url: _ok(client.get(url)).content)
            ]
            raw = RawClient(base)
            clients.insert(0, ("minimal client", raw.get))
            for name, get in clients:
                received, seconds = stream(get, base, query, args.stream)
                line = (
                    f"- streaming `{query}` by `next` links ({name}):"
                    f" {received / seconds:,.0f} resources/s"
                    f" ({received:,} resources in {seconds:.1f} s)"
                )
                print(line, flush=True)
                lines.append(line)
            raw.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    report(
        "search.py",
        f"{resources:,} resources ({db.name}); {args.workers} server worker(s); one sequential"
        f" client over loopback (HTTP keep-alive); {args.repeat} timed requests per shape after"
        f" one warm-up; first page, default `_count` (20). Load average when done:"
        f" {load_average()} (other processes shared the machine when above ~1).",
        lines,
        args.record,
    )


if __name__ == "__main__":
    main()
