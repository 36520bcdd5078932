"""The Redis broker transport (integrations_site/broker.py): kombu's, with one client for its acknowledgements.

kombu built a new redis.Redis for each acknowledgement bookkeeping command, two per message; under redis-py 8 that was
a fifth of a worker's CPU in a 1,000-run batch (`python -m bench --profile`). Real Redis throughout.
"""

import uuid

import pytest
from django.conf import settings
from kombu import Connection

from integrations_site.broker import Channel, Transport
from integrations_site.celery import app

pytestmark = pytest.mark.skipif(
    not settings.CELERY_BROKER_URL.startswith("redis://"), reason="the transport applies to a redis:// broker"
)


def test_the_apps_connections_use_the_products_transport():
    with app.connection_for_write() as connection:
        assert isinstance(connection.transport, Transport)
        assert isinstance(connection.default_channel, Channel)


def test_a_channel_keeps_one_command_client_and_follows_a_new_pool():
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        first = channel._create_client()

        assert channel._create_client() is first
        assert first.ping()

        channel._disconnect_pools()  # as kombu does after a fork or a lost connection
        replaced = channel._create_client()

        assert replaced is not first
        assert replaced.connection_pool is channel.pool
        assert replaced.ping()


def test_messages_are_delivered_acknowledged_and_their_bookkeeping_removed():
    queue = f"transport-test-{uuid.uuid4().hex[:8]}"
    with Connection(settings.CELERY_BROKER_URL, transport=Transport) as connection:
        simple = connection.SimpleQueue(queue)
        try:
            for number in range(20):
                simple.put({"number": number})
            received = []
            for _ in range(20):
                message = simple.get(timeout=5)
                received.append(message.payload["number"])
                message.ack()
            client = connection.default_channel._create_client()
            qos = connection.default_channel.qos

            assert sorted(received) == list(range(20))
            # Nothing is left unacknowledged: kombu's ack removed each message from its two bookkeeping keys.
            assert client.hlen(qos.unacked_key) == 0
            assert client.zcard(qos.unacked_index_key) == 0
        finally:
            simple.queue.delete()
            simple.close()
