# The device-token model's code is the kernel's (restaurant/lib/devices.py, beside the API auth
# that reads it); its table and migrations stay this app's, so nothing moves in the database.
# So are the audit trail's (restaurant/lib/audit.py), the manager's alerts'
# (restaurant/lib/alerts.py) and the worker's once-per-period claims' (restaurant/lib/once.py).
from restaurant.lib.alerts import Alert  # noqa: F401
from restaurant.lib.audit import AuditEntry  # noqa: F401
from restaurant.lib.devices import DeviceToken  # noqa: F401
from restaurant.lib.once import JobRun  # noqa: F401
