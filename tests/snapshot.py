"""What a read must leave as it found it: every row of every table."""

from django.apps import apps


def database_rows():
    """Every row of every model (the project's apps, users, sessions), as plain values."""
    return {
        model._meta.label: list(model._base_manager.order_by("pk").values_list())
        for model in apps.get_models()
    }
