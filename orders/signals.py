"""What the ordering side tells other apps, always after the transaction has committed.

`orders` never imports `payments`; payments listen here instead.
"""

from django.dispatch import Signal

# A tab's total changed after the fact (a line voided, a discount set): sender is None,
# with `tab_id`. Payments refund the difference of a paid tab, newest payment first.
tab_total_changed = Signal()

# A tab's status changed: `tab_id`, `old`, `new`.
tab_status_changed = Signal()

# A table's new tab was opened: `tab_id`, `table_id`.
tab_opened = Signal()

# An order was submitted: `order_id`, `tab_id`.
order_submitted = Signal()

# A tab reached one of the limits (README, "Limits") and was refused: `tab_id`, `code`. Sent
# at once, not after commit: the refusal rolls its transaction back.
limit_hit = Signal()
