"""The books (出纳): shifts at the till and their handovers (交班), the business day and its close
(日结) with the Z report. payments/README.md, "Books", says what was decided and why."""
