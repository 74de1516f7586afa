"""``/api/v1``: the JSON API for the plant's other systems (see docs/api.md)."""

from web.server.api.api_app import api_server, install_api
from web.server.api.api_ingest import IngestCounts, IngestPort

__all__ = ["IngestCounts", "IngestPort", "api_server", "install_api"]
