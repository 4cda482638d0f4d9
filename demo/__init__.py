"""The demo restaurant: its data (`data.py`) and the `load_demo` and `demo_info` commands.

It imports the apps whose rows it makes (menu, orders) and the kernel; no app imports it.
"""
