"""The broker's log lines that are size refusals, and only those, become dead letters."""

from __future__ import annotations

import pytest

from ingest.broker_log import broker_refusal, is_broker_log, refused_client


@pytest.mark.parametrize(
    ("line", "client"),
    [
        (b"1796560230: Client gateway-7 disconnected due to oversize packet.", "gateway-7"),
        (b"Client a b disconnected due to oversize packet.\n", "a b"),
        (b"1796560230: Client g5 disconnected.", None),
        (b"1796560230: New client connected from 127.0.0.1:52077 as g5x (p5, c1, k60).", None),
        (b"1: Client x disconnected due to oversize packet. and more", None),
        (b"", None),
    ],
)
def test_only_oversize_refusals_name_a_client(line: bytes, client: str | None):
    assert refused_client(line) == client


def test_a_refusal_is_a_payload_too_large_dead_letter_naming_the_sender():
    parsed = broker_refusal(b"17: Client gw-1 disconnected due to oversize packet.")
    assert parsed.readings == []
    [rejection] = parsed.rejections
    assert rejection.reason == "payload_too_large" and "'gw-1'" in rejection.detail


def test_only_sys_topics_are_the_broker_log():
    assert is_broker_log(b"$SYS/broker/log/N")
    assert not is_broker_log(b"pdm/motor-01/telemetry")
