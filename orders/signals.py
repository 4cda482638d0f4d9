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

# An order was submitted: `order_id`, `tab_id`. In pay first (先付后吃) it waits for its
# payment (`awaiting_payment`) and reaches the kitchen with `orders_released`.
order_submitted = Signal()

# Pay first: a paid tab's waiting orders went to the kitchen: `order_ids`, `tab_id`.
orders_released = Signal()

# The kitchen must act on one dish (printers print a slip for its station), each with
# `line_id`: hurried by a diner (催菜), fired (起菜: held → waiting), voided (退菜; also `old`,
# the status it had, and `reason`).
line_urged = Signal()
line_fired = Signal()
line_voided = Signal()

# A bill changed in a way its figures may show (a round ordered, a dish voided or discounted, a
# discount, a member or a price rule, its status): `tab_id` and `moments` (when it happened and
# when each of the tab's orders was entered). Sent at once, inside the change's transaction
# (from the TabEvent that records it), not after commit: the reports' roll-up marks the days
# it touches as stale in that same transaction (payments/reports/rollup.py).
bill_changed = Signal()

# A tab reached one of the limits (README, "Limits") and was refused: `tab_id`, `code`. Sent
# at once, not after commit: the refusal rolls its transaction back.
limit_hit = Signal()
