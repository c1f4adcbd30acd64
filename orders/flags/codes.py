"""What the flag codes mean for the people working them: how much each hurts, and which get a message.

A leaf: it imports only the model, so every part of the flags context (and the screens) can read it.
"""

from __future__ import annotations

from ..models import Flag

# How much it hurts, for sorting the worklist: the customer is already hurt (3), will be (2), might be (1).
SEVERITY = {
    Flag.Code.DELIVERY_EXCEPTION: 3,
    Flag.Code.PROMISE_MISSED: 3,
    Flag.Code.PHANTOM_ORDER: 3,
    Flag.Code.PAYMENT_MISMATCH: 3,
    Flag.Code.RETURN_NOT_REFUNDED: 3,
    Flag.Code.STUCK_SHIPMENT: 2,
    Flag.Code.DUPLICATE_SHIPMENT: 2,
    Flag.Code.STOCK_SHORTFALL: 2,
    Flag.Code.PROMISE_AT_RISK: 1,
    Flag.Code.UNASSIGNED: 1,
}
SEVERITY_LABEL = {3: "high", 2: "medium", 1: "low"}
# The flags that change what the customer was promised: they get a ready-to-send message.
MESSAGE_CODES = (
    Flag.Code.PROMISE_AT_RISK,
    Flag.Code.PROMISE_MISSED,
    Flag.Code.STUCK_SHIPMENT,
    Flag.Code.DELIVERY_EXCEPTION,
)
