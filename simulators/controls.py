"""The `/sim/` controls both simulators answer alike: reset, read or change the behaviour, the
deliveries so far, an order's record, and the payer's decision on an order.

Each simulator's Gateway has `controls`, `initial_controls`, `deliveries`, `orders`, `lock` and
`decide(out_trade_no, approve)`; its handler has `json_answer(status, data)`. What differs
(refund records, building a notification) stays in each simulator.
"""

import json


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
