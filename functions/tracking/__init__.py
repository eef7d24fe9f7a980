"""``tracking``: public endpoints (open pixel, click redirect, unsubscribe, bounce intake)."""
