"""Route modules of the management API, one per resource."""
