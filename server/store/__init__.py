"""The tracking store: peewee schema, queries, search compiler and migrations."""

from .tracking import TrackingStore, open_store

__all__ = ["TrackingStore", "open_store"]
