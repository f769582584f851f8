"""Search parameters as data: their definitions, index extraction and request parsing."""

from adapter.search.definitions import SearchParameter, SearchRegistry, default_registry

__all__ = ["SearchParameter", "SearchRegistry", "default_registry"]
