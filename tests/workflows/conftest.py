"""Workflow tests drive the HTTP API on every adapter, like tests/api."""

from tests.api.conftest import client

__all__ = ["client"]
