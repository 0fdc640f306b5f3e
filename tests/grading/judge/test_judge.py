"""Unit tests of the judge's pure parts: problems as values, the plain-data protocol,
the plan of what runs where, the import policy; and one library-level judging of a
notebook against a real answer process."""

from __future__ import annotations

import functools
import json
import os
import shutil

import nbformat
import numpy as np
import pytest

from regloss.grading.judge import client as jclient
from regloss.grading.judge import judging as judge
from regloss.grading.judge import plan as jplan
from regloss.grading.sandboxed.policy import policy_for
from regloss.grading.settings import Settings
from regloss.grading.wire import problems as P
from regloss.grading.wire import protocol
from regloss.grading.wire.jobs import CellVerdict, InstructorBundle, StudentJob, StudentResult
from tests.harness import ROOT, solution_sources

# --------------------------------------------------------------------------- problems


def _nb(*cells):
    nb = nbformat.v4.new_notebook()
    for gid, src, meta in cells:
        c = nbformat.v4.new_code_cell(src)
        c.metadata["nbgrader"] = {"grade_id": gid, **meta}
        nb.cells.append(c)
    return nb


TEST = {"grade": True, "solution": False, "points": 1}


def test_changed_tests_finds_deleted_and_edited_cells():
    release = _nb(("a", "assert f() == 1", TEST), ("b", "assert g()", TEST), ("s", "def f(): pass",
                                                                                 {"solution": True}))
    sub = _nb(("a", "pass", TEST), ("s", "def f(): return 1", {"solution": True}))
    found = P.changed_tests(sub, release)
    assert [(p.kind, p.cell) for p in found] == [(P.Kind.TEST_EDITED, "a"), (P.Kind.TEST_DELETED, "b")]


def test_kernel_problems_by_kind():
    nb = _nb(("t", "x", TEST), ("u", "y", {}), ("v", "z", {}))
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stderr", text="warn")]
    nb.cells[1].outputs = [nbformat.v4.new_output("error", ename="CellTimeoutError", evalue="", traceback=[])]
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout",
                                                  text="x\n" + P.TRUNCATION_MARK + " after 10 characters]\n")]
    kinds = [(p.kind, p.cell) for p in P.kernel_problems([nb], 60, 2048)]
    assert kinds == [(P.Kind.STDERR, "t"), (P.Kind.TIMEOUT, "u"), (P.Kind.OUTPUT_TRUNCATED, "v")]


def test_judge_disagreement_only_where_the_kernel_passed():
    verdicts = [CellVerdict("a", False, "boom"), CellVerdict("b", False, "bad"), CellVerdict("c", True)]
    found = P.judge_disagreements({"a": True, "b": False, "c": True}, verdicts)
    assert found == [P.Problem(P.Kind.JUDGE_DISAGREES, "a passed in your notebook but failed when checked "
                                                  "independently: boom", "a")]


def test_problem_is_text_with_a_kind_and_round_trips():
    p = P.Problem(P.Kind.TIMEOUT, "cell 3 timed out", "cell 3")
    assert "; ".join([p, "x"]) == "cell 3 timed out; x"
    assert P.Problem.from_dict(json.loads(json.dumps(p.to_dict()))) == p
    assert P.scored_zero([P.Problem(P.Kind.WORKER_FAILED, "x")]) and not P.scored_zero([p])


def test_jobs_ship_as_bytes():
    b = InstructorBundle("01_l1_mse", "c = 1", {"a.ipynb": b"{}", "losses.py": b"x"}, {"a.ipynb": b"{}"}, b"db")
    job = StudentJob("s1", {"a.ipynb": b"\x00\xff"}, b, Settings(timeout=5), [P.Problem(P.Kind.INTAKE, "x")])
    back = StudentJob.from_bytes(job.to_bytes())
    assert back == job and back.problems[0].kind == P.Kind.INTAKE
    res = StudentResult("s1", [P.Problem(P.Kind.TIMEOUT, "t")], True, verdicts=[CellVerdict("a", True)],
                        gradebook=b"db", outputs={"feedback/x.html": b"<p>"})
    assert StudentResult.from_bytes(res.to_bytes()) == res


