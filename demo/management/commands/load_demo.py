"""`python manage.py load_demo`: the demo restaurant, with a menu, photos, tables and staff, and
issue 9's price rules: table areas with 茶位费/餐位费, private rooms with a minimum spend, member
prices, top-up bonus rules, coupons with a batch of codes to print, and members.

Safe to run again. Rows are matched by their natural keys (station slug; category, tag and dish
name; option group name within its dish, option name within its group; table code; username;
area, level and coupon name; bonus rule threshold; a batch by coupon and note; a member by
mobile; a member's coupon by coupon and member). What is missing is created and what exists is
left as it is, so a manager's edits survive and a second run writes nothing. A demo dish without
a photo (or whose photo file is gone) gets one drawn. `--if-empty` does nothing when the menu
already has a dish; `make run` uses it.

With DEBUG off (a real site) it refuses unless `--allow-production` is given, and then gives the
staff it creates random passwords, printed once, instead of the published demo ones, and makes
nothing that carries money or a published secret: no members (their PIN is published, their
top-ups would be in the books) and no coupon codes (each takes money off a real bill). The
settings (areas, rooms, member prices, bonus rules, coupons) are loaded as the menu is.
"""

import secrets
import time as clock
from collections import Counter
from datetime import time
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from demo import data
from menu.models import Category, Dish, Option, OptionGroup, Station, Tag
from orders.models import Area, Table
from payments.coupons import services as coupons
from payments.coupons.models import Batch, Coupon, CouponCode
from payments.members import services as members
from payments.members.models import BonusRule, Level, Member

# The demo manager gets every model permission of these apps in the admin.
MANAGER_APPS = ("menu", "orders", "payments")


class Command(BaseCommand):
    help = "Load the demo restaurant (menu with photos, tables, staff logins). Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the menu already has a dish.",
        )
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Load it although DEBUG is off; staff get random passwords, printed once.",
        )

    def handle(self, *args, if_empty=False, allow_production=False, **options):
        if not settings.DEBUG and not allow_production:
            raise CommandError(
                "DEBUG is off: this looks like a real restaurant, not a demo. Add "
                "--allow-production to load the demo anyway (its staff get random passwords, "
                "printed once)."
            )
        if if_empty and Dish.objects.exists():
            self.stdout.write(
                "菜单已有菜品，未加载演示数据。The menu has dishes already; demo not loaded."
            )
            return
        started = clock.monotonic()
        loader = DemoLoader(random_passwords=not settings.DEBUG, people=settings.DEBUG)
        # One transaction: a failed load leaves no half menu (only orphan photo files).
        with transaction.atomic():
            loader.load()
        seconds = clock.monotonic() - started
        created = ", ".join(f"{n} {what}" for what, n in loader.created.items()) or "nothing"
        self.stdout.write(
            self.style.SUCCESS(f"演示餐厅已就绪 The demo restaurant is ready ({seconds:.1f} s).")
        )
        self.stdout.write(f"  新建 created: {created}")
        self.stdout.write(f"  照片 photos drawn: {loader.photos}")
        self.stdout.write(
            "  桌台链接和员工账号 Table links and staff logins: python manage.py demo_info"
        )
        if loader.passwords:
            self.stdout.write(
                "  新员工密码只显示这一次 New staff passwords, shown only now (用户名 / 密码):"
            )
            for username, password in loader.passwords:
                self.stdout.write(f"    {username} / {password}")


