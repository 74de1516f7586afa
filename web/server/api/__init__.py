"""``/api/v1``: the JSON API for the plant's other systems (see docs/api.md)."""

from web.server.api.api_app import IngestCounts, IngestPort, api_server, install_api

__all__ = ["IngestCounts", "IngestPort", "api_server", "install_api"]