# --------------------------------------------------------------------------- protocol

VALUES = [None, True, 3, -2**70, 1.5, float("inf"), "é", b"\x00", 1 + 2j, [1, (2, 3)], {"a": [1.0], 2: None},
          np.arange(6, dtype=np.float32).reshape(2, 3), np.array(2.5), np.float32(1.25), np.float64(2.0),
          np.int64(7), np.array(["a", "bc"]), np.zeros((0, 3)), np.array([True, False])]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_plain_data_round_trips_with_its_type(value):
    back = protocol.decode(json.loads(json.dumps(protocol.encode(value))))
    assert type(back) is type(value)
    if isinstance(value, np.ndarray):
        assert back.dtype == value.dtype and back.shape == value.shape and np.array_equal(back, value)
    else:
        assert back == value or (back != back and value != value)


@pytest.mark.parametrize("value", [object(), np.array([object()]), np.ma.array([1.0]), lambda: 1,
                                   np.zeros(2, dtype=[("a", "f8")])],
                         ids=["object", "object-array", "masked-array", "lambda", "structured-array"])
def test_not_plain_data_is_refused(value):
    with pytest.raises(protocol.NotPlainData):
        protocol.encode(value)


@pytest.mark.parametrize("wire", [{"x": 1}, {"a": ["|O", [1], ""]}, [1, 2], {"f": "1e999"}, {"ref": ["os", "system"]}])
def test_bad_wire_data_is_refused(wire):
    with pytest.raises(protocol.ProtocolError):
        protocol.decode(wire)


def test_frames_round_trip_and_refuse_garbage():
    r, w = os.pipe()
    protocol.send(w, {"ok": protocol.encode(np.ones(3))})
    assert np.array_equal(protocol.decode(protocol.receive(r)["ok"]), np.ones(3))
    os.write(w, b"\x00\x00\x00\x03abc")
    with pytest.raises(protocol.ProtocolError):
        protocol.receive(r)
    os.close(w)
    with pytest.raises(protocol.ProtocolError):
        protocol.receive(r)
    os.close(r)


def test_remote_exceptions_keep_their_builtin_base_and_never_exit():
    e = jclient.remote_exception(["LossError", "ValueError", "bad delta"])
    assert isinstance(e, ValueError) and type(e).__name__ == "LossError" and str(e) == "bad delta"
    assert type(jclient.remote_exception(["ValueError", "ValueError", "x"])) is ValueError
    assert isinstance(jclient.remote_exception(["SystemExit", "SystemExit", "0"]), RuntimeError)


def test_callables_cross_by_name_or_are_refused():
    assert jclient._crossing(np.mean) == {"ref": ["numpy", "mean"]}
    part = jclient._crossing(functools.partial(np.clip, a_min=0))
    assert part["partial"][0] == {"ref": ["numpy", "clip"]}
    with pytest.raises(jclient.NotJudgeCompatible, match="lambda"):
        jclient._crossing(lambda x: x)


# --------------------------------------------------------------------------- plan and policy


def test_plan_runs_only_the_setup_the_tests_need_and_keeps_student_order():
    src = _nb(("setup", "import numpy as np\nfrom regloss.checks.compare import check_loss", {}),
              ("prose", "print(f(np.ones(2)))", {}),
              ("f", "def f(x):\n    return x", {"solution": True}),
              ("test_f__visible", "check_loss(f, 'l1_loss', [])", TEST))
    stud = _nb(("setup", "import numpy as np", {}), ("f", "def f(x):\n    return 2 * x", {"solution": True}),
               ("extra", "y = 1", {}), ("test_f__visible", "pass", TEST))
    p = jplan.plan(json.loads(nbformat.writes(src)), json.loads(nbformat.writes(stud)))
    assert [s[0] for s in p.steps] == ["setup", "test"]
    assert "f" in p.student_names and "check_loss" not in p.student_names
    assert p.student_before["test_f__visible"] == ["import numpy as np", "def f(x):\n    return 2 * x", "y = 1"]


