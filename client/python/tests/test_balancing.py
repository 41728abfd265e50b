"""Round robin over two fakes, through every way of naming them, and the
client-side health checking that keeps calls off a NOT_SERVING replica
while health() still reaches it.

Waiting for the channel to notice a change is a bounded loop of calls that
ends as soon as the change shows (the calls are the event); never a sleep.
"""

import time

import grpc
import pytest

import securebert_client
from securebert_client import SecureBertClient

# How long a test waits for the channel to notice a connection or a health
# change (it takes milliseconds).
NOTICE_S = 10.0


def call_until(client, condition):
    """Calls info() until condition() holds; fails the test after NOTICE_S."""
    end = time.monotonic() + NOTICE_S
    while not condition():
        assert time.monotonic() < end, "the channel did not notice in time"
        client.info()


def counts(*fakes):
    return [f.servicer.calls_so_far() for f in fakes]


@pytest.fixture
def pair(start_fake):
    return start_fake(), start_fake()


@pytest.mark.parametrize("how", ["addresses", "bare list", "ipv4 uri"])
def test_round_robin_spreads_calls_over_both(pair, how):
    a, b = pair
    given = {"addresses": dict(addresses=[a.address, b.address]),
             "bare list": dict(target=f"{a.address},{b.address}"),
             "ipv4 uri": dict(target=f"ipv4:{a.address},{b.address}")}[how]
    with SecureBertClient(insecure=True, timeout_s=10, **given) as client:
        # Both connected: each has answered once.
        call_until(client, lambda: min(counts(a, b)) > 0)
        before = counts(a, b)
        for _ in range(40):
            client.info()
        after = counts(a, b)
    spread = [x - y for x, y in zip(after, before)]
    assert sum(spread) == 40 and min(spread) >= 15, spread


def test_dns_target(fake):
    # localhost resolves to 127.0.0.1 (the fake) and maybe ::1 (nothing):
    # round robin passes over the address that refuses.
    with SecureBertClient(f"dns:///localhost:{fake.port}", insecure=True, timeout_s=10) as client:
        for _ in range(5):
            assert client.info().model_id == "fake/securebert"
    assert fake.servicer.calls_so_far() == 5


def test_not_serving_replica_gets_no_calls(pair):
    a, b = pair
    b.set_serving(False)
    with SecureBertClient(addresses=[a.address, b.address], insecure=True,
                          timeout_s=10) as client:
        for _ in range(20):
            client.info()
        assert counts(a, b) == [20, 0]
        # Back to SERVING: b gets calls again.
        b.set_serving(True)
        call_until(client, lambda: b.servicer.calls_so_far() > 0)
        # a starts draining: once b has answered 10 calls in a row, a gets none.
        a.set_serving(False)
        streak = {"last": counts(a, b), "run": 0}

        def drained():
            now = counts(a, b)
            only_b = now[0] == streak["last"][0] and now[1] > streak["last"][1]
            streak["run"] = streak["run"] + 1 if only_b else 0
            streak["last"] = now
            return streak["run"] >= 10

        call_until(client, drained)
        a_calls = a.servicer.calls_so_far()
        for _ in range(20):
            client.info()
        assert a.servicer.calls_so_far() == a_calls


def test_health_reaches_a_not_serving_server(fake):
    fake.set_serving(False)
    with SecureBertClient(fake.address, insecure=True, timeout_s=10, max_attempts=1) as client:
        assert client.health() == "NOT_SERVING"
        assert client.health(securebert_client.SERVICE_NAME) == "NOT_SERVING"
        # Its only replica is unhealthy: the health-checked channel refuses.
        with pytest.raises(grpc.RpcError) as raised:
            client.info()
        assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
    assert fake.servicer.calls_so_far() == 0
