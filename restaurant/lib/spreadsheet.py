"""Text that goes into a spreadsheet (a CSV for Excel, an .xlsx): never read as a formula.

A diner names themselves when joining from the table's page, and that name reaches the manager's
member export; Excel runs a cell starting with `=`, `+`, `-` or `@` (and a tab or a carriage
return before one) as a formula, such as `=HYPERLINK("http://…","点我")`. Such text is written
with a leading apostrophe, which Excel and WPS show as text (OWASP, "CSV Injection").
"""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def text_cell(value: str) -> str:
    """`value`, or `'value` when a spreadsheet would read it as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value