@pytest.mark.parametrize(("src", "defined", "read"), [
    ("for label, v in d.items():\n    print(label, v)", {"label", "v"}, {"d", "print"}),  # its own loop names
    ("for label in d:\n    pass\nprint(label)", {"label"}, {"d", "print", "label"}),  # d may be empty
    ("x = x + 1", {"x"}, {"x"}),
    ("x += 1", {"x"}, {"x"}),
    ("x = 1\nx += 1", {"x"}, set()),
    ("a = 1\ndel a\nprint(a)", {"a"}, {"a", "print"}),
    ("if c:\n    k = 1\nprint(k)", {"k"}, {"c", "k", "print"}),  # bound in a branch only
    ("def f():\n    return y + z\nz = 1", {"f", "z"}, {"y"}),  # read when called; z is the cell's
    ("def f(a, b=D):\n    v = a\n    return v", {"f"}, {"D"}),  # locals are not the notebook's
    ("def f(a):\n    global G\n    G = a", {"f", "G"}, set()),
    ("[a for a in b if c]", set(), {"b", "c"}),
    ("[n := t for t in ts]", {"n"}, {"ts"}),
    ("g = lambda t: t + w", {"g"}, {"w"}),
    ("class C(B):\n    q = 1\n    r = q + s", {"C"}, {"B", "s"}),
    ("with open(p) as fh:\n    fh.read()", {"fh"}, {"open", "p"}),
    ("try:\n    import q\nexcept E as err:\n    print(err)", {"q", "err"}, {"E", "print"}),
    ("match p:\n    case [a, *rest] if a > t:\n        print(rest)", {"a", "rest"}, {"p", "t", "print"}),
    ("%time y = f(x)", set(), {"get_ipython"}),  # a magic's code is a string to the judge
    ("def broken(:", set(), set()),
])
def test_names_a_cell_binds_and_needs_from_the_cells_before_it(src, defined, read):
    assert jplan.names_of(src) == (defined, read)


def test_a_setup_cell_whose_names_are_only_its_helpers_locals_is_not_run():
    """07's Barron-family demo (a minimisation calling the student's loss thousands of times,
    27 s across the process boundary) defines a helper with a local ``v``; a later test's loop
    binds its own ``v``: the demo is not needed for that test."""
    src = _nb(("setup", "import numpy as np", {}),
              ("demo", "def gap(t):\n    v = f(t)\n    return v\nprint(gap(1.0))", {}),
              ("f", "def f(x):\n    return x", {"solution": True}),
              ("test_f__visible", "for v in (1.0, 2.0):\n    assert f(np.float64(v)) == v", TEST))
    nb = json.loads(nbformat.writes(src))
    p = jplan.plan(nb, nb)
    assert p.steps[0] == ("setup", "import numpy as np") and [s[0] for s in p.steps] == ["setup", "test"]


def test_policy_blocks_the_reference_libraries_except_where_allowed():
    pol = policy_for("01_l1_mse")
    assert pol.is_blocked("torch.nn") and pol.is_blocked("scipy") and pol.is_blocked("regloss.checks.reference")
    assert not pol.is_blocked("numpy") and not pol.is_blocked("regloss.teaching")
    assert not policy_for("08_training").is_blocked("torch")
    assert not policy_for("x", {"regloss": {"answer_may_import": ["scipy"]}}).is_blocked("scipy")


# --------------------------------------------------------------------------- a real answer process


@pytest.fixture
def judged(tmp_path):
    def run(replace=None):
        a = "01_l1_mse"
        src = json.loads((ROOT / "solutions" / a / f"{a}.ipynb").read_text())
        stud = json.loads(json.dumps(src))
        for c in stud["cells"]:
            gid = c["metadata"].get("nbgrader", {}).get("grade_id")
            if replace and gid in replace:
                c["source"] = replace[gid]
        ans = tmp_path / "answer"
        ans.mkdir(exist_ok=True)
        cwd = os.getcwd()
        os.chdir(tmp_path)
        client = jclient.AnswerClient(str(ans), policy_for(a).blocked, 20)
        try:
            return {v.grade_id: v for v in judge.judge_notebook(src, stud, client, 20)}, client
        finally:
            client.stop()
            os.chdir(cwd)

    return run


