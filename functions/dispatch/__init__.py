"""``dispatch``: fired by EventBridge every minute; sends queued mail within all limits."""
