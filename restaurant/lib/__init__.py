"""The kernel: what every app shares. It imports Django and libraries, never an app (menu,
orders, payments, demo) and never the project's wiring (settings, urls, api, asgi).

tests/test_import_rules.py checks that this stays true.
"""