@pytest.mark.slow  # an answer process
def test_judge_passes_the_solution_and_fails_delegation_to_torch(judged):
    verdicts, _ = judged()
    assert all(v.passed for v in verdicts.values()), {k: v.message for k, v in verdicts.items() if not v.passed}
    torchy = solution_sources("01_l1_mse")["l1_loss"].replace(
        "def l1_loss(input, target, reduction=\"mean\"):",
        "def l1_loss(input, target, reduction=\"mean\"):\n    import torch\n"
        "    return torch.nn.functional.l1_loss(torch.tensor(input), torch.tensor(target), "
        "reduction=reduction).numpy()")
    verdicts, client = judged({"l1_loss": torchy})
    assert not verdicts["test_l1_loss__visible"].passed
    assert "torch" in verdicts["test_l1_loss__visible"].message
    assert verdicts["test_mse_loss__hidden"].passed


@pytest.mark.slow  # an answer process
def test_a_crashing_answer_process_is_restarted_for_the_next_tests(judged):
    crash = solution_sources("01_l1_mse")["l1_loss"].replace(
        '"""Mean absolute error', '"""x"""\n    import os, signal; os.kill(os.getpid(), signal.SIGKILL)\n    """')
    verdicts, client = judged({"l1_loss": crash})
    assert not verdicts["test_l1_loss__visible"].passed and "stopped" in verdicts["test_l1_loss__visible"].message
    assert verdicts["test_mse_loss__visible"].passed and verdicts["test_mse_loss_grad__hidden"].passed
    assert client.deaths >= 1


@pytest.mark.slow  # an answer process
def test_os_exit_in_a_cell_only_ends_that_cell(judged):
    sol = solution_sources("01_l1_mse")
    verdicts, client = judged({"mse_loss": "import os\nos._exit(1)\n" + sol["mse_loss"]})
    failed = {g for g, v in verdicts.items() if not v.passed}
    # mse_loss is undefined (as in a kernel); the finite-difference check of its gradient uses it too
    assert failed == {"test_mse_loss__visible", "test_mse_loss__hidden", "test_mse_loss_grad__visible"}
    assert client.deaths == 0 and any("os._exit(1)" in str(e) for e in client.errors)


# --------------------------------------------------------------------------- feedback


def test_feedback_hides_hidden_sources_and_puts_the_message_first(tmp_path):
    from regloss.grading.worker import feedback

    nb = nbformat.read(str(ROOT / "solutions" / "01_l1_mse" / "01_l1_mse.ipynb"), as_version=4)
    tb = ["\x1b[0;31mAssertionError\x1b[0m  Traceback",
          "File \x1b[0;32m/x/site-packages/regloss/checks/compare.py:9\x1b[0m",
          "Cell In[4], line 3", "AssertionError: gave 4, PyTorch gives 2"]
    for c in nb.cells:
        if c.metadata.get("nbgrader", {}).get("grade_id") == "test_l1_loss__visible":
            c.outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue="gave 4", traceback=tb)]
    path = tmp_path / "a.ipynb"
    nbformat.write(nb, str(path))
    tests = {"test_l1_loss__visible": False, "test_l1_loss__hidden": True}
    verdicts = {"test_l1_loss__visible": {"passed": False, "message": "gave 4, PyTorch gives 2: did you sum?"},
                "test_l1_loss__hidden": {"passed": False, "message": "seed case: gave 9"}}
    feedback.prepare_notebook(path, verdicts, tests, "message")
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nbformat.read(str(path), as_version=4).cells}
    hidden, visible = cells["test_l1_loss__hidden"], cells["test_l1_loss__visible"]
    assert hidden.source == feedback.HIDDEN_NOTE and "probe_cases" not in str(hidden)
    assert "seed case: gave 9" in hidden.outputs[0]["data"]["text/html"]
    assert "did you sum?" in visible.outputs[0]["data"]["text/html"]
    assert [t for t in visible.outputs[1]["traceback"] if "regloss/checks" in t] == []
    assert "Cell In[4]" in "".join(visible.outputs[1]["traceback"])
    markdown = "".join(c.source for c in cells.values() if c.cell_type == "markdown")
    assert "<math" in markdown and "$" not in markdown.replace("`$`", "")


