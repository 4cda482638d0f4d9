"""The manager's alerts are live: raised by a worker (here: the kernel's alert_raise, as the
reconcile and backup jobs call it) or handled by another manager, they reach an open "today at
a glance" page at once, through the real ASGI application; a page that reconnects gets every
open alert; only managers may listen."""

import pytest
from asgiref.sync import sync_to_async

from restaurant.lib.alerts import ALERTS, Alert, alert_handle, alert_raise
from restaurant.lib.realtime import next_seqs
from tests.sockets import connect, session_cookie
from tests.writes import statements

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def amount_differs(number):
    return {
        "key": f"reconcile:wechatpay:amount_differs:payment:{number}",
        "kind": Alert.Kind.AMOUNT_DIFFERS,
        "detail": {
            "gateway": "WeChat Pay",
            "day": "2026-12-01",
            "what": "payment",
            "number": number,
            "amount": "31.00",
            "ours": "30.00",
        },  # fmt: skip
        "link": "/manager/reports/reconcile/?day=2026-12-01",
    }


async def test_only_managers_hear_alerts(cook, cashier, outsider):
    for user in (None, cook, cashier, outsider):
        headers = [await sync_to_async(session_cookie)(user)] if user else []
        _screen, connected, code = await connect("/ws/manager/alerts/", *headers)
        assert not connected and code == 4403


async def test_an_alert_raised_and_handled_reaches_the_open_page_at_once(manager, needs_redis):
    cookie = await sync_to_async(session_cookie)(manager)
    with statements() as sent:  # a connect reads only (issue 7)
        office, connected, _ = await connect("/ws/manager/alerts/?lang=en", cookie)
        assert connected
        state = await office.receive_from(timeout=5)
    assert sent.writes() == []
    assert 'id="manager-alerts"' in state and "No open alerts." in state
    assert 'id="seq-alerts"' in state

    raised = await sync_to_async(alert_raise)(**amount_differs("dcdiffers"))
    pushed = await office.receive_from(timeout=5)
    assert f'id="alert-{raised.pk}"' in pushed and 'hx-swap-oob="true"' in pushed
    assert "WeChat Pay&#x27;s bill of 2026-12-01 has payment dcdiffers at ¥31.00" in pushed
    assert 'data-stream="alerts"' in pushed
    # The same alert again (a second worker, the next round): nothing new, nothing pushed.
    assert await sync_to_async(alert_raise)(**amount_differs("dcdiffers")) is None
    assert await office.receive_nothing(timeout=0.5)

    await sync_to_async(alert_handle)(alert_id=raised.pk, user=manager, note="checked the bill")
    pushed = await office.receive_from(timeout=5)
    assert "No open alerts." in pushed and "Handled by manager" in pushed
    assert "checked the bill" in pushed
    await office.disconnect()

    # Raised while no page listened: the next (re)connect shows it.
    later = await sync_to_async(alert_raise)(**amount_differs("dclater"))
    office, connected, _ = await connect("/ws/manager/alerts/?lang=zh-hans", cookie)
    assert connected
    state = await office.receive_from(timeout=5)
    assert f'id="alert-{later.pk}"' in state and "dclater" in state and "微信支付" in state
    await office.disconnect()


async def test_the_day_close_screen_shows_the_alerts_live_too(manager, needs_redis):
    cookie = await sync_to_async(session_cookie)(manager)
    office, connected, _ = await connect("/ws/books/day/?lang=en", cookie)
    assert connected
    state = await office.receive_from(timeout=5)
    assert 'id="day-live"' in state and 'id="manager-alerts"' in state
    assert 'id="seq-alerts"' in state and 'id="seq-books"' in state
    raised = await sync_to_async(alert_raise)(
        key="backup:2026-12-02",
        kind=Alert.Kind.BACKUP_FAILED,
        detail={"day": "2026-12-02", "error": "No space left on device"},
    )
    pushed = await office.receive_from(timeout=5)
    assert f'id="alert-{raised.pk}"' in pushed and "No space left on device" in pushed
    assert 'id="day-live"' not in pushed  # an alert re-renders the alerts, not the Z report
    await office.disconnect()


async def test_an_alert_whose_push_was_dropped_still_reaches_the_page(manager, needs_redis):
    cookie = await sync_to_async(session_cookie)(manager)
    office, connected, _ = await connect("/ws/manager/alerts/?lang=en", cookie)
    assert connected
    assert "No open alerts." in await office.receive_from(timeout=5)

    @sync_to_async
    def raise_without_telling():
        """An alert is recorded and its event numbered, and the channel layer drops it."""
        alert = Alert.objects.create(
            key="backup:2026-12-03", kind=Alert.Kind.BACKUP_FAILED,
            detail={"day": "2026-12-03", "error": "disk full"},
        )  # fmt: skip
        next_seqs({ALERTS: 1})
        return alert

    alert = await raise_without_telling()
    healed = await office.receive_from(timeout=5)  # the watcher saw the number move
    assert f'id="alert-{alert.pk}"' in healed and "disk full" in healed
    await office.disconnect()
