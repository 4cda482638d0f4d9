"""The manager's reports, their exports, and reconciliation with the gateways (issue 10).

`figures` answers with database aggregates (the Z report composes from it); `reconcile` matches
a day's gateway bills against our payments and refunds; `exports` writes any report as CSV or
.xlsx; `charts` draws the few charts as server-side SVG. payments/README.md, "Reports".
"""
