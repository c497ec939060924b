"""A model field for large JSON that is written once and read rarely: a run's trace events.

An I/O run's trace is hundreds of events (about 120 KB of JSON for a 100 KB write through the emulated path) that
only the trace viewer and the comparison read. In a `jsonb` column it cost the worker about 2 ms to store and every
page that listed runs as much again to decode. Here it is JSON compressed with zlib (level 1: about a tenth of the
size, in a fraction of a millisecond) in a binary column, which the database stores as it is. The JSON is orjson's:
the 400 events of that trace encode and compress in 0.16 ms, against 0.6 ms with the json module, on the path from
a learner's Run to the result.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

import orjson
from django.core import exceptions
from django.db import models


class CompressedJSONField(models.BinaryField):
    """A JSON value stored as zlib-compressed UTF-8 JSON; NULL (None) when there is none. It cannot be queried
    into (no lookups on its content): keep what a query filters on in an ordinary field."""

    description = "JSON, compressed"

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if value is None:
            return None
        if isinstance(value, bytes | bytearray | memoryview):  # already encoded (a value read back and saved again)
            return super().get_db_prep_value(value, connection, prepared)
        return super().get_db_prep_value(zlib.compress(orjson.dumps(value), 1), connection, prepared)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return None if value is None else self._decode(value)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, bytes | bytearray | memoryview):
            return self._decode(value)
        if isinstance(value, str):  # the serialised form (dumpdata / loaddata): plain JSON text
            try:
                return json.loads(value)
            except ValueError as exc:
                raise exceptions.ValidationError(f"not JSON: {exc}", code="invalid") from exc
        return value

    def value_to_string(self, obj: Any) -> str:
        return json.dumps(self.value_from_object(obj), ensure_ascii=False)

    @staticmethod
    def _decode(value: bytes | bytearray | memoryview) -> Any:
        try:
            return orjson.loads(zlib.decompress(bytes(value)))
        except (zlib.error, orjson.JSONDecodeError) as exc:
            raise exceptions.ValidationError(f"not compressed JSON: {exc}", code="invalid") from exc
