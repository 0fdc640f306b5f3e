"""A cap on a notebook's total output, held by the grader, not by the student's kernel.

The sandbox kernel cuts each cell's output (``--max-output``), but it is the student's
process: its code can publish on the kernel's sockets directly, and 600 cells of capped
output still made a 58 MB feedback page. Here, in the nbgrader process:

* :class:`CappedExecute` (nbgrader's ``Execute``) keeps a notebook's outputs until they
  reach ``max_total_output`` characters; past that, each cell's further outputs are
  dropped as they arrive, with one note (:func:`note`) where they were;
* :class:`CappedOutputs`, run right after it, applies the same cap to the finished
  notebook (:func:`cap_notebook`), which also covers outputs a display update enlarged;
* :func:`message_bytes` caps one message from the kernel on the grader's ZeroMQ sockets
  (:class:`~regloss.grading.worker.kernel_manager.SandboxKernelManager`): a larger one is
  refused before it is read into memory.

An error output is always kept (nbgrader scores a test cell by whether it raised), its
traceback shortened to its last :data:`TRACEBACK_LINES` lines once the cap is reached.
"""

from __future__ import annotations

from typing import Any

from nbformat import NotebookNode
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Integer
from traitlets.config import Configurable

from regloss.grading.wire.problems import TOTAL_MARK, TRUNCATION_MARK

#: Lines of a traceback kept once the notebook's output is over its cap.
TRACEBACK_LINES = 20


def output_size(out: Any) -> int:
    """Characters an output adds to the notebook: its text, its data (images as base64), its error."""
    kind = out.get("output_type")
    if kind == "stream":
        return len(out.get("text", ""))
    if kind == "error":
        return len(str(out.get("evalue", ""))) + sum(len(str(t)) for t in out.get("traceback", []))
    return sum(len(v) if isinstance(v, str) else len(str(v)) for v in (out.get("data") or {}).values())


def message_bytes(total_chars: int) -> int:
    """The largest message the grader reads from a kernel: no single output may be larger
    than the notebook's whole allowance (a character is at most 4 bytes in UTF-8, 1 in base64),
    plus room for the message's header."""
    return 4 * int(total_chars) + (1 << 20)


def note(total_chars: int) -> NotebookNode:
    """The stream output that stands for what was dropped (its mark is what
    :func:`regloss.grading.wire.problems.kernel_problems` reports)."""
    return new_output("stream", name="stdout",
                      text=f"\n{TRUNCATION_MARK}: {TOTAL_MARK} {total_chars} characters]\n")


def _shortened(out: Any) -> Any:
    out = out.copy()
    out["traceback"] = list(out.get("traceback", []))[-TRACEBACK_LINES:]
    return out


def cap_notebook(nb: Any, total_chars: int) -> list[int]:
    """Keep ``nb``'s outputs, in order, up to ``total_chars`` characters; past that, drop each
    cell's further outputs for one :func:`note` (errors kept, shortened). Returns the indices
    of the cells cut."""
    used, cut = 0, []
    for i, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        kept, dropped = [], False
        for out in cell.get("outputs", []):
            n = output_size(out)
            if _is_note(out):  # capped before
                kept.append(out)
            elif used + n <= total_chars:
                kept.append(out)
                used += n
            elif out.get("output_type") == "error":
                kept.append(_shortened(out))
            else:
                dropped = True
        if dropped and not any(_is_note(o) for o in kept):
            kept.append(note(total_chars))
            cut.append(i)
        if dropped or len(kept) != len(cell.get("outputs", [])):
            cell.outputs = kept
    return cut


def _is_note(out: Any) -> bool:
    return out.get("output_type") == "stream" and TRUNCATION_MARK in out.get("text", "")


class TotalOutputCap(Configurable):
    """The one setting of :class:`CappedExecute` and :class:`CappedOutputs` (configured once, as
    ``TotalOutputCap.max_total_output``, for both)."""

    max_total_output = Integer(0, help="characters of output kept per notebook (0: no cap)").tag(config=True)


class CappedExecute(Execute, TotalOutputCap):
    """nbgrader's ``Execute``, keeping at most :attr:`max_total_output` characters of output
    as they arrive (see the module docstring)."""

    def preprocess(self, nb, resources=None, km=None):
        self._used, self._noted = 0, set()
        return super().preprocess(nb, resources, km)

    def output(self, outs, msg, display_id, cell_index):
        cap = self.max_total_output
        if not cap:
            return super().output(outs, msg, display_id, cell_index)
        size = output_size({**msg.get("content", {}), "output_type": msg["msg_type"]})
        if self._used + size <= cap or msg["msg_type"] == "error":
            self._used += size
            return super().output(outs, msg, display_id, cell_index)
        if cell_index not in self._noted:
            self._noted.add(cell_index)
            outs.append(note(cap))
        return None


class CappedOutputs(NbGraderPreprocessor, TotalOutputCap):
    """:func:`cap_notebook` on the executed notebook."""

    def preprocess(self, nb, resources):
        if self.max_total_output:
            cap_notebook(nb, self.max_total_output)
        return nb, resources


def configure(cfg: Any, total_chars: int) -> None:
    """Grade with :class:`CappedExecute` and :class:`CappedOutputs` at ``total_chars``
    characters per notebook, and the kernel's messages capped at :func:`message_bytes`."""
    from nbgrader.converters.autograde import Autograde

    from regloss.grading.worker.kernel_manager import SandboxKernelManager

    steps = list(Autograde.class_traits()["autograde_preprocessors"].default())
    at = steps.index(Execute)
    steps[at:at + 1] = [CappedExecute, CappedOutputs]
    cfg.Autograde.autograde_preprocessors = steps
    cfg.TotalOutputCap.max_total_output = total_chars
    getattr(cfg, SandboxKernelManager.__name__).max_message_bytes = message_bytes(total_chars)
