"""The MQTT side of ingest: a paho client whose ``on_message`` only enqueues.

QoS 1, persistent session and manual acks: a message is acked by the drain only after
its rows are committed, so a crash before that makes the broker deliver it again.
MQTT 5 against Mosquitto (session expiry, Receive Maximum, shared subscriptions);
MQTT 3.1.1 with ``clean_session=False`` against the embedded amqtt broker.

Leaving the group for good (a scale-down, docs/reliability.md): ``unsubscribe`` first, so
the broker stops giving this member a share, then ``stop(end_session=True)`` once what it
received is committed and acked, so the broker discards the session instead of queueing
for a member that never returns.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from config import Settings
from ingest import metrics
from ingest.broker_log import is_broker_log, refused_client
from ingest.writer import ByteBudget, InboundMessage

__all__ = ["IngestClient", "telemetry_filter"]

log = logging.getLogger(__name__)


def telemetry_filter(settings: Settings) -> str:
    """The subscription: every machine's telemetry, shared between workers when configured."""
    topic = f"{settings.mqtt_topic_prefix}/+/telemetry"
    if settings.mqtt_shared_group and settings.mqtt_v5:
        return f"$share/{settings.mqtt_shared_group}/{topic}"
    return topic


class IngestClient:
    """Connects, subscribes, keeps reconnecting, and puts every message on ``inbox``."""

    def __init__(
        self,
        settings: Settings,
        inbox: queue.Queue[InboundMessage],
        budget: ByteBudget | None = None,
        records_broker_log: Callable[[], bool] = lambda: True,
    ) -> None:
        """``records_broker_log``: whether this worker records the broker's refusals now
        (ingest/broker_log.py: every worker receives them, one records them)."""
        self._settings, self._inbox, self._budget = settings, inbox, budget
        self._records_broker_log = records_broker_log
        self._telemetry_mid: int | None = None
        self._unsubscribe_mid: int | None = None
        self._leaving = threading.Event()  # unsubscribed: a reconnect does not subscribe again
        self._unsubscribed = threading.Event()
        self.last_message_at = 0.0  # time.monotonic() of the last telemetry message
        self._stopping = threading.Event()
        self._closed = threading.Event()  # inbox closed: new messages are left to the broker
        self._connected = threading.Event()
        self._client = self._build()

    def _build(self) -> mqtt.Client:
        s = self._settings
        v5 = s.mqtt_v5
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=s.effective_mqtt_client_id,
            protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
            clean_session=None if v5 else False,
            manual_ack=True,
        )
        target = s.mqtt
        if target.username:
            client.username_pw_set(target.username, target.password)
        client.reconnect_delay_set(min_delay=1, max_delay=15)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_unsubscribe = self._on_unsubscribe
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    def start(self) -> None:
        """Connect in the background; paho reconnects by itself after any drop."""
        target = self._settings.mqtt
        if self._settings.mqtt_v5:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = self._settings.mqtt_session_expiry_s
            props.ReceiveMaximum = self._settings.mqtt_receive_maximum
            self._client.connect_async(
                target.host, target.port, keepalive=30, clean_start=False, properties=props
            )
        else:
            self._client.connect_async(target.host, target.port, keepalive=30)
        self._client.loop_start()

    def close_inbox(self) -> None:
        """Stop taking new messages; the broker keeps them (unacked) for the next session."""
        self._closed.set()

    def unsubscribe(self, timeout: float) -> bool:
        """Leave the shared group: the broker gives this member no new message once it has
        confirmed (returns whether it did within ``timeout``). What it already queued or sent
        for this member still arrives and is stored as usual."""
        self._leaving.set()
        self._unsubscribed.clear()
        self._unsubscribe_mid = self._client.unsubscribe(telemetry_filter(self._settings))[1]
        return self._unsubscribed.wait(timeout)

    def stop(self, end_session: bool = False) -> None:
        """Disconnect cleanly. By default the session stays: unacked messages (and, in a
        shared group, this member's share of what is published meanwhile) wait for the next
        start under the same client id. ``end_session``: session expiry 0 on the DISCONNECT,
        the broker discards the session and whatever it still holds (MQTT 5 only)."""
        self._stopping.set()
        self._closed.set()
        if end_session and self._settings.mqtt_v5:
            props = Properties(PacketTypes.DISCONNECT)
            props.SessionExpiryInterval = 0
            self._client.disconnect(properties=props)
        else:
            if end_session:
                log.warning("ending the MQTT session needs MQTT 5: the session is kept")
            self._client.disconnect()
        self._client.loop_stop()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def ack(self, message: InboundMessage) -> None:
        if message.qos > 0:
            self._client.ack(message.mid, message.qos)

    def _on_connect(
        self, client: mqtt.Client, _u: object, flags: object, reason: object, _p: object
    ) -> None:
        if getattr(reason, "is_failure", False):
            log.error("MQTT connect refused: %s", reason)
            return
        log.info("MQTT connected (session present: %s)", getattr(flags, "session_present", "?"))
        if self._leaving.is_set():  # reconnected while leaving: stay out of the group
            self._connected.set()
            return
        self._telemetry_mid = client.subscribe(telemetry_filter(self._settings), qos=1)[1]
        if self._settings.mqtt_broker_log_topic:  # QoS 0: log lines are never acked
            client.subscribe(self._settings.mqtt_broker_log_topic, qos=0)

    def _on_subscribe(self, _c: object, _u: object, mid: int, reasons: list, _p: object) -> None:
        refused = not reasons or any(getattr(r, "is_failure", False) for r in reasons)
        if mid != self._telemetry_mid:
            if refused:  # the broker's ACL: ingest works, oversized messages go uncounted
                log.error("MQTT subscription to the broker's log refused: %s", reasons)
            return
        # Ready only once the broker confirmed the subscription: before that, a message
        # published by a sensor finds no subscriber and the broker drops it.
        if not refused:
            self._connected.set()
        else:
            log.error("MQTT subscription refused: %s", reasons)

    def _on_unsubscribe(self, _c: object, _u: object, mid: int, _r: object, _p: object) -> None:
        if mid == self._unsubscribe_mid:
            self._unsubscribed.set()

    def _on_disconnect(
        self, _c: object, _u: object, _f: object, reason: object, _p: object
    ) -> None:
        self._connected.clear()
        if not self._stopping.is_set():
            log.warning("MQTT disconnected (%s); reconnecting", reason)

    def _on_message(self, _c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        # Runs on paho's network thread: nothing may escape, nothing slow may happen here.
        if self._closed.is_set():
            return  # not acked: redelivered after the restart, stored once by the natural key
        try:
            # msg.topic decodes UTF-8 and raises on bad bytes; the raw bytes go to validation
            item = InboundMessage(
                bytes(msg._topic), bytes(msg.payload), msg.mid, msg.qos, time.time()
            )
            if is_broker_log(item.topic):
                if refused_client(item.payload) is None or not self._records_broker_log():
                    return  # another line of the broker's log, or another worker records it
                metrics.BROKER_REFUSALS.inc()  # and the drain dead-letters it
            else:
                metrics.MESSAGES_RECEIVED.inc()
                self.last_message_at = time.monotonic()
            if self._budget is not None and not self._budget.acquire(
                len(item.payload), self._closed
            ):
                return  # closing: left unacked for the broker to redeliver
            while not self._closed.is_set():
                try:
                    self._inbox.put(item, timeout=0.5)  # full inbox: back-pressure on the socket
                    return
                except queue.Full:
                    continue
        except Exception:  # noqa: BLE001 - an escaping exception would kill paho's thread
            log.exception("dropped a message in on_message; the broker will redeliver it")
