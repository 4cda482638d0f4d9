"""The `/sim/` controls both simulators answer alike: reset, read or change the behaviour, the
deliveries so far, an order's record, the payer's decision on an order, and the notifications
held back (`delivery` = `held`) released in the order a test or a person chooses.

Each simulator's Gateway has `controls`, `initial_controls`, `deliveries`, `held`, `orders`,
`lock`, `decide(out_trade_no, approve)` and `deliver(*item)`; its handler has
`json_answer(status, data)`. What differs (refund records, building a notification) stays in
each simulator.
"""

import json
import threading


def send_or_hold(gateway, item):
    """A notification is due (`item`: what the gateway's `deliver` takes). `delivery`: `http`
    sends it (`notify_times` times, each on its own retry schedule), `held` keeps it for
    `/sim/release`, `off` drops it (tests build notifications with `/sim/notification`)."""
    delivery = gateway.controls["delivery"]
    times = max(1, int(gateway.controls["notify_times"]))
    if delivery == "held":
        with gateway.lock:
            gateway.held.extend([item] * times)
    elif delivery == "http":
        for _ in range(times):
            threading.Thread(target=gateway.deliver, args=item, daemon=True).start()


def release(gateway, data):
    """Deliver the held notifications one after another (each waits for its answer, so the
    order is kept): `order` `as_held` (the default) or `reversed`, each `times` times (2:
    duplicated), after `delay` seconds (late). Returns what was released."""
    with gateway.lock:
        held, gateway.held = gateway.held, []
    if data.get("order") == "reversed":
        held.reverse()
    times = max(1, int(data.get("times", 1)))
    delay = float(data.get("delay", 0))

    def run():
        if delay:
            threading.Event().wait(delay)
        for item in held:
            for _ in range(times):
                gateway.deliver(*item)

    threading.Thread(target=run, daemon=True).start()
    return [list(item[:2]) for item in held]


def answer_common(handler, gateway, method, path, data):
    """Answer a shared control and return True, or return False for the simulator's own."""
    if path == "/sim/reset" and method == "POST":  # every control as at start
        gateway.controls.clear()
        gateway.controls.update(json.loads(json.dumps(gateway.initial_controls)))
        handler.json_answer(200, gateway.controls)
        return True
    if path == "/sim/controls":
        if method == "POST":
            unknown = set(data) - set(gateway.controls)
            if unknown:
                handler.json_answer(400, {"error": f"unknown controls {sorted(unknown)}"})
                return True
            gateway.controls.update(data)
        handler.json_answer(200, gateway.controls)
        return True
    if path == "/sim/deliveries":
        with gateway.lock:
            handler.json_answer(200, list(gateway.deliveries))
        return True
    if path == "/sim/held":
        with gateway.lock:
            handler.json_answer(200, [list(item[:2]) for item in gateway.held])
        return True
    if path == "/sim/release" and method == "POST":
        handler.json_answer(200, {"released": release(gateway, data)})
        return True
    if path.startswith("/sim/orders/"):
        out_trade_no = path.split("/")[3]
        if method == "POST" and path.endswith("/decide"):
            ok, message = gateway.decide(out_trade_no, data.get("action") == "approve")
            handler.json_answer(200 if ok else 409, {"ok": ok, "message": message})
            return True
        with gateway.lock:
            order = gateway.orders.get(out_trade_no)
            handler.json_answer(200 if order else 404, order or {})
        return True
    return False
