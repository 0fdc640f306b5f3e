"""The answer zygote: answer processes forked with numpy and matplotlib imported are
sandboxed exactly as answer processes started afresh, and share nothing.

The zygote must be forked by a process that has imported nothing an answer policy
blocks (the warm process starts it before importing torch), so each test runs a small
script in a new interpreter that starts one, like the warm process does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from regloss.grading.sandboxed.isolation import probe
from tests.harness import ROOT

pytestmark = pytest.mark.slow  # starts zygotes and answer processes

SCRIPT = textwrap.dedent("""
    import json, os, sys
    from regloss.startup import skip_slow_optional_imports
    skip_slow_optional_imports()  # as the warm process does
    from regloss.grading.sandboxed import answer_zygote as zg
    z = zg.start_answer_zygote()
    z.wait_ready()
    from regloss.grading.judge import client as jclient
    from regloss.grading.sandboxed.policy import policy_for

    answer_dir, secret, filesystem = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
    out = {}

    def client():
        c = jclient.AnswerClient(answer_dir, policy_for("01_l1_mse").blocked, 20, filesystem=filesystem,
                               hide=[secret])
        c.start()
        out.setdefault("forked", []).append(type(c.proc).__name__)
        return c

    first = client()
    first.run([
        "import sys, numpy\\n"
        "preloaded = 'matplotlib.pyplot' in sys.modules\\n"
        "optional_importable = sys.modules.get('rfc3987_syntax', 0) is not None\\n"
        "import torch\\n"
        "try:\\n    torch.ones(1)\\n    torch_used = True\\nexcept ImportError:\\n    torch_used = False\\n"
        "try:\\n    secret_seen = open(%r).read()\\nexcept OSError:\\n    secret_seen = None\\n"
        "numpy.LEFT_BEHIND = 1\\n"
        "left = 'from the first student'\\n" % os.path.join(secret, "answers.txt"),
    ])
    got = first.resolve(["preloaded", "optional_importable", "torch_used", "secret_seen", "left"])
    out["first"] = {k: v[1] if v[0] == "value" else v[0] for k, v in got.items()}
    first.stop()

    second = client()
    second.run(["import numpy\\nnumpy_marked = hasattr(numpy, 'LEFT_BEHIND')\\n"])
    got = second.resolve(["left", "numpy_marked"])
    out["second"] = {k: v[1] if v[0] == "value" else v[0] for k, v in got.items()}
    second.stop()
    print(json.dumps(out))
""")


@pytest.mark.parametrize("filesystem", [False, True], ids=["import-blocker", "mount-namespace"])
def test_forked_answer_processes_are_sandboxed_and_share_nothing(tmp_path, filesystem):
    if filesystem and not probe(True).filesystem:
        pytest.skip("this machine does not allow mount namespaces")
    answer_dir, secret = tmp_path / "answer", tmp_path / "secret"
    answer_dir.mkdir()
    secret.mkdir()
    (secret / "answers.txt").write_text("the instructor's answers")
    script = tmp_path / "start.py"
    script.write_text(SCRIPT)
    p = subprocess.run([sys.executable, str(script), str(answer_dir), str(secret), "1" if filesystem else "0"],
                       capture_output=True, text=True, timeout=300, cwd=str(ROOT),
                       env={**os.environ, "MPLBACKEND": "Agg"})
    assert p.returncode == 0, p.stderr[-3000:]
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["forked"] == ["Forked", "Forked"], "the answer processes were not forked by the zygote"
    first, second = out["first"], out["second"]
    assert first["preloaded"] is True and first["left"] == "from the first student"
    assert first["optional_importable"] is True, "the grader's skipped optional import reached student code"
    assert first["torch_used"] is False, "torch was usable in a forked answer process"
    if filesystem:
        assert first["secret_seen"] is None, "a hidden folder was readable from a forked answer process"
    assert second["left"] == "missing" and second["numpy_marked"] is False, \
        "the second answer process saw what the first left behind"


def test_a_zygote_that_would_hold_a_blocked_module_refuses_to_start(tmp_path):
    """Forked from a process that has imported torch, the zygote would hand torch to
    every student: it says it is not ready, and judges start answer processes afresh."""
    script = tmp_path / "tainted.py"
    script.write_text(textwrap.dedent("""
        import torch
        from regloss.grading.sandboxed import answer_zygote as zg
        z = zg.start_answer_zygote()
        try:
            z.wait_ready()
            print("ready")
        except RuntimeError as exc:
            print("refused:", exc)
    """))
    p = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=str(ROOT))
    assert p.stdout.strip().startswith("refused"), p.stdout + p.stderr[-2000:]


# A student's code writes what the warm process says to the grading parent ("done"), and
# what the zygotes answer, on every pipe and Unix socket it holds (not the kernel's own
# TCP sockets, whose corruption only stops that student's notebook), in the kernel and in
# the answer process alike.
FAKE_DONE = '''
import os as _os, socket as _socket, stat as _stat
for _fd in range(3, 1024):
    try:
        _mode = _os.fstat(_fd).st_mode
        if _stat.S_ISSOCK(_mode):
            _s = _socket.socket(fileno=_fd)
            _unix = _s.family == _socket.AF_UNIX
            _s.detach()
            if not _unix:
                continue
        elif not _stat.S_ISFIFO(_mode):
            continue
        _os.write(_fd, b'{"done": true}\\n{"ready": true}\\n{"pid": 1}')
    except OSError:
        pass
'''


def test_student_code_holds_no_descriptor_of_the_grader(tmp_path):
    """Kernels and answer processes are forked by zygotes of the warm process: they hold
    none of its descriptors (its pipe to the grading parent, the zygotes' sockets), so a
    student who writes fake replies on every pipe and socket changes nothing for the
    students graded after them by the same worker."""
    import nbformat

    from tests.grading.run.test_grade_command import FULL, NB, A, read_grades, regloss, student

    subs = tmp_path / "subs"
    kinds = {"a-fake-done": student(prepend={"l1_loss": FAKE_DONE, "mse_loss": FAKE_DONE}),
             "b-honest": student(), "c-honest": student()}
    for sid, nb in kinds.items():
        (subs / sid).mkdir(parents=True)
        nbformat.write(nb, str(subs / sid / NB))
    out = tmp_path / "out"
    p = regloss("grade", A, str(subs), "--out", str(out), "--workers", "1", "--timeout", "20", "--no-progress",
                timeout=900)
    assert p.returncode == 0, p.stdout + p.stderr
    rows = read_grades(out)
    assert "a-fake-done" in rows  # graded (what its own corrupted pipes cost it is its affair)
    for sid in ("b-honest", "c-honest"):
        assert float(rows[sid]["auto_score"]) == FULL and rows[sid]["problems"] == "", rows[sid]
