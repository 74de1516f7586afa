"""Messages the broker refused as too large, counted from the broker's own log.

Mosquitto 2.0.11 counts no refusal in ``$SYS`` (``publish/messages/dropped`` stays 0) and
logs a message over its ``message_size_limit`` only at debug level, which it never
publishes. A packet over its ``max_packet_size`` is refused at the socket: the sender is
disconnected (an MQTT 5 sender with the reason code 0x95 "Packet too large", after the
broker's CONNACK told it the maximum) and the broker logs the notice "Client <id>
disconnected due to oversize packet." With ``log_dest topic`` it publishes that line on
``$SYS/broker/log/N``. The worker subscribes there (``PDM_MQTT_BROKER_LOG_TOPIC``) and turns
each such line into a dead letter ``payload_too_large`` naming the client, counted like any
dead letter and in ``pdm_mqtt_broker_refusals_total``. Every other line is ignored.

The broker sends a ``$SYS`` line to every subscriber (a shared subscription receives none
in 2.0.11), so with several workers only the one holding the ``broker_log`` lease records
it (``worker/service.py``)."""

from __future__ import annotations

import re

from ingest.payload import ParsedMessage, Rejection

__all__ = ["PACKET_OVERHEAD", "LEASE", "is_broker_log", "refused_client", "broker_refusal"]

# bytes of a PUBLISH packet besides its payload that the broker's max_packet_size must
# leave room for: the topic (pdm/<machine of up to 64 characters>/telemetry), the fixed and
# variable headers and MQTT 5 properties, with a wide margin
PACKET_OVERHEAD = 64 * 1024
LEASE = "broker_log"
_OVERSIZE = re.compile(rb"^(?:\d+: )?Client (.{1,256}) disconnected due to oversize packet\.$")


def is_broker_log(topic: bytes) -> bool:
    """A message from the broker's log subscription (telemetry topics never start so)."""
    return topic.startswith(b"$SYS/")


def refused_client(line: bytes) -> str | None:
    """The client id of an "oversize packet" refusal line; None for any other line."""
    found = _OVERSIZE.match(line.strip())
    return found.group(1).decode("utf-8", errors="replace") if found else None


def broker_refusal(line: bytes) -> ParsedMessage:
    """A refusal line as the dead letter it becomes (its payload: the line; the message
    itself never reached the broker's memory)."""
    client = refused_client(line) or "?"
    detail = f"refused by the broker: client {client!r} sent a packet over its max_packet_size"
    return ParsedMessage(rejections=[Rejection("payload_too_large", detail)])
