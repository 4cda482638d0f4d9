# The device-token model's code is the kernel's (restaurant/lib/devices.py, beside the API auth
# that reads it); its table and migrations stay this app's, so nothing moves in the database.
# The audit trail, as DeviceToken: its code is the kernel's (restaurant/lib/audit.py).
from restaurant.lib.audit import AuditEntry  # noqa: E402, F401
from restaurant.lib.devices import DeviceToken  # noqa: F401
