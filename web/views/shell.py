"""The app shell's ids: the address bar, the menu's user and sign-out, the red banner
and the low-stock warning (the frame itself is built in ``web.server.factory``)."""

URL = "app-url"
NAV_USER = "nav-user"
SIGN_OUT = "sign-out"  # the menu's sign-out button (a form POST to /logout)
RED_BANNER = "red-banner"
RED_TICK = "red-tick"
ALARM_ACK = "alarm-ack"
LOW_STOCK = "low-stock"  # under the menu, for managers: parts at or below their minimum
LOW_STOCK_WARNING = "low-stock-warning"


def alarm_ack(alarm_id: int) -> dict[str, object]:
    return {"type": ALARM_ACK, "alarm": alarm_id}
