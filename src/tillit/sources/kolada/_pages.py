"""Fast validation of Kolada data pages: pyarrow parses the JSON in C against an explicit
schema and the checks run vectorised. Anything unusual (a type that does not fit, a failed
check, a deleted row) goes to the exact validator in ``_schema``, which either accepts the page
(e.g. a municipality code sent as a number) or raises KoladaPayloadError naming the field.
"""

from __future__ import annotations

import io
from functools import cache

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson

from tillit.sources.kolada._schema import ValueBatch, parse_envelope, parse_values

__all__ = ["VALUE_COLUMNS", "UnreadableBodyError", "parse_data_page"]

VALUE_COLUMNS = ("kpi", "unit", "period", "gender", "value", "count", "status", "deleted")


class UnreadableBodyError(Exception):
    """The body is not JSON at all: likely cut in transit, so worth fetching again."""


@cache
def _schema(unit_key: str) -> pa.Schema:
    value = pa.struct(
        [
            ("gender", pa.string()),
            ("count", pa.int64()),
            ("status", pa.string()),
            ("value", pa.float64()),
            ("isdeleted", pa.bool_()),
        ]
    )
    row = pa.struct(
        [
            ("kpi", pa.string()),
            (unit_key, pa.string()),
            ("period", pa.int64()),
            ("isdeleted", pa.bool_()),
            ("values", pa.list_(value)),
        ]
    )
    return pa.schema([("count", pa.int64()), ("next_url", pa.string()), ("values", pa.list_(row))])


def _batch_table(batch: ValueBatch) -> pa.Table:
    return pa.table(
        {
            "kpi": pa.array(batch.kpi, pa.string()),
            "unit": pa.array(batch.unit, pa.string()),
            "period": pa.array(batch.period, pa.int16()),
            "gender": pa.array(batch.gender, pa.string()),
            "value": pa.array(batch.value, pa.float64()),
            "count": pa.array(batch.count, pa.int64()),
            "status": pa.array(batch.status, pa.string()),
            "deleted": pa.array(batch.deleted, pa.bool_()),
        }
    )


def _exact(body: bytes, url: str, unit_key: str) -> tuple[pa.Table, str | None]:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise UnreadableBodyError(url) from None
    values, next_url = parse_envelope(payload, url)
    return _batch_table(parse_values(values, url, unit_key=unit_key)), next_url


def _fast(body: bytes, unit_key: str) -> tuple[pa.Table, str | None] | None:
    """The page as a table, or None when anything needs the exact validator."""
    if b'isdeleted":true' in body or b'isdeleted": true' in body:
        return None
    try:
        parsed = pajson.read_json(
            io.BytesIO(body),
            read_options=pajson.ReadOptions(use_threads=False, block_size=len(body) + 16),
            parse_options=pajson.ParseOptions(
                explicit_schema=_schema(unit_key), unexpected_field_behavior="ignore"
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if parsed.num_rows != 1 or parsed.column("values").null_count:
        return None
    rows_list = parsed.column("values").chunk(0)
    rows = pc.list_flatten(rows_list)
    count = parsed.column("count")[0].as_py()
    if count is not None and count != len(rows):
        return None
    kpi, unit, period = rows.field("kpi"), rows.field(unit_key), rows.field("period")
    values_list = rows.field("values")
    unit_ok = (
        pc.match_substring_regex(unit, r"^\d{4}$")
        if unit_key == "municipality"
        else pc.greater(pc.utf8_length(unit), 0)
    )
    row_ok = pc.and_kleene(
        pc.and_kleene(pc.greater(pc.utf8_length(kpi), 0), unit_ok),
        pc.and_kleene(
            pc.and_kleene(pc.greater_equal(period, 1900), pc.less_equal(period, 2200)),
            pc.is_valid(values_list),
        ),
    )
    if not pc.all(pc.fill_null(row_ok, False)).as_py() or rows.null_count:
        return None
    parent = pc.list_parent_indices(values_list)
    values = pc.list_flatten(values_list)
    gender, number = values.field("gender"), values.field("value")
    value_ok = pc.and_kleene(
        pc.is_in(gender, value_set=pa.array(["T", "K", "M"])),
        pc.or_kleene(pc.is_null(number), pc.is_finite(number)),
    )
    if values.null_count or not pc.all(pc.fill_null(value_ok, False)).as_py():
        return None
    status = values.field("status")
    table = pa.table(
        {
            "kpi": pc.take(kpi, parent),
            "unit": pc.take(unit, parent),
            "period": pc.take(period, parent).cast(pa.int16()),
            "gender": gender,
            "value": number,
            # int64 as sent: a count out of the store's int32 range rejects its row at the
            # sync's validation instead of failing the page here.
            "count": values.field("count"),
            "status": pc.if_else(pc.equal(status, ""), pa.scalar(None, pa.string()), status),
            "deleted": pc.fill_null(values.field("isdeleted"), False),
        }
    )
    next_url = parsed.column("next_url")[0].as_py()
    return table, (next_url or None)


def parse_data_page(
    body: bytes, url: str, *, unit_key: str = "municipality"
) -> tuple[pa.Table, str | None]:
    """Validate one data page; return its values (columns VALUE_COLUMNS) and ``next_url``
    exactly as given (relative or absolute; None on the last page)."""
    return _fast(body, unit_key) or _exact(body, url, unit_key)
