"""``enqueue``: the management API behind API Gateway (and the recipient-import worker)."""
