"""The $run writers: RFC 4180 CSV, NDJSON, a JSON array and Parquet, in bounded chunks."""

from __future__ import annotations

import csv
import io

import orjson
import pyarrow.parquet as pq
import pytest

from fhir_server.errors import FhirError
from fhir_server.views import formats
from fhir_server.views.runner import Column

COLUMNS = [
    Column("id", "id", "id", False),
    Column("n", "n", "integer", False),
    Column("tags", "tags", "string", True),
    Column("any", "any", None, False),
]


def rows(count: int) -> list[tuple]:
    return [
        (f"r{i}", i, ["a", "b,c"] if i % 2 else [], {"k": i} if i % 3 else None)
        for i in range(count)
    ]


def test_csv_round_trips_through_a_csv_reader_in_several_chunks() -> None:
    chunks = list(formats.csv_chunks(COLUMNS, rows(2500)))
    assert len(chunks) == 3  # 1000 + 1000 + 500 rows: memory holds one chunk
    text = b"".join(chunks).decode()
    assert text.startswith("id,n,tags,any\r\n")
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[2] == ["r1", "1", '["a","b,c"]', '{"k":1}']
    assert parsed[1] == ["r0", "0", "[]", ""]
    assert len(parsed) == 2501


def test_ndjson_is_one_object_per_line_and_json_one_array() -> None:
    ndjson = b"".join(formats.ndjson_chunks(COLUMNS, rows(1500)))
    lines = ndjson.splitlines()
    assert len(lines) == 1500
    assert orjson.loads(lines[1]) == {"id": "r1", "n": 1, "tags": ["a", "b,c"], "any": {"k": 1}}
    array = orjson.loads(b"".join(formats.json_chunks(COLUMNS, rows(1500))))
    assert array == [orjson.loads(line) for line in lines]
    assert b"".join(formats.json_chunks(COLUMNS, [])) == b"[]"


def test_parquet_has_declared_types_and_row_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(formats, "ROW_GROUP_ROWS", 400)
    data = b"".join(formats.parquet_chunks(COLUMNS, rows(1000)))
    parquet = pq.ParquetFile(io.BytesIO(data))
    assert parquet.metadata.num_row_groups == 3
    table = parquet.read()
    assert [str(t) for t in table.schema.types] == [
        "string",
        "int64",
        "list<element: string>",
        "string",
    ]
    assert table.to_pylist()[1] == {"id": "r1", "n": 1, "tags": ["a", "b,c"], "any": '{"k":1}'}


def test_parquet_with_no_rows_is_a_valid_empty_file() -> None:
    table = pq.read_table(io.BytesIO(b"".join(formats.parquet_chunks(COLUMNS, []))))
    assert table.num_rows == 0 and table.column_names == ["id", "n", "tags", "any"]


def test_parquet_value_of_the_wrong_declared_type_is_422() -> None:
    with pytest.raises(FhirError) as caught:
        b"".join(formats.parquet_chunks(COLUMNS[:2], [("a", "not a number")]))
    assert caught.value.status == 422 and "'n'" in caught.value.diagnostics


@pytest.mark.parametrize(
    ("value", "media"),
    [
        ("csv", formats.CSV),
        ("text/csv", formats.CSV),
        ("NDJSON", formats.NDJSON),
        ("application/fhir ndjson", formats.NDJSON),
        ("parquet", formats.PARQUET),
        ("json", formats.JSON),
    ],
)
def test_format_names_and_media_types(value: str, media: str) -> None:
    assert formats.media_type(value) == media


def test_unknown_format_is_400() -> None:
    with pytest.raises(FhirError) as caught:
        formats.media_type("xlsx")
    assert caught.value.status == 400 and "xlsx" in caught.value.diagnostics
