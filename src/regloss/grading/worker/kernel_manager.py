"""The grader's side of a sandbox kernel: jupyter_client's kernel manager and client,
tuned for a kernel that lives for one notebook on loopback.

nbgrader's ``Execute`` (nbclient) starts each student's kernel with an
``AsyncKernelManager``. Its waits are sized for a kernel a person starts once and
keeps, not for one kernel per student (on 01 they made each student's kernel take
0.40 s to start instead of 0.18 s, and 0.11 s to stop instead of 0.03 s):

* **connecting.** The client's ZeroMQ sockets connect before the kernel has bound
  its ports and retry every 100 ms (ZeroMQ's ``RECONNECT_IVL``); the iopub
  subscription, which the kernel greets with ``iopub_welcome``, arrives up to
  100 ms after the kernel is up. :class:`SandboxKernelManager` makes its context's
  sockets retry after :data:`RECONNECT_MS`, then twice as long each time up to
  :data:`RECONNECT_MAX_MS` (a kernel that is slow to start is not hammered).
* **flushing iopub.** After the kernel's first ``kernel_info_reply`` and iopub
  message, ``wait_for_ready`` reads iopub until it has been silent for 0.2 s.
  :class:`SandboxKernelClient` reads what is already there and stops: a status
  message that comes later belongs to that ``kernel_info`` request, and nbclient
  keeps only the messages whose parent is the cell it runs.
* **stopping.** ``shutdown_kernel`` polls the killed kernel every 0.1 s; here every
  :data:`POLL_S`. (Whether the kernel is killed at once or asked to stop first is
  nbgrader's ``Execute.shutdown_kernel``, set in :mod:`regloss.grading.worker.autograde`.)

* **large messages.** A message larger than :attr:`SandboxKernelManager.max_message_bytes`
  (:func:`regloss.grading.worker.output_cap.message_bytes`) is refused by ZeroMQ before it
  is read into the grader's memory.

Nothing else changes: the same messages, the same timeouts, and a kernel that
never answers still fails after ``startup_timeout``.
"""

from __future__ import annotations

import zmq
import zmq.asyncio
from jupyter_client import AsyncKernelManager
from jupyter_client.asynchronous import AsyncKernelClient
from traitlets import DottedObjectName, Integer, Type, default

#: How often (ms) a socket retries to connect to a kernel that is not listening yet.
RECONNECT_MS = 5
#: The longest wait (ms) between two retries: each retry waits twice the last, up to this.
RECONNECT_MAX_MS = 100
#: How often (s) a stopping kernel is checked for having exited.
POLL_S = 0.005


class SandboxKernelClient(AsyncKernelClient):
    """An ``AsyncKernelClient`` whose ``wait_for_ready`` does not wait for iopub silence."""

    async def wait_for_ready(self, timeout=None):
        flush = self.iopub_channel.get_msg

        async def no_wait(timeout=None):  # the closing flush: what is already queued, no more
            return await flush(timeout=0)

        self.iopub_channel.get_msg = _FirstWaits(flush, no_wait)
        try:
            await super().wait_for_ready(timeout=timeout)
        finally:
            self.iopub_channel.get_msg = flush


class _FirstWaits:
    """``get_msg`` for iopub during ``wait_for_ready``: while the kernel's readiness is
    being checked (the first iopub message after a ``kernel_info_reply``), the usual
    wait; once a message arrived, the flush that follows takes only what is queued."""

    def __init__(self, wait, no_wait):
        self.wait, self.no_wait, self.got = wait, no_wait, False

    async def __call__(self, timeout=None):
        if self.got:
            return await self.no_wait()
        msg = await self.wait(timeout=timeout)
        self.got = True
        return msg


class SandboxKernelManager(AsyncKernelManager):
    """An ``AsyncKernelManager`` for one short-lived kernel (see the module docstring)."""

    client_class = DottedObjectName(f"{__name__}.SandboxKernelClient")
    client_factory = Type(SandboxKernelClient, klass=AsyncKernelClient)
    max_message_bytes = Integer(0, help="the largest message read from the kernel, in bytes (0: any); "
                                        "a kernel that sends a larger one is disconnected").tag(config=True)

    @default("context")
    def _context_default(self):
        ctx = super()._context_default()
        ctx.setsockopt(zmq.RECONNECT_IVL, RECONNECT_MS)
        # ...doubling up to jupyter_client's own 100 ms while a slow kernel is not up yet
        ctx.setsockopt(zmq.RECONNECT_IVL_MAX, RECONNECT_MAX_MS)
        if self.max_message_bytes:  # the student's kernel is not trusted to keep its output small
            ctx.setsockopt(zmq.MAXMSGSIZE, self.max_message_bytes)
        return ctx

    async def _async_wait(self, pollinterval: float = 0.1) -> None:
        await super()._async_wait(pollinterval=min(pollinterval, POLL_S))
