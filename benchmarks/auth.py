"""What authentication and the audit trail cost: creates and reads with auth off and on.

Starts `fhir-server serve` twice on fresh SQLite files: once with auth off, once with
`FHIR_AUTH=smart` (bearer token checked on every request, scopes, facility stamp, and an
AuditEvent committed before each response). The same client threads create Patients and
read them back; the difference per request is the price of security.

    .venv/bin/python benchmarks/auth.py --creates 2000 --reads 5000 --clients 4 --record
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx
import jwt
from crud import free_port, patient, pct, run_parallel, start_server
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm
from reporting import load_average, report

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from fhir_server.security.clients import ClientRegistry  # noqa: E402


def _token(root: str, clients_file: Path) -> str:
    key = ec.generate_private_key(ec.SECP384R1())
    jwk = {**json.loads(ECAlgorithm.to_jwk(key.public_key())), "kid": "bench", "alg": "ES384"}
    client = ClientRegistry(clients_file).add(
        "benchmark", {"keys": [jwk]}, ["system/*.cruds"], facility="HFR-BENCH"
    )
    now = int(time.time())
    assertion = jwt.encode(
        {
            "iss": client.client_id,
            "sub": client.client_id,
            "aud": f"{root}/auth/token",
            "exp": now + 240,
            "jti": str(now),
        },
        key,
        algorithm="ES384",
        headers={"kid": "bench"},
    )
    response = httpx.post(
        f"{root}/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        },
    )
    response.raise_for_status()
    return response.json()["access_token"]


def measure(auth: bool, args: argparse.Namespace) -> dict[str, float]:
    port = free_port()
    root = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        saved = dict(os.environ)
        os.environ["FHIR_AUTH"] = "smart" if auth else "off"
        os.environ["FHIR_AUTH_KEY_FILE"] = f"{tmp}/key.pem"
        os.environ["FHIR_AUTH_CLIENTS_FILE"] = f"{tmp}/clients.json"
        os.environ["FHIR_RATE_LIMIT_PER_MINUTE"] = "0"
        try:
            proc = start_server(Path(tmp) / "bench.db", port, args.workers)
        finally:
            os.environ.clear()
            os.environ.update(saved)
        try:
            headers = {"Prefer": "return=minimal"}
            if auth:
                headers["Authorization"] = f"Bearer {_token(root, Path(tmp) / 'clients.json')}"
            ids = [""] * args.creates

            def create(client: httpx.Client, i: int) -> None:
                r = client.post(f"{root}/fhir/Patient", json=patient(i), headers=headers)
                assert r.status_code == 201, r.text
                ids[i] = r.headers["Location"].split("/")[-3]

            create_s, create_lat = run_parallel(args.creates, args.clients, create)

            def read(client: httpx.Client, i: int) -> None:
                r = client.get(f"{root}/fhir/Patient/{ids[i % len(ids)]}", headers=headers)
                assert r.status_code == 200

            read_s, read_lat = run_parallel(args.reads, args.clients, read)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return {
        "creates": args.creates / create_s,
        "create_p50": pct(create_lat, 0.5),
        "reads": args.reads / read_s,
        "read_p50": pct(read_lat, 0.5),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--creates", type=int, default=2000)
    parser.add_argument("--reads", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    off = measure(False, args)
    on = measure(True, args)
    lines = []
    for what, unit in (("creates", "create_p50"), ("reads", "read_p50")):
        lines.append(
            f"- {what}: auth off {off[what]:,.0f}/s (p50 {off[unit]:.2f} ms); auth on + audit"
            f" {on[what]:,.0f}/s (p50 {on[unit]:.2f} ms); +{on[unit] - off[unit]:.2f} ms p50"
            " per request"
        )
    report(
        "auth.py",
        f"SQLite (WAL, synchronous=FULL); {args.workers} server workers; {args.clients} client"
        " threads; auth on = bearer JWT (ES256) checked per request, scopes, facility stamp,"
        " and an AuditEvent committed (group commit) before each response. Load average when"
        f" done: {load_average()}.",
        lines,
        args.record,
    )


if __name__ == "__main__":
    main()
