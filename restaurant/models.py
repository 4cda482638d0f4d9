# The device-token model's code is the kernel's (restaurant/lib/devices.py, beside the API auth
# that reads it); its table and migrations stay this app's, so nothing moves in the database.
from restaurant.lib.devices import DeviceToken  # noqa: F401
