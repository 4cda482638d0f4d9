"""Which way imports run between the project's packages, read from the source itself.

Every `import` in app code counts, at module level or inside a function. The kernel
(`restaurant/lib/`) imports no app; menu imports neither orders nor payments; orders never
imports payments; no app imports the demo or the project's wiring (settings, urls, api, asgi).
"""

import ast
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PACKAGES = ("restaurant", "menu", "orders", "payments", "demo")


def module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def imports_of(path):
    """(imported module, line) for every import in the file, relative ones made absolute."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # `from orders import selectors` imports orders.selectors: count the submodule.
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                is_module = (ROOT / candidate.replace(".", "/")).with_suffix(".py").exists() or (
                    ROOT / candidate.replace(".", "/") / "__init__.py"
                ).exists()
                found.append((candidate if is_module else base, node.lineno))
    return [(module, line) for module, line in found if module.split(".")[0] in PACKAGES]


def under(module, *prefixes):
    return any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)


WIRING = ("restaurant.settings", "restaurant.urls", "restaurant.api", "restaurant.asgi")


def forbidden(importer, imported):
    """Why `importer` may not import `imported`, or None when it may."""
    if under(importer, "restaurant.lib"):
        if not under(imported, "restaurant.lib"):
            return "the kernel imports no app"
        return None
    if under(imported, "demo") and not under(importer, "demo"):
        return "no app imports the demo"
    if under(imported, *WIRING):
        return "apps do not import the project's wiring"
    if under(importer, "menu") and under(imported, "orders", "payments"):
        return "menu imports neither orders nor payments"
    if under(importer, "orders") and under(imported, "payments"):
        return "orders never imports payments"
    if under(importer, "menu", "orders", "payments", "demo") and under(imported, "restaurant"):
        if not under(imported, "restaurant.lib"):
            return "apps use the kernel, not the project package"
    return None


def test_every_import_runs_the_allowed_way():
    broken, seen = [], set()
    for path in source_files():
        importer = module_name(path)
        if under(importer, *WIRING):
            continue
        for imported, line in imports_of(path):
            seen.add((importer, imported))
            reason = forbidden(importer, imported)
            if reason:
                broken.append(f"{path.relative_to(ROOT)}:{line} imports {imported}: {reason}")
    assert broken == []
    assert ("orders.admin", "restaurant.lib.qr") in seen  # the reader sees through `from x import`


def test_the_rules_catch_a_forbidden_import():
    assert forbidden("restaurant.lib.money", "orders.models")
    assert forbidden("menu.views", "orders.selectors")
    assert forbidden("orders.services", "payments.services")
    assert forbidden("orders.views", "demo.data")
    assert forbidden("payments.views", "restaurant.urls")
    assert forbidden("restaurant.lib.roles", "restaurant.lib.money") is None
    assert forbidden("orders.services", "restaurant.lib.money") is None
