"""The grader's tuned kernel manager (:mod:`regloss.grading.worker.kernel_manager`): a real
kernel started, run and stopped through it behaves as with jupyter_client's own."""

from __future__ import annotations

import asyncio
from queue import Empty

import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from regloss.grading.worker.kernel_manager import POLL_S, SandboxKernelClient, SandboxKernelManager, _FirstWaits


def run(coro):
    return asyncio.new_event_loop().run_until_complete(coro)


class FakeChannel:
    """``get_msg`` over a list of (seconds until it arrives, message); records the timeouts asked."""

    def __init__(self, messages):
        self.messages, self.asked = list(messages), []

    async def get_msg(self, timeout=None):
        self.asked.append(timeout)
        if self.messages and self.messages[0][0] <= (timeout if timeout is not None else float("inf")):
            return self.messages.pop(0)[1]
        raise Empty


def test_the_first_wait_is_as_asked_and_the_flush_takes_only_what_is_queued():
    ch = FakeChannel([(0.0, "welcome"), (0.0, "status"), (0.1, "late status")])
    waits = _FirstWaits(ch.get_msg, lambda timeout=None: ch.get_msg(timeout=0))
    assert run(waits(timeout=0.2)) == "welcome"
    assert run(waits(timeout=0.2)) == "status"
    with pytest.raises(Empty):  # the late one is not waited for
        run(waits(timeout=0.2))
    assert ch.asked == [0.2, 0, 0]


def test_no_message_yet_keeps_the_full_wait():
    ch = FakeChannel([(0.1, "welcome")])
    waits = _FirstWaits(ch.get_msg, lambda timeout=None: ch.get_msg(timeout=0))
    with pytest.raises(Empty):
        run(waits(timeout=0.05))
    assert not waits.got and run(waits(timeout=0.2)) == "welcome"


@pytest.mark.slow
def test_a_real_kernel_runs_cells_and_stops(tmp_path):
    nb = new_notebook(cells=[new_code_cell("print('first')"), new_code_cell("import os\nprint(os.getpid())"),
                             new_code_cell("1 + 1")])
    seen = []
    client = NotebookClient(nb, kernel_name="python3", timeout=60, shutdown_kernel="immediate",
                            kernel_manager_class=SandboxKernelManager, resources={"metadata": {"path": str(tmp_path)}},
                            on_cell_start=lambda cell, cell_index: seen.append((type(client.km), type(client.kc))))
    client.execute()
    assert seen == [(SandboxKernelManager, SandboxKernelClient)] * 3
    outs = [c.outputs for c in nb.cells]
    assert outs[0][0]["text"] == "first\n"
    assert int(outs[1][0]["text"]) > 0
    assert outs[2][0]["data"]["text/plain"] == "2"
    assert client.km is None or not run(client.km.is_alive())


def test_its_sockets_retry_quickly_and_its_stop_polls_often():
    import zmq

    km = SandboxKernelManager(kernel_name="python3")
    assert km.context.getsockopt(zmq.RECONNECT_IVL) < 100 == km.context.getsockopt(zmq.RECONNECT_IVL_MAX)
    assert POLL_S < 0.1
    assert km.client_factory is SandboxKernelClient
