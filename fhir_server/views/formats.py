"""Rows out as CSV, NDJSON, a JSON array or Parquet, streamed in chunks.

Each writer takes the column list and an iterator of rows and yields bytes as it goes,
so memory stays bounded by one chunk (text formats) or one row group (Parquet) however
many rows the view produces.

Value rendering: CSV (RFC 4180: comma, CRLF, quotes doubled, header line) writes null as
an empty field, booleans as true/false and collections/objects as JSON; NDJSON and JSON
keep JSON types. Parquet types come from each column's declared `type` (boolean,
integer, decimal, ...); an undeclared type is a string column (non-string values as
JSON text), and a collection column is a list of that type.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import orjson

from fhir_server.errors import FhirError
from fhir_server.views.runner import Column, Row

CSV = "text/csv"
NDJSON = "application/x-ndjson"
JSON = "application/json"
PARQUET = "application/vnd.apache.parquet"
# _format values (short names and media types) -> the format
FORMATS: dict[str, str] = {
    "csv": CSV,
    "text/csv": CSV,
    "ndjson": NDJSON,
    "application/x-ndjson": NDJSON,
    "application/ndjson": NDJSON,
    "application/fhir+ndjson": NDJSON,
    "json": JSON,
    "application/json": JSON,
    "application/fhir+json": JSON,
    "parquet": PARQUET,
    "application/parquet": PARQUET,
    PARQUET: PARQUET,
}
CHUNK_ROWS = 1000  # text formats: rows per yielded chunk
ROW_GROUP_ROWS = 50_000  # Parquet: rows per row group (the unit held in memory)


def media_type(fmt: str) -> str:
    """The media type for a `_format` value; 400 naming the value when unknown."""
    # an unencoded '+' in a query string arrives as a space
    key = fmt.split(";")[0].strip().lower().replace(" ", "+")
    try:
        return FORMATS[key]
    except KeyError:
        raise FhirError(
            400,
            "not-supported",
            f"_format {fmt!r} is not supported for $run: use csv, ndjson, json or parquet",
            ["_format"],
        ) from None


def writer(media: str) -> Callable[[list[Column], Iterable[Row]], Iterator[bytes]]:
    return {CSV: csv_chunks, NDJSON: ndjson_chunks, JSON: json_chunks, PARQUET: parquet_chunks}[
        media
    ]


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) in (dict, list):
        return orjson.dumps(value).decode()
    return value


def csv_chunks(columns: list[Column], rows: Iterable[Row]) -> Iterator[bytes]:
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\r\n")
    out.writerow([c.name for c in columns])
    for count, row in enumerate(rows, start=1):
        out.writerow([_csv_value(v) for v in row])
        if count % CHUNK_ROWS == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def _objects(columns: list[Column], rows: Iterable[Row]) -> Iterator[bytes]:
    names = [c.name for c in columns]
    for row in rows:
        yield orjson.dumps(dict(zip(names, row, strict=True)))


def ndjson_chunks(columns: list[Column], rows: Iterable[Row]) -> Iterator[bytes]:
    chunk: list[bytes] = []
    for line in _objects(columns, rows):
        chunk.append(line)
        if len(chunk) == CHUNK_ROWS:
            yield b"\n".join(chunk) + b"\n"
            chunk = []
    if chunk:
        yield b"\n".join(chunk) + b"\n"


def json_chunks(columns: list[Column], rows: Iterable[Row]) -> Iterator[bytes]:
    chunk: list[bytes] = []
    first = True
    yield b"["
    for obj in _objects(columns, rows):
        chunk.append(obj)
        if len(chunk) == CHUNK_ROWS:
            yield (b"" if first else b",") + b",".join(chunk)
            first, chunk = False, []
    if chunk:
        yield (b"" if first else b",") + b",".join(chunk)
    yield b"]"


# -- Parquet -----------------------------------------------------------------------------
_INTEGERS = frozenset({"integer", "positiveInt", "unsignedInt", "integer64"})


def _arrow_type(column: Column) -> Any:
    import pyarrow as pa

    declared = column.type or ""
    if declared == "boolean":
        base = pa.bool_()
    elif declared in _INTEGERS:
        base = pa.int64()
    elif declared == "decimal":
        base = pa.float64()
    else:
        base = pa.string()
    return pa.list_(base) if column.collection else base


def _as_text(value: Any) -> Any:
    if value is None or type(value) is str:
        return value
    return orjson.dumps(value).decode()


def _converter(column: Column) -> Callable[[Any], Any]:
    declared = column.type or ""
    if declared in ("boolean", "decimal") or declared in _INTEGERS:
        convert: Callable[[Any], Any] = lambda v: v  # noqa: E731  (arrow checks the type)
    else:
        convert = _as_text
    if column.collection:
        return lambda values: None if values is None else [convert(v) for v in values]
    return convert


class _Sink(io.RawIOBase):
    """A write-only file that hands over what pyarrow wrote so far."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.parts.append(chunk)
        self.position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self.position

    def drain(self) -> bytes:
        out = b"".join(self.parts)
        self.parts = []
        return out


def parquet_chunks(columns: list[Column], rows: Iterable[Row]) -> Iterator[bytes]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([pa.field(c.name, _arrow_type(c)) for c in columns])
    converters = [_converter(c) for c in columns]
    sink = _Sink()
    with pq.ParquetWriter(sink, schema) as out:
        batch: list[Row] = []
        for row in rows:
            batch.append(row)
            if len(batch) == ROW_GROUP_ROWS:
                out.write_table(_table(schema, converters, batch))
                batch = []
                yield sink.drain()
        if batch:  # no rows at all still makes a valid file: the schema, no row group
            out.write_table(_table(schema, converters, batch))
    yield sink.drain()


def _table(schema: Any, converters: list[Callable[[Any], Any]], batch: list[Row]) -> Any:
    import pyarrow as pa

    arrays = []
    for i, (field, convert) in enumerate(zip(schema, converters, strict=True)):
        values = [convert(row[i]) for row in batch]
        try:
            arrays.append(pa.array(values, type=field.type))
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
            raise FhirError(
                422,
                "processing",
                f"column {field.name!r} declared {field.type} holds a value of another type: {exc}",
            ) from None
    return pa.Table.from_arrays(arrays, schema=schema)
