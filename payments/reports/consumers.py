"""The manager's alerts socket: the "today at a glance" page follows the kernel's `alerts`
stream (restaurant/lib/alerts.py) and shows every alert raised or handled at once."""

from datetime import timedelta
from typing import Any

from channels.db import database_sync_to_async
from django.template.loader import render_to_string
from django.utils import timezone

from restaurant.lib.alerts import ALERTS, alerts_handled_since, alerts_open
from restaurant.lib.realtime import DENIED, StreamConsumer
from restaurant.lib.roles import MANAGER, has_role

HANDLED_SHOWN_HOURS = 24


def alerts_view() -> dict[str, Any]:
    """The alerts region: the open ones, and those handled in the last day (who, when, note)."""
    since = timezone.now() - timedelta(hours=HANDLED_SHOWN_HOURS)
    shown, count = alerts_open()
    return {
        "open_alerts": shown,
        "open_count": count,
        "handled_alerts": alerts_handled_since(since),
    }


def render_alerts() -> str:
    return render_to_string("payments/reports/today.html#alerts", {**alerts_view(), "oob": True})


class AlertsConsumer(StreamConsumer):
    """`/ws/manager/alerts/`: managers only."""

    refuse_code = DENIED

    @database_sync_to_async
    def authorize(self) -> list[str] | None:
        return [ALERTS] if has_role(self.scope.get("user"), MANAGER) else None

    def render_state(self, stream: str) -> str:
        return render_alerts()

    def render_event(self, event: dict) -> str:
        return render_alerts()
