"""`python manage.py demo_info`: where to point a phone, the kitchen screen and the admin, and
the demo staff logins."""

import unicodedata

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.urls import reverse

from demo import data
from orders.models import Table
from payments.coupons.models import Batch
from payments.members.models import Member


def _width(text):
    """Columns a terminal gives the text: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text, columns):
    return text + " " * max(0, columns - _width(text))


class Command(BaseCommand):
    help = "Print the diner link of every table, the kitchen and admin links and the demo logins."

    def handle(self, *args, **options):
        out = self.stdout.write
        public = settings.PUBLIC_URL
        out(f"{settings.RESTAURANT_NAME} · {public}")
        out("")
        out("桌台 Tables (顾客扫码点餐 diners scan to order):")
        tables = list(Table.objects.filter(active=True))
        if not tables:
            out("  还没有桌台 No tables yet: python manage.py load_demo")
        code_width = max((_width(t.code) for t in tables), default=0) + 2
        area_width = max((_width(t.area) for t in tables), default=0) + 2
        for table in tables:
            out(f"  {_pad(table.code, code_width)}{_pad(table.area, area_width)}{table.diner_url}")
        out("")
        out(f"员工 Staff:    {public}{reverse('staff-home')}")
        out(f"后厨 Kitchen:  {public}{reverse('orders:kitchen')}")
        out(f"传菜 Pass:     {public}{reverse('orders:pass')}")
        out(f"收银 Cashier:  {public}{reverse('payments:cashier')}")
        out(f"管理 Admin:    {public}{reverse('admin:index')}")
        out(f"登录 Log in:   {public}{reverse('login')}")
        demo_members = Member.objects.filter(
            mobile__in=[entry["mobile"] for entry in data.MEMBERS]
        ).select_related("level")
        if demo_members:
            out("")
            out(f"会员 Members:  {public}{reverse('payments:members')}")
            out(f"  演示会员 Demo members (手机 mobile, 演示 PIN demo PIN {data.MEMBER_PIN}):")
            for member in sorted(demo_members, key=lambda m: m.mobile or ""):
                pin = "PIN" if member.pin else "无 PIN no PIN"
                out(
                    f"  {member.mobile}  {_pad(member.name or '—', 6)}{_pad(member.level.name, 10)}"
                    f"余额 balance ¥{member.balance}  积分 points {member.points}  {pin}"
                )
        batch = Batch.objects.filter(note=data.BATCH["note"]).order_by("pk").first()
        if batch is not None:
            sheet = reverse("admin:coupons_batch_sheet", args=[batch.pk])
            out(f"券码 Coupons:  {public}{sheet}  (打印 print, {batch})")
        out("")
        out("演示员工账号 Demo staff logins (用户名 username / 密码 password):")
        User = get_user_model()
        users = {
            user.username: user
            for user in User.objects.filter(username__in=[s[0] for s in data.STAFF])
        }
        for username, password, _role, label, label_en in data.STAFF:
            user = users.get(username)
            if user is None:
                note = "  (未创建 not created: python manage.py load_demo)"
            elif not user.check_password(password):
                # Not the demo password (changed, or made at random by load_demo with DEBUG
                # off): the published one is not worth printing.
                password, note = "", "(密码已修改 password changed since)"
            else:
                note = ""
            role = _pad(f"{label} {label_en}", 14)
            out(f"  {role}{_pad(username, 10)}{password}{note}")