@pytest.mark.parametrize("withheld, says", [(set(), True), ({"test_l1_loss__hidden"}, False)])
def test_feedback_claims_a_pass_in_the_notebook_only_where_the_kernel_ran_the_whole_cell(tmp_path, withheld, says):
    """A hidden-test cell the kernel ran without its hidden tests passes there whatever the
    student wrote: its box must not say "it passed in your notebook"."""
    from regloss.grading.worker import feedback

    path = tmp_path / "a.ipynb"
    shutil.copy(ROOT / "solutions" / "01_l1_mse" / "01_l1_mse.ipynb", path)
    tests = {"test_l1_loss__hidden": True}
    feedback.prepare_notebook(path, {"test_l1_loss__hidden": {"passed": False, "message": "seed case: gave 9"}},
                              tests, "message", withheld)
    cell = next(c for c in nbformat.read(str(path), as_version=4).cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == "test_l1_loss__hidden")
    assert ("it passed in your notebook" in cell.outputs[0]["data"]["text/html"]) is says


def test_feedback_code_mode_keeps_the_hidden_source(tmp_path):
    from regloss.grading.worker import feedback

    path = tmp_path / "a.ipynb"
    shutil.copy(ROOT / "solutions" / "01_l1_mse" / "01_l1_mse.ipynb", path)
    feedback.prepare_notebook(path, {}, {"test_l1_loss__hidden": True}, "code")
    src = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source
           for c in nbformat.read(str(path), as_version=4).cells}
    assert "BEGIN HIDDEN TESTS" in src["test_l1_loss__hidden"]


@pytest.mark.parametrize("md, has_math", [("the error $e = x - t$ here", True), ("$$\\sum_i e_i^2$$", True),
                                          ("costs $5 and $6", False), ("code `$x$` stays", False)])
def test_render_math(md, has_math):
    from regloss.grading.worker.feedback import render_math

    out = render_math(md)
    assert ("<math" in out) == has_math


@pytest.mark.slow  # an answer process
def test_torch_stays_out_of_reach_without_the_import_blocker(tmp_path):
    """In the mount namespace, removing the import blocker does not bring torch back."""
    from regloss.grading.sandboxed.isolation import probe

    iso = probe(True)
    if not iso.filesystem:
        pytest.skip("this machine allows no mount namespace: the import blocker is all there is")
    a = "01_l1_mse"
    src = json.loads((ROOT / "solutions" / a / f"{a}.ipynb").read_text())
    sneak = ("import sys\nsys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != 'ImportBlocker']\n"
             "for _k in [k for k in sys.modules if k.split('.')[0] in ('torch', 'scipy')]:\n    del sys.modules[_k]\n"
             "import importlib\n"
             "def l1_loss(input, target, reduction='mean'):\n"
             "    torch = importlib.import_module('torch')\n"
             "    return torch.nn.functional.l1_loss(torch.tensor(input), torch.tensor(target), reduction=reduction)"
             ".numpy()\n")
    stud = json.loads(json.dumps(src))
    for c in stud["cells"]:
        if c["metadata"].get("nbgrader", {}).get("grade_id") == "l1_loss":
            c["source"] = sneak
    ans = tmp_path / "answer"
    ans.mkdir()
    cwd = os.getcwd()
    os.chdir(tmp_path)
    client = jclient.AnswerClient(str(ans), policy_for(a).blocked, 20, filesystem=True, hide=[str(tmp_path)])
    try:
        verdicts = {v.grade_id: v for v in judge.judge_notebook(src, stud, client, 20,
                                                                  only={"test_l1_loss__visible"})}
    finally:
        client.stop()
        os.chdir(cwd)
    v = verdicts["test_l1_loss__visible"]
    # torch's folder is an empty mount there: no module, or an empty namespace package
    assert not v.passed and ("No module named 'torch'" in v.message
                             or "module 'torch' has no attribute" in v.message), v.message


