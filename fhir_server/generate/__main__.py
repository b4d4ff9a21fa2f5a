"""Rewrite seed_bundles/ from the tables in this package: `python -m fhir_server.generate`.

The seed files are committed; a test checks they equal what this writes, so edit the
tables (places, stories, clinical...) and rerun this rather than editing the JSON.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fhir_server.generate import documents, network, output

SEED_DIR = Path(__file__).resolve().parents[2] / "seed_bundles"


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else SEED_DIR
    output.write_files(folder, network.seed_files())
    output.write_files(folder / documents.FOLDER, documents.document_files())
    print(f"wrote {folder}")


if __name__ == "__main__":
    main()
