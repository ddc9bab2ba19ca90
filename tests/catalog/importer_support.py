"""Helpers shared by the importer tests: gzip part files as the Icecat dump ships them."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any


def write_part(path: Path, records: list[Any] | bytes) -> Path:
    data = records if isinstance(records, bytes) else json.dumps(records).encode()
    with gzip.open(path, "wb") as fh:
        fh.write(data)
    return path