def test_a_test_that_cannot_cross_keeps_the_kernels_verdict_and_says_so():
    v = CellVerdict("test_x__visible", False, "cannot be checked", judged=False)
    assert P.judge_disagreements({"test_x__visible": True}, [v]) == []
    v2 = CellVerdict(**json.loads(json.dumps(v.__dict__)))
    assert v2 == v


def test_unjudged_cells_carry_the_kernels_verdict():
    from regloss.grading.worker.student import _kernel_stands

    nb = nbformat.v4.new_notebook()
    c = nbformat.v4.new_code_cell("x")
    c.metadata["nbgrader"] = {"grade_id": "t2"}
    c.outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue="bad", traceback=[])]
    nb.cells.append(c)
    vs = [CellVerdict("t1", False, "cannot", judged=False), CellVerdict("t2", False, "cannot", judged=False),
          CellVerdict("t3", False, "judged: wrong")]
    _kernel_stands(vs, {"t1": True, "t2": False, "t3": True}, [nb])
    assert [(v.passed, v.message) for v in vs] == [(True, ""), (False, "AssertionError: bad"), (False, "judged: wrong")]


# --------------------------------------------------------------------------- calls beside a student function


@pytest.fixture
def student(tmp_path):
    """``student(source)`` -> {name: RemoteFunction} of the functions ``source`` defines, in a
    real answer process (blocking 01's modules)."""
    clients = []

    def start(source, names):
        ans = tmp_path / "answer"
        ans.mkdir(exist_ok=True)
        client = jclient.AnswerClient(str(ans), policy_for("01_l1_mse").blocked, 20)
        clients.append(client)
        client.run([source])
        assert client.errors == []
        got = client.resolve(names)
        return {n: jclient.RemoteFunction(client, n, got[n][1], client.generation) for n in names}

    cwd = os.getcwd()
    os.chdir(tmp_path)
    yield start
    for c in clients:
        c.stop()
    os.chdir(cwd)


@pytest.mark.slow  # an answer process
def test_call_beside_runs_an_importable_function_with_the_student_function(student):
    f = student("def double(x):\n    return 2 * x\n", ["double"])["double"]
    # the proxy crosses as its handle: numpy applies the student's own function, over there
    out = f.call_beside(np.apply_along_axis, f, 0, np.arange(6.0).reshape(2, 3))
    assert type(out) is np.ndarray and np.array_equal(out, 2 * np.arange(6.0).reshape(2, 3))
    assert f.call_beside(sorted, [3, -1, 2], key=f) == [-1, 2, 3]
    assert f.call_beside(functools.partial(sorted, key=f, reverse=True), [3, -1, 2]) == [3, 2, -1]
    with pytest.raises(ValueError, match="axis 5"):  # numpy's AxisError, raised there, keeps its built-in base
        f.call_beside(np.apply_along_axis, f, 5, np.ones(2))
    with pytest.raises(jclient.NotJudgeCompatible):
        f.call_beside(lambda g, x: g(x), f, 1.0)
    with pytest.raises(jclient.NotJudgeCompatible):
        f.call_beside(3, 1.0)


@pytest.mark.slow  # an answer process
def test_a_call_names_its_function_only_by_handle_or_by_name(student):
    f = student("def double(x):\n    return 2 * x\n", ["double"])["double"]
    client = f._client
    for bad in ({"handle": f.current_handle()}, {"l": []}, {"ref": ["numpy", "pi"]}):
        reply = client._request({"op": protocol.CALL, "fn": bad, "args": protocol.encode((1.0,)),
                                 "kwargs": protocol.encode({})}, 25)
        assert reply["error"][0] == "ProtocolError", reply
    assert f(1.5) == 3.0  # the process still serves


