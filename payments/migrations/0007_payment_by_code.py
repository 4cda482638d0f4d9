from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0006_verbose_names"),
    ]

    operations = [
        migrations.AddField(
            model_name="payment",
            name="by_code",
            field=models.BooleanField(default=False, verbose_name="paid with a payment code"),
        ),
    ]
