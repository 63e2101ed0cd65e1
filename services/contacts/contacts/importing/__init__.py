"""Contacts import and export formats: pure code, no database, web framework or broker.

Import, CSV:  read_table(bytes) -> Table (encoding, delimiter, header, rows())
              suggest_mapping(header, custom_fields) -> [ColumnMapping]  (or mapping_from_json)
              RowConverter(mapping, custom_field_types, options, header).convert(cells, row_number)
                  -> ConvertedRow(details, label_names, problems), details ready for normalize_details
              failed_rows_csv(header, failed, style=CsvStyle.like_upload(encoding, delimiter))
                  -> bytes to fix and upload again (UTF-8 with ',' unless a style is given)
Import, vCard: read_vcards(bytes) -> iterator of ConvertedRow, one per card
Export:       write_standard_csv / write_google_csv / write_outlook_csv / write_vcards
              -> iterator of bytes chunks; template_csv() -> bytes

Contacts given to writers are read models: the details, plus `labels` as
names and `function` / `department` as option names. Labels are names
throughout; mapping them to keys is the caller's job.
"""
from contacts.importing.csv_output import CsvStyle
from contacts.importing.errors import InvalidImportOptions, InvalidMapping, LayoutTooSmall, UnreadableFile
from contacts.importing.failed_rows import ERROR_COLUMN, ROW_COLUMN, failed_rows_csv
from contacts.importing.google_csv import write_google_csv
from contacts.importing.layout import ExportLayout
from contacts.importing.mapping import (
    TARGETS, ColumnMapping, check_mapping, mapping_from_json, mapping_to_json, new_custom_fields,
    resolve_new_custom_fields,
)
from contacts.importing.outlook_csv import write_outlook_csv
from contacts.importing.rows import CellProblem, ConvertedRow, ImportOptions, RowConverter, convert_row
from contacts.importing.standard_csv import standard_columns, template_csv, write_standard_csv
from contacts.importing.suggest import suggest_mapping
from contacts.importing.tables import Row, Table, read_table
from contacts.importing.vcard_reading import read_vcards
from contacts.importing.vcard_writing import write_vcards

__all__ = [
    "ERROR_COLUMN", "ROW_COLUMN", "TARGETS", "CellProblem", "ColumnMapping", "ConvertedRow", "CsvStyle", "ExportLayout",
    "ImportOptions", "InvalidImportOptions", "InvalidMapping", "LayoutTooSmall", "Row", "RowConverter", "Table",
    "UnreadableFile", "check_mapping", "convert_row", "failed_rows_csv", "mapping_from_json", "mapping_to_json",
    "new_custom_fields", "read_table", "read_vcards", "resolve_new_custom_fields", "standard_columns",
    "suggest_mapping", "template_csv", "write_google_csv", "write_outlook_csv", "write_standard_csv",
    "write_vcards",
]
