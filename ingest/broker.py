"""The embedded MQTT broker (amqtt, MQTT 3.1.1) for the single-command demo."""

from __future__ import annotations

import asyncio
import logging
import threading

from amqtt.broker import Broker

__all__ = ["EmbeddedBroker"]

log = logging.getLogger(__name__)


class EmbeddedBroker:
    """amqtt on loopback, in its own thread and event loop."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.host, self.port = host, port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="mqtt-broker", daemon=True
        )
        self._broker: Broker | None = None

    def start(self, timeout: float = 15.0) -> None:
        self._thread.start()
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True},
            },
        }

        async def _start() -> None:
            self._broker = Broker(config)
            await self._broker.start()

        asyncio.run_coroutine_threadsafe(_start(), self._loop).result(timeout)
        log.info("embedded MQTT broker on %s:%d", self.host, self.port)

    def client_connected(self, client_id: str) -> bool:
        """Whether the broker still holds a live connection for ``client_id``.

        A client's DISCONNECT is handled on the broker's own loop, a moment after the client
        closed its socket; a restart that reconnects with the same id before then makes amqtt
        take the old connection over, which it does not do reliably.
        """
        if self._broker is None:
            return False
        entry = self._broker._sessions.get(client_id)  # noqa: SLF001 - amqtt has no public view
        return bool(entry and entry[0].transitions.is_connected())

    def stop(self, timeout: float = 10.0) -> None:
        if self._broker is not None:
            fut = asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop)
            try:
                fut.result(timeout)
            except Exception:  # noqa: BLE001 - best effort on shutdown
                log.warning("embedded broker did not shut down cleanly", exc_info=True)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
