from decimal import Decimal

from django.db import migrations

# The three levels a restaurant starts with (普通/银卡/金卡); the manager changes them in the admin.
LEVELS = [
    ("普通会员", "Member", 1, Decimal("1.000"), Decimal("1.00"), True),
    ("银卡会员", "Silver", 2, Decimal("0.950"), Decimal("1.50"), False),
    ("金卡会员", "Gold", 3, Decimal("0.900"), Decimal("2.00"), False),
]


def create_levels(apps, schema_editor):
    Level = apps.get_model("members", "Level")
    if Level.objects.exists():
        return
    for name, name_en, position, discount, points, default in LEVELS:
        Level.objects.create(
            name=name, name_en=name_en, position=position, discount_rate=discount,
            points_rate=points, is_default=default,
        )  # fmt: skip


class Migration(migrations.Migration):
    dependencies = [("members", "0001_initial")]

    operations = [migrations.RunPython(create_levels, migrations.RunPython.noop)]
