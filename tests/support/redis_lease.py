"""A lease on a Redis key: one holder at a time, kept alive by a heartbeat.

The key expires ``ttl`` seconds after the holder's last heartbeat, so a run killed mid-way (its
heartbeat dies with it) frees the key within ``ttl`` seconds instead of locking others out for as
long as a test might run.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid

import redis

# Extend the key only while it is still ours; give it up the same way.
_IF_OURS = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call({}) end return 0"
_EXTEND = _IF_OURS.format("'expire', KEYS[1], ARGV[2]")
_RELEASE = _IF_OURS.format("'del', KEYS[1]")


class LeaseHeld(Exception):
    """Another live holder kept the key for the whole wait."""


class RedisLease:
    def __init__(self, client: redis.Redis, key: str, ttl: int = 30):
        self.client, self.key, self.ttl = client, key, ttl
        self.token = uuid.uuid4().hex
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None

    def acquire(self, wait: float) -> None:
        """Take the key, waiting up to ``wait`` seconds for a holder to finish or to expire."""
        deadline = time.monotonic() + wait
        while not self.client.set(self.key, self.token, nx=True, ex=self.ttl):
            if time.monotonic() >= deadline:
                raise LeaseHeld(self.key)
            time.sleep(1)
        self._heartbeat = threading.Thread(target=self._beat, name=f"lease {self.key}", daemon=True)
        self._heartbeat.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            with contextlib.suppress(redis.RedisError):  # a missed beat: the key outlives two
                self.client.eval(_EXTEND, 1, self.key, self.token, self.ttl)

    def release(self) -> None:
        self._stop.set()
        if self._heartbeat:
            self._heartbeat.join()
        self.client.eval(_RELEASE, 1, self.key, self.token)
