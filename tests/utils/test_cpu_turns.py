"""CPUTurns: forward passes alone, side work together between them."""
import threading
import time

import pytest
import torch

from seg_plugins.utils.cpu_turns import (
    CPUTurns,
    model_takes_every_core,
    usable_cores,
)

WAIT = 0.2  # long enough for a thread that could go on to have done so


def enter(turn, log, name, release):
    """Start a thread that takes ``turn``, logs ``name``, and leaves when
    ``release`` is set."""

    def run():
        with turn():
            log.append(name)
            release.wait(5)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def settle(log, expected, start: int = 0):
    """After the threads had time to go on, ``log[start:]`` is
    ``expected``."""
    time.sleep(WAIT)
    assert log[start:] == expected


def test_side_work_together_and_never_beside_a_forward_pass():
    turns, log = CPUTurns(), []
    side_done, model_done = threading.Event(), threading.Event()
    s1 = enter(turns.side, log, 's1', side_done)
    s2 = enter(turns.side, log, 's2', side_done)
    time.sleep(WAIT)
    assert sorted(log) == ['s1', 's2']  # both in at once
    m = enter(turns.model, log, 'm', model_done)
    settle(log, [], 2)  # the forward pass waits for the side work
    side_done.set()
    s1.join(1), s2.join(1)
    settle(log, ['m'], 2)
    s3 = enter(turns.side, log, 's3', side_done)
    settle(log, ['m'], 2)  # no side work during the forward pass
    model_done.set()
    m.join(1), s3.join(1)
    assert log[2:] == ['m', 's3']


def test_a_waiting_forward_pass_goes_before_new_side_work():
    turns, log = CPUTurns(), []
    first, model_done, second = (threading.Event() for _ in range(3))
    s1 = enter(turns.side, log, 's1', first)
    settle(log, ['s1'])
    m = enter(turns.model, log, 'm', model_done)
    time.sleep(WAIT)
    s2 = enter(turns.side, log, 's2', second)
    settle(log, ['s1'])  # s2 waits behind the waiting forward pass
    first.set()
    s1.join(1)
    settle(log, ['s1', 'm'])
    model_done.set()
    m.join(1)
    settle(log, ['s1', 'm', 's2'])
    second.set()
    s2.join(1)


def finishes(target) -> bool:
    """``target()`` returns within 2 s (in a thread: a test that would
    hang fails instead)."""
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(2)
    return not thread.is_alive()


def test_turns_released_on_errors_and_not_taken_when_disabled():
    turns = CPUTurns()
    for turn in (turns.model, turns.side):
        with pytest.raises(RuntimeError, match='boom'):
            with turn():
                raise RuntimeError('boom')

    def one_then_the_other(t):
        with t.model():
            pass
        with t.side():
            pass

    def nested(t):  # taken, these turns would wait for each other
        with t.side(), t.model(), t.side():
            pass

    assert finishes(lambda: one_then_the_other(turns))  # both free again
    assert not finishes(lambda: nested(CPUTurns()))
    assert finishes(lambda: nested(CPUTurns(enabled=False)))


@pytest.mark.skipif(usable_cores() < 2, reason='needs 2 usable cores')
def test_a_cpu_model_takes_every_core_with_a_thread_per_core():
    model = torch.nn.Conv2d(3, 3, 1)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(usable_cores())
        assert model_takes_every_core(model)
        torch.set_num_threads(usable_cores() - 1)
        assert not model_takes_every_core(model)
    finally:
        torch.set_num_threads(threads)
