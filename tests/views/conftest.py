"""The HTTP client fixture of tests/api (one client per storage adapter) for the view tests."""

from tests.api.conftest import client

__all__ = ["client"]
