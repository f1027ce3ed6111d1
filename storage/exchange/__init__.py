"""Billing exchange format v1: import a folder of CSV files, export what consumers submitted.

Import is all-or-nothing: every file is read and checked first (files.py, by the format in columns.py),
every bad row is reported with its file, line and reason, and only a clean folder is written (importing.py),
as upserts by natural key in one transaction. export.py writes what consumers submitted.
"""
from core.readings import CHAT_SOURCES, SOURCES
from storage.exchange.columns import FILES, BadValue, ImportRefused, RowProblem, houses
from storage.exchange.export import EXPORT_COLUMNS, submitted_readings, write_export
from storage.exchange.importing import ImportReport, import_folder

__all__ = [
    "CHAT_SOURCES", "FILES", "SOURCES", "BadValue", "ImportRefused", "ImportReport", "RowProblem", "houses",
    "EXPORT_COLUMNS", "import_folder", "submitted_readings", "write_export",
]
