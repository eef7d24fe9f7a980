"""``token_refresh``: fired by EventBridge; refreshes OAuth tokens ahead of expiry."""