# --------------------------------------------------------------------------- generators; arguments that come back


@pytest.mark.parametrize("name", protocol.BIT_GENERATORS)
def test_generators_cross_as_their_state(name):
    rng = np.random.Generator(getattr(np.random, name)(7))
    rng.standard_normal(3)
    back = protocol.decode(json.loads(json.dumps(protocol.encode(rng))))
    assert type(back) is np.random.Generator and type(back.bit_generator) is type(rng.bit_generator)
    assert np.array_equal(back.standard_normal(5), rng.standard_normal(5))


def test_other_generators_are_refused():
    class Mine(np.random.PCG64):
        pass

    with pytest.raises(protocol.NotPlainData):
        protocol.encode(np.random.Generator(Mine(1)))
    with pytest.raises(protocol.NotPlainData):
        protocol.encode(np.random.RandomState(1))
    state = protocol.encode(np.random.default_rng(1).bit_generator.state)
    for wire in ({"rng": ["BitGenerator", state]}, {"rng": ["MT19937", state]}, {"rng": ["PCG64", {"l": [1]}]}):
        with pytest.raises(protocol.ProtocolError):
            protocol.decode(wire)


def test_mutable_arguments_are_found_nested():
    a, b, g = np.zeros(2), np.ones(3), np.random.default_rng(0)
    found = protocol.mutable_arguments((a, [1, (b,)]), {"rng": g, "opts": {"w": a}, "x": 2.0})
    assert found == {("a", 0): a, ("a", 1, 1, 0): b, ("k", "rng"): g, ("k", "opts", "w"): a}


ARGS_SRC = '''
import numpy as np

def median_sorting(x):
    x.sort()
    return float(x[len(x) // 2])

def noisy(n, rng, opts):
    opts["w"][:] = -1.0
    return rng.standard_normal(n) + rng.uniform(size=n)

def untouched(x, rng):
    return float(x.sum())

def raises_after_sorting(x):
    x.sort()
    raise ValueError("after sorting")
'''


@pytest.mark.slow  # an answer process
def test_arguments_changed_in_place_come_back(student):
    fs = student(ARGS_SRC, ["median_sorting", "noisy", "untouched", "raises_after_sorting"])
    x = np.array([3.0, 1.0, 2.0])
    assert fs["median_sorting"](x) == 2.0 and x.tolist() == [1.0, 2.0, 3.0]  # the in-place sort is seen
    # a generator is advanced exactly as in-process; an array nested in a dict is written too
    rng, here = np.random.default_rng(5), np.random.default_rng(5)
    opts = {"w": np.zeros(2)}
    out = fs["noisy"](4, rng, opts)
    assert np.array_equal(out, here.standard_normal(4) + here.uniform(size=4))
    assert rng.bit_generator.state == here.bit_generator.state and opts["w"].tolist() == [-1.0, -1.0]
    # nothing changed: nothing comes back (and nothing is disturbed)
    y, r2 = np.arange(3.0), np.random.default_rng(1)
    state = r2.bit_generator.state
    assert fs["untouched"](y, rng=r2) == 3.0 and r2.bit_generator.state == state
    # a call that raises still shows what it changed, as in a kernel
    z = np.array([2, 1])
    with pytest.raises(ValueError, match="after sorting"):
        fs["raises_after_sorting"](z)
    assert z.tolist() == [1, 2]
    # a read-only array of the judge is left as it was
    ro = np.array([3.0, 1.0, 2.0])
    ro.flags.writeable = False
    fs["median_sorting"](ro)
    assert ro.tolist() == [3.0, 1.0, 2.0]


