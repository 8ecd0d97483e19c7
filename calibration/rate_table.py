"""Moved to :mod:`semcom.rate_table` (data both sides read); kept as an import path."""

from semcom.rate_table import (  # noqa: F401
    FORMAT,
    TABLE_DIR,
    VERSION,
    RateTable,
    RateTableError,
    table_path,
)
