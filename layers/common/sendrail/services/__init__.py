"""Use cases: the domain plus the storage and provider adapters it is given."""
