"""Which way imports run between the project's packages, read from the source itself.

Every `import` in app code counts, at module level or inside a function. The kernel
(`restaurant/lib/`) imports no app; menu imports neither orders nor payments; orders never
imports payments; payments reaches orders only through its public surface (selectors and the
settlement and figures to read, services to write, signals to listen, controls for the
money rules both sides apply); printing only reads and listens (orders' selectors, settlement
and signals, payments' and menu's selectors) and no other app imports it; no app imports the demo or the
project's wiring (settings, urls, api, asgi). No module imports itself round a circle, and no
import hides inside a function to dodge one (an AppConfig's ready() is the one such place).
"""

import ast
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PACKAGES = ("restaurant", "menu", "orders", "payments", "printing", "demo")


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


def _function_level(tree):
    """The import nodes that sit inside a function."""
    inside = set()
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            inside.update(
                id(node)
                for node in ast.walk(function)
                if isinstance(node, ast.Import | ast.ImportFrom)
            )
    return inside


def imports_of(path, *, where="anywhere"):
    """(imported module, line) for every import in the file, relative ones made absolute.

    `where`: "anywhere", "module" (only module-level ones) or "function" (only those inside a
    function)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inside = _function_level(tree)
    found = []
    for node in ast.walk(tree):
        if where == "module" and id(node) in inside:
            continue
        if where == "function" and id(node) not in inside:
            continue
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
ORDERS_SURFACE = (
    "orders.selectors",
    "orders.settlement",
    "orders.services",
    "orders.signals",
    "orders.controls",  # the money controls both sides apply (issue 11)
    "orders.figures",  # aggregates over bills and dishes for the books (issue 10)
)
# Printing (issue 13) reads and listens, and never writes another app's rows.
PRINTING_READS = (
    "orders.selectors",
    "orders.settlement",
    "orders.signals",
    "payments.selectors",
    "menu.selectors",
    "menu.signals",
)


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
    if under(importer, "payments") and under(imported, "orders"):
        if not under(imported, *ORDERS_SURFACE):
            return "payments reaches orders only through its selectors, settlement and services"
    if under(imported, "printing") and under(importer, "menu", "orders", "payments", "demo"):
        return "no app imports printing: it listens to their signals"
    if under(importer, "printing") and under(imported, "menu", "orders", "payments"):
        if not under(imported, *PRINTING_READS):
            return "printing reaches other apps only through their selectors and signals"
    if under(importer, "menu", "orders", "payments", "printing", "demo") and under(
        imported, "restaurant"
    ):
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
    assert forbidden("payments.services", "orders.models")
    assert forbidden("payments.views", "orders.views")
    assert forbidden("payments.services", "orders.services") is None
    assert forbidden("payments.selectors", "orders.settlement") is None
    assert forbidden("orders.services", "printing.services")
    assert forbidden("payments.views", "printing.models")
    assert forbidden("printing.services", "orders.services")
    assert forbidden("printing.services", "payments.models")
    assert forbidden("printing.services", "restaurant.urls")
    assert forbidden("printing.services", "orders.selectors") is None
    assert forbidden("printing.receivers", "orders.signals") is None
    assert forbidden("restaurant.management.commands.worker", "printing.services") is None


def module_graph():
    graph = {}
    for path in source_files():
        graph.setdefault(module_name(path), set()).update(
            imported for imported, _line in imports_of(path, where="module")
        )
    return graph


def find_circle(graph):
    """One circle of imports as a list of modules, or None."""
    done, stack = set(), []

    def visit(module):
        if module in stack:
            return stack[stack.index(module) :] + [module]
        if module in done:
            return None
        stack.append(module)
        for imported in sorted(graph.get(module, ())):
            circle = visit(imported)
            if circle:
                return circle
        stack.pop()
        done.add(module)
        return None

    for module in sorted(graph):
        circle = visit(module)
        if circle:
            return circle
    return None


def test_no_module_imports_itself_round_a_circle():
    graph = module_graph()
    assert "orders.settlement" in graph["orders.selectors"]  # the graph is really read
    assert find_circle(graph) is None


def test_the_circle_finder_finds_a_circle():
    assert find_circle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_circle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_no_import_of_the_project_hides_inside_a_function():
    hidden = []
    for path in source_files():
        if path.name == "apps.py":
            continue  # AppConfig.ready() connects receivers once the apps are loaded
        hidden += [
            f"{path.relative_to(ROOT)}:{line} imports {imported} inside a function"
            for imported, line in imports_of(path, where="function")
        ]
    assert hidden == []


def test_the_settlement_reads_only_models_and_money():
    path = ROOT / "orders" / "settlement.py"
    assert {imported for imported, _line in imports_of(path)} == {
        "orders.models",
        "restaurant.lib.money",
    }
