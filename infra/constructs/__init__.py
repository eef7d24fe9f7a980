"""The stack's parts, each named for what it holds."""