def test_a_reply_may_write_only_the_arguments_of_the_call():
    x, rng, other = np.array([3.0, 1.0]), np.random.default_rng(0), np.zeros(2)
    enc = protocol.encode
    jclient.write_back((x,), {"rng": rng}, [[enc(["a", 0]), enc(np.array([1.0, 3.0]))]])
    assert x.tolist() == [1.0, 3.0]
    hostile = [[enc(["a", 1]), enc(np.ones(2))],  # no second argument
               [enc(["k", "other"]), enc(np.ones(2))],  # not a keyword of the call
               [enc(["a", 0, 0]), enc(np.ones(2))],  # inside an array
               [enc(["k", "rng"]), enc(np.ones(2))],  # an array for a generator
               [enc(["a", 0]), enc(np.random.default_rng(1))],  # a generator for an array
               [enc(["a", [0]]), enc(np.ones(2))],  # not a path
               [enc(["a", 0]), {"ref": ["os", "system"]}],  # not plain data
               [enc(["a", 0])]]
    for bad in hostile:
        with pytest.raises(jclient.AnswerGone):
            jclient.write_back((x,), {"rng": rng}, [[enc(["a", 0]), enc(np.array([9.0, 9.0]))], bad])
        assert x.tolist() == [1.0, 3.0] and other.tolist() == [0.0, 0.0]  # all or nothing
    with pytest.raises(jclient.AnswerGone):
        jclient.write_back((x,), {}, {"a": 1})
    jclient.write_back((x,), {}, [[enc(["a", 0]), enc(np.zeros(3))]])  # another shape: left alone
    assert x.tolist() == [1.0, 3.0]


# --------------------------------------------------------------------------- own work beside given functions

OWN_SRC = '''
import numpy as np

def study(draw, rng):
    return float(np.mean(draw(rng, 5)))

def cheat(draw, rng):
    from regloss.teaching import noise
    return float(np.mean(noise.laplace(rng, 5)))

def helper(rng, size):
    from regloss.teaching import noise
    return noise.laplace(rng, size)

def helper_fit(x, Y):
    from regloss.teaching import noise
    return noise.laplace(np.random.default_rng(0), 2), np.zeros(2)

def sneaky(fitter, x, Y):
    return fitter(x, Y, fit=helper_fit)[0].tolist()
'''


def _kernel_study(draw, rng):
    return float(np.mean(draw(rng, 5)))


def _kernel_cheat(draw, rng):
    from regloss.teaching import noise

    return float(np.mean(noise.laplace(rng, 5)))


@pytest.mark.slow  # an answer process
def test_own_work_does_not_count_what_the_given_functions_call(student):
    """A noise model of regloss.teaching handed to the student's study is the test's work,
    not the student's; a call of regloss by the student's own code still counts -- in the
    kernel and in the answer process alike (where the student's own function passed as an
    argument is not exempt either)."""
    from regloss.checks.own_work import forbidden_calls
    from regloss.teaching.noise import gaussian, student_t

    draw = functools.partial(student_t, df=2)
    assert forbidden_calls(_kernel_study, draw, np.random.default_rng(0))[0] == []
    assert forbidden_calls(_kernel_study, {"a": [gaussian]}["a"][0], np.random.default_rng(0))[0] == []
    assert "regloss.teaching.noise.laplace" in forbidden_calls(_kernel_cheat, draw, np.random.default_rng(0))[0]
    fs = student(OWN_SRC, ["study", "cheat", "helper", "sneaky"])
    assert forbidden_calls(fs["study"], draw, np.random.default_rng(0))[0] == []
    assert "regloss.teaching.noise.laplace" in forbidden_calls(fs["cheat"], draw, np.random.default_rng(0))[0]
    assert "regloss.teaching.noise.laplace" in forbidden_calls(fs["study"], fs["helper"], np.random.default_rng(0))[0]
    # the student's own code, called back from inside a given function, counts again
    from regloss.teaching.shrinkage import shrunk_fit

    given = functools.partial(shrunk_fit, factor=1.0)
    x, Y = np.arange(3.0), np.ones((2, 3))
    assert "regloss.teaching.noise.laplace" in forbidden_calls(fs["sneaky"], given, x, Y)[0]
