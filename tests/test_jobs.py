"""core.jobs: whole jobs in arrival order on one real worker thread, place in line, the bound, cancelling."""
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from core.jobs import Cancelled, JobQueue, QueueFull


@pytest.fixture
def line():
    executor = ThreadPoolExecutor(max_workers=1)
    yield JobQueue(executor, limit=4)
    executor.shutdown(wait=True, cancel_futures=True)


def gated(log: list, name: str, gate: threading.Event, pages: int = 3):
    """A job of ``pages`` steps that waits for ``gate`` first and logs each step."""
    def job(ticket):
        assert gate.wait(10)
        for p in range(pages):
            log.append((name, p))
            ticket.report((p + 1) / pages, f"{name} page {p + 1}")
        return name
    return job


def test_whole_jobs_run_in_arrival_order_and_each_knows_its_place(line):
    log, gate = [], threading.Event()
    tickets = [line.submit(gated(log, name, gate)) for name in "abc"]
    # a is running (blocked on the gate), b and c wait behind it
    assert [t.ahead() for t in tickets] == [0, 1, 2]
    assert len(line) == 3
    gate.set()
    assert [t.wait(poll=0.01) for t in tickets] == ["a", "b", "c"]
    assert log == [(n, p) for n in "abc" for p in range(3)]  # no interleaving of pages between jobs
    assert tickets[2].fraction == 1.0 and tickets[2].text == "c page 3"
    assert len(line) == 0 and [t.ahead() for t in tickets] == [0, 0, 0]


def test_place_in_line_drops_as_jobs_ahead_finish(line):
    gates = [threading.Event() for _ in range(3)]
    tickets = [line.submit(gated([], str(k), g, pages=1)) for k, g in enumerate(gates)]
    seen = []
    gates[0].set()
    tickets[0].wait(poll=0.01)
    seen.append(tickets[2].ahead())
    gates[1].set()
    tickets[1].wait(poll=0.01)
    seen.append(tickets[2].ahead())
    gates[2].set()
    tickets[2].wait(poll=0.01, update=lambda t: seen.append(t.ahead()))
    assert seen[:2] == [1, 0] and set(seen[2:]) <= {0}


def test_bound_refuses_one_more_and_frees_a_place_when_a_job_ends(line):
    gate = threading.Event()
    tickets = [line.submit(gated([], str(k), gate, pages=1)) for k in range(4)]
    with pytest.raises(QueueFull):
        line.submit(gated([], "late", gate))
    gate.set()
    for t in tickets:
        t.wait(poll=0.01)
    assert line.submit(gated([], "now", gate)).wait(poll=0.01) == "now"


def test_leaving_the_line_cancels_a_waiting_job_and_stops_a_running_one(line):
    log, gate = [], threading.Event()
    running = line.submit(gated(log, "a", gate))
    waiting = line.submit(gated(log, "b", gate))
    third = line.submit(gated(log, "c", gate))

    def leave(_):
        raise KeyboardInterrupt  # what a stopped Streamlit script does to its wait

    with pytest.raises(KeyboardInterrupt):
        third.wait(poll=0.01, update=leave, keep=(KeyboardInterrupt,))  # e.g. a rerun: c keeps its place
    assert third.ahead() == 2
    with pytest.raises(KeyboardInterrupt):
        waiting.wait(poll=0.01, update=leave)
    assert third.ahead() == 1  # b left the line
    running.cancel()
    gate.set()
    with pytest.raises(Cancelled):
        running.wait(poll=0.01)
    assert third.wait(poll=0.01) == "c"
    assert [n for n, _ in log] == ["a", "c", "c", "c"]  # a stopped at its first report, b never ran
