"""The sending pace: slots handed out evenly, shared through Redis by several processes."""
import os
import uuid


from scheduler.pace import LocalPace, RedisPace

REDIS = os.environ.get("KABINET_TEST_REDIS", "redis://127.0.0.1:6379/15")


async def test_local_pace_hands_out_evenly_spaced_slots():
    pace = LocalPace()
    await pace.wait("telegram", 0.01)
    first = pace.next_slot["telegram"]
    await pace.wait("telegram", 0.01)
    await pace.wait("telegram", 0.01)
    assert pace.next_slot["telegram"] >= first + 0.02 - 1e-9  # each slot at least one interval after the last
    await pace.pause("telegram", 100)
    assert pace.next_slot["telegram"] >= first + 99
    await pace.wait("viber", 0.01)
    assert pace.next_slot["viber"] < first + 99  # another key keeps its own pace


async def test_two_processes_share_one_pace_through_redis():
    key = f"test-{uuid.uuid4().hex}"
    first, second = RedisPace(REDIS), RedisPace(REDIS)
    try:
        delays = []
        for pace in (first, second, first, second):
            delays.append(float(await pace._take(keys=[pace.prefix + key], args=[10.0])))
        # one clock, one queue: the second process waits behind the first, 10 s a slot
        for index, delay in enumerate(delays):
            assert index * 10 - 2 <= delay <= index * 10, delays
        await first.pause(key, 100)
        assert float(await second._take(keys=[second.prefix + key], args=[10.0])) >= 98
    finally:
        await first.redis.delete(first.prefix + key)
        await first.close()
        await second.close()
