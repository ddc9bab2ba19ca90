"""Where the shared, read-only data lives: ``../shared`` beside the repository (as in CI)."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ICECAT = SHARED / "icecat"
JUDGMENTS = SHARED / "judgments_dev.csv"
needs_icecat = pytest.mark.skipif(
    not ICECAT.exists(), reason=f"needs the shared Icecat data at {ICECAT} (../shared/data)"
)
