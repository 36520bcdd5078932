"""kombu's Redis transport with one command client per channel (CELERY_BROKER_TRANSPORT, set when REDIS_URL is a
redis:// URL).

kombu's Redis channel builds a new `redis.Redis` for every command it sends outside its BRPOP connection
(`Channel.conn_or_acquire`): with acks_late that is two per run, to record the message as unacknowledged on receipt
(`QoS.append`) and to acknowledge it (`QoS.ack`). Building one costs redis-py 8 a copy of its ~250 response
callbacks into a case-insensitive dict: measured with `python -m bench --profile`, a fifth of the worker's CPU in a
1,000-run batch. A `redis.Redis` is safe to share between threads (each command checks a connection out of the
pool), so the channel keeps one per connection pool and uses it for every such command. Nothing else changes:
BRPOP, publishing and pub/sub keep kombu's own clients.
"""

from kombu.transport import redis as kombu_redis


class Channel(kombu_redis.Channel):
    _commands_client = None

    def _create_client(self, asynchronous=False):
        if asynchronous:
            return super()._create_client(asynchronous=True)
        client, pool = self._commands_client, self.pool
        # The pool is replaced after a fork or a lost connection (kombu's _disconnect_pools): follow it.
        if client is None or client.connection_pool is not pool:
            client = self._commands_client = super()._create_client()
        return client


class Transport(kombu_redis.Transport):
    Channel = Channel