class DemoLoader:
    """Creates what is missing of `demo.data`; call `load()` inside a transaction."""

    def __init__(self, random_passwords=False, people=True):
        self.created: Counter[str] = Counter()
        self.photos = 0
        self.random_passwords = random_passwords
        self.people = people  # members and coupon codes: only in a demo (DEBUG on)
        self.passwords: list[
            tuple[str, str]
        ] = []  # (username, password) of staff made with a random password

    def load(self):
        stations = {entry["slug"]: self.station(entry) for entry in data.STATIONS}
        tags = {
            entry["name"]: self.get_or_create(Tag, "tags", name=entry["name"], defaults=entry)
            for entry in data.TAGS
        }
        for position, entry in enumerate(data.CATEGORIES, start=1):
            category = self.get_or_create(
                Category,
                "categories",
                name=entry["name"],
                defaults={"name_en": entry["name_en"], "position": position},
            )
            for dish_position, dish_entry in enumerate(entry["dishes"], start=1):
                station = stations[dish_entry.get("station", entry["station"])]
                self.dish(category, station, tags, dish_position, dish_entry)
        for position, table in enumerate(data.TABLES, start=1):
            self.get_or_create(
                Table, "tables", code=table["code"], defaults={**table, "position": position}
            )
        self.staff()
        self.price_rules()
        if self.people:
            self.members()

    def get_or_create(self, model, label, defaults=None, **lookup):
        """The oldest row that matches, or a new one (names need not be unique in the menu)."""
        found = model.objects.filter(**lookup).order_by("pk").first()
        if found is not None:
            return found
        values = {**(defaults or {}), **lookup}
        self.created[label] += 1
        return model.objects.create(**values)

    def station(self, entry):
        position = data.STATIONS.index(entry) + 1
        return self.get_or_create(
            Station, "stations", slug=entry["slug"], defaults={**entry, "position": position}
        )

    def dish(self, category, station, tags, position, entry):
        dish = Dish.objects.filter(name=entry["name"]).order_by("pk").first()
        if dish is None:
            dish = Dish(
                category=category,
                station=station,
                position=position,
                name=entry["name"],
                name_en=entry["name_en"],
                description=entry["description"],
                description_en=entry["description_en"],
                price=Decimal(entry["price"]),
                member_price=_decimal(data.MEMBER_PRICES.get(entry["name"])),
                stock=entry.get("stock"),
                sold_out=entry.get("sold_out", False),
            )
            self.created["dishes"] += 1
        self.photo(dish, entry)  # saves a new dish together with its photo and thumbnail
        have = set(dish.tags.values_list("name", flat=True))
        missing = [tags[name] for name in entry["tags"] if name not in have]
        if missing:
            dish.tags.add(*missing)
        for group_position, group_entry in enumerate(entry["options"], start=1):
            group = self.get_or_create(
                OptionGroup,
                "option groups",
                dish=dish,
                name=group_entry["name"],
                defaults={
                    "name_en": group_entry["name_en"],
                    "min_choices": group_entry["min_choices"],
                    "max_choices": group_entry["max_choices"],
                    "position": group_position,
                },
            )
            for option_position, option in enumerate(group_entry["options"], start=1):
                self.get_or_create(
                    Option,
                    "options",
                    group=group,
                    name=option["name"],
                    defaults={
                        "name_en": option["name_en"],
                        "price": Decimal(option["price"]),
                        "position": option_position,
                    },
                )

    def photo(self, dish, entry):
        """Draw a photo when the dish has none; Dish.save() makes the thumbnail from it."""
        storage = dish.photo.storage
        has_photo = bool(dish.photo) and storage.exists(dish.photo.name)
        has_thumbnail = bool(dish.thumbnail) and storage.exists(dish.thumbnail.name)
        if dish.pk and has_photo and has_thumbnail:
            return
        if not has_photo:
            picture = data.draw_photo(entry["name"], entry["art"])
            dish.photo.save("dish.jpg", ContentFile(picture), save=False)
            self.photos += 1
        dish.thumbnail = ""
        dish.save()

    def price_rules(self):
        """Table areas with their charge per guest, the member levels, the top-up bonus rules,
        the coupons and (in a demo) a batch of codes to print."""
        for area in data.AREAS:
            self.get_or_create(
                Area, "table areas", name=area["name"],
                defaults={**area, "seat_charge": Decimal(area["seat_charge"])},
            )  # fmt: skip
        has_default = Level.objects.filter(is_default=True).exists()
        for position, level in enumerate(data.LEVELS, start=1):
            self.get_or_create(
                Level, "member levels", name=level["name"],
                defaults={
                    "name_en": level["name_en"], "position": position,
                    "discount_rate": Decimal(level["discount_rate"]),
                    "points_rate": Decimal(level["points_rate"]),
                    "is_default": position == 1 and not has_default,
                },
            )  # fmt: skip
        for rule in data.BONUS_RULES:
            threshold = Decimal(rule["threshold"])
            self.get_or_create(
                BonusRule, "bonus rules", threshold=threshold,
                defaults={"bonus": Decimal(rule["bonus"])},
            )  # fmt: skip
        for entry in data.COUPONS:
            self.coupon(entry)
        if self.people:
            coupon = Coupon.objects.filter(name=data.BATCH["coupon"]).order_by("pk").first()
            note = data.BATCH["note"]
            # A coupon of that name still there (a manager may have renamed it), without it.
            if coupon and not Batch.objects.filter(coupon=coupon, note=note).exists():
                manager = get_user_model().objects.get(username="manager")
                coupons.batch_issue(
                    coupon=coupon, quantity=data.BATCH["quantity"], note=note, user=manager
                )
                self.created["coupon batches"] += 1

    def coupon(self, entry):
        if Coupon.objects.filter(name=entry["name"]).exists():
            return
        hours: list[time | None] = [None, None]
        if "hours" in entry:
            hours = [time.fromisoformat(t) for t in entry["hours"]]
        coupon = Coupon.objects.create(
            name=entry["name"],
            type=entry["type"],
            off=_decimal(entry.get("off")),
            rate=_decimal(entry.get("rate")),
            cap=_decimal(entry.get("cap")),
            minimum=Decimal(entry.get("minimum", "0")),
            combinable=entry.get("combinable", False),
            weekdays=entry.get("weekdays", "1234567"),
            hours_from=hours[0],
            hours_until=hours[1],
        )
        coupon.dishes.set(Dish.objects.filter(name__in=entry.get("dishes", [])))
        coupon.categories.set(Category.objects.filter(name__in=entry.get("categories", [])))
        self.created["coupons"] += 1

    def members(self):
        """The demo members, through the till's services like any member: joined by the cashier
        with the demo PIN, topped up by card (the bonus rules give the bonus), points given by
        the manager, coupons issued to them. Only what is missing: found by mobile."""
        User = get_user_model()
        cashier, manager = (
            User.objects.get(username="cashier"),
            User.objects.get(username="manager"),
        )
        for entry in data.MEMBERS:
            if Member.objects.filter(mobile=entry["mobile"]).exists():
                continue
            level = Level.objects.filter(name=entry["level"]).order_by("pk").first()
            member = members.member_create(
                mobile=entry["mobile"], name=entry["name"], pin=data.MEMBER_PIN if entry["pin"] else None,
                level_id=level.pk if level else None, user=cashier,
            )  # fmt: skip
            self.created["members"] += 1
            if entry["top_up"]:
                members.top_up_create(
                    member_id=member.pk, amount=Decimal(entry["top_up"]), method="card",
                    key=f"demo-{entry['mobile']}", user=cashier, terminal_ref="演示 POS",
                )  # fmt: skip
            if entry["points"]:
                members.member_adjust(
                    member_id=member.pk, points=entry["points"], reason="开卡礼（演示）",
                    user=manager,
                )  # fmt: skip
            for name in entry["coupons"]:
                coupon = Coupon.objects.filter(name=name).order_by("pk").first()
                if coupon and not CouponCode.objects.filter(coupon=coupon, member=member).exists():
                    coupons.coupon_issue(coupon=coupon, member_id=member.pk, user=manager)

    def staff(self):
        User = get_user_model()
        for username, password, role, _zh, _en in data.STAFF:
            group, _ = Group.objects.get_or_create(name=role)
            user = User.objects.filter(username=username).first()
            if user is None:
                if self.random_passwords:
                    password = secrets.token_urlsafe(12)
                    self.passwords.append((username, password))
                # Only the manager may use /admin/; cooks and cashiers log in to their screens.
                user = User.objects.create_user(
                    username, password=password, is_staff=role == "manager"
                )
                self.created["staff"] += 1
            if not user.groups.filter(pk=group.pk).exists():
                user.groups.add(group)
            if role == "manager":
                # Model permissions rather than superuser: the demo manager runs the menu,
                # tables, orders and payments in the admin, but a login that demo_info prints
                # for anyone to read cannot edit users or grant itself more rights.
                wanted = Permission.objects.filter(content_type__app_label__in=MANAGER_APPS)
                missing = wanted.exclude(user=user)
                if missing.exists():
                    user.user_permissions.add(*missing)


def _decimal(value):
    return Decimal(value) if value is not None else None
