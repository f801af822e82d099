"""The worker every sink shares: never blocks (or waits, when asked), keeps order, survives outages."""

import threading

import pytest

from grace_core.sinks.background import BackgroundWorker


class Recorder(BackgroundWorker[int]):
    """Delivers into a list; ``down`` connection attempts fail first (a broker outage); ``gate`` holds delivery."""

    def __init__(self, down: int = 0, gate: threading.Event | None = None, **options) -> None:
        super().__init__("recorder", retry_initial=0.01, retry_max=0.02, **options)
        self.down, self.gate, self.delivered, self.connects = down, gate, [], 0
        self.start()

    def _connect(self):
        self.connects += 1
        if self.connects <= self.down:
            raise ConnectionRefusedError("broker not there")
        return "connection"

    def _deliver(self, connection, item: int) -> None:
        if self.gate is not None:
            self.gate.wait(5)
        if item < 0:
            raise ValueError("a bad item")
        self.delivered.append(item)


def test_an_outage_loses_nothing_and_keeps_the_order():
    worker = Recorder(down=3)
    for i in range(5):
        assert worker.submit(i)
    assert worker.close(timeout=10)
    assert worker.delivered == [0, 1, 2, 3, 4]
    stats = worker.delivery_stats()
    assert stats.retries == 3 and stats.errors == 3 and stats.delivered == 5 and stats.dropped == 0


def test_a_full_queue_drops_and_counts_instead_of_blocking():
    gate = threading.Event()
    worker = Recorder(gate=gate, max_pending=2)
    results = [worker.submit(i) for i in range(5)]
    gate.set()
    worker.close(timeout=10)
    assert results == [True, True, False, False, False]
    assert worker.delivery_stats().drop_reasons == {"queue_full": 3}


def test_waiting_when_full_delivers_everything():
    gate = threading.Event()
    worker = Recorder(gate=gate, max_pending=1, wait_when_full=True)
    threading.Timer(0.2, gate.set).start()
    assert all(worker.submit(i) for i in range(4))
    worker.close(timeout=10)
    assert worker.delivered == [0, 1, 2, 3]


def test_a_bad_item_is_counted_and_the_next_one_goes_through():
    errors = []
    worker = Recorder(on_error=errors.append)
    worker.submit(-1)
    worker.submit(7)
    worker.close(timeout=10)
    assert worker.delivered == [7] and len(errors) == 1 and worker.delivery_stats().errors == 1


def test_after_close_items_are_dropped_as_closed():
    worker = Recorder()
    worker.close()
    assert not worker.submit(1)
    assert worker.delivery_stats().drop_reasons == {"closed": 1}
    with pytest.raises(ValueError):
        Recorder(max_pending=0)
