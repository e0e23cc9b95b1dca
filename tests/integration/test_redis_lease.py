"""The lease that keeps two runs of the Celery stack test out of one Redis database: held while
its holder lives, free within its time-to-live once the holder dies without releasing it."""

from __future__ import annotations

import os
import time
import uuid

import pytest
import redis
from support.redis_lease import LeaseHeld, RedisLease


@pytest.fixture
def client():
    client = redis.Redis("127.0.0.1", 6379, db=int(os.environ.get("POVERTY_TEST_REDIS_DB", "13")),
                         socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("no Redis server at 127.0.0.1:6379")
    return client


def test_a_live_holder_keeps_the_key_past_its_ttl_and_frees_it_on_release(client):
    key = f"poverty_pipeline:lease-test:{uuid.uuid4().hex}"
    holder = RedisLease(client, key, ttl=2)
    holder.acquire(wait=0)
    try:
        time.sleep(3)  # longer than the ttl: only the heartbeat keeps it
        with pytest.raises(LeaseHeld):
            RedisLease(client, key, ttl=2).acquire(wait=1)
    finally:
        holder.release()
    assert client.get(key) is None
    other = RedisLease(client, key, ttl=2)
    other.acquire(wait=0)
    other.release()


def test_a_holder_that_died_frees_the_key_within_its_ttl(client):
    key = f"poverty_pipeline:lease-test:{uuid.uuid4().hex}"
    client.set(key, "a run killed mid-way", ex=2)  # no heartbeat, never released
    started = time.monotonic()
    waiter = RedisLease(client, key, ttl=2)
    waiter.acquire(wait=10)
    try:
        assert time.monotonic() - started <= 3
        assert client.get(key).decode() == waiter.token
    finally:
        waiter.release()


def test_release_leaves_a_key_another_holder_took_alone(client):
    key = f"poverty_pipeline:lease-test:{uuid.uuid4().hex}"
    stale = RedisLease(client, key, ttl=2)
    stale.acquire(wait=0)
    client.set(key, "someone else")  # e.g. after this holder stalled past its ttl
    stale.release()
    assert client.get(key) == b"someone else"
    client.delete(key)
