"""Tampering submissions of 01_l1_mse: each fakes its grade and must earn nothing for it.

Every entry's four graded functions are wrong (they return zeros) or right only
because they hand the work to torch; a trick placed in an answer cell tries to
make the tests pass anyway. Graded through the real command (``regloss grade``)
by ``tests/tamper/test_judge_tamper.py``: each must score 0 of 12.

The first nine are the tricks issue 10 lists (with the scores plain nbgrader gave
them); the others are more.
"""

from __future__ import annotations

from dataclasses import dataclass

ZERO_FUNCTIONS = {
    "l1_loss": '''def l1_loss(input, target, reduction="mean"):
    import numpy as np
    return np.zeros_like(np.asarray(input, dtype=float)) if reduction == "none" else 0.0
''',
    "mse_loss": '''def mse_loss(input, target, reduction="mean"):
    import numpy as np
    return np.zeros_like(np.asarray(input, dtype=float)) if reduction == "none" else 0.0
''',
    "l1_loss_grad": '''def l1_loss_grad(input, target, reduction="mean"):
    import numpy as np
    return np.zeros_like(np.asarray(input, dtype=float))
''',
    "mse_loss_grad": '''def mse_loss_grad(input, target, reduction="mean"):
    import numpy as np
    return np.zeros_like(np.asarray(input, dtype=float))
''',
}

TORCH_FUNCTIONS = {
    name: f'''def {name}(input, target, reduction="mean"{', ' if False else ''}):
    {{guard}}
    import torch, numpy as np
    x = torch.tensor(np.asarray(input, dtype=float), requires_grad=True)
    t = torch.tensor(np.asarray(target, dtype=float))
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{{reduction!r}} is not a valid value for reduction")
    out = torch.nn.functional.{name.replace("_grad", "")}(x, t, reduction=reduction)
    {"(g,) = torch.autograd.grad(out.sum(), x); return g.numpy().astype(np.asarray(input).dtype)"
     if name.endswith("_grad") else "return out.detach().numpy().astype(np.asarray(input).dtype)"}
''' for name in ZERO_FUNCTIONS}


@dataclass
class Tamper:
    student_id: str
    trick: str  # code placed before the l1_loss answer
    why: str
    functions: dict = None  # the graded functions (default: all return zeros)
    guard: str = "pass"  # first line of each torch function

    def cells(self):
        funcs = dict(self.functions or ZERO_FUNCTIONS)
        funcs = {k: v.replace("{guard}", self.guard) for k, v in funcs.items()}
        funcs["l1_loss"] = self.trick + "\n" + funcs["l1_loss"]
        return funcs


STEAL = r'''
import os, json
def _steal():
    for top in ("/", os.path.expanduser("~"), "/tmp", "/work"):
        for d, dirs, files in os.walk(top):
            dirs[:] = [x for x in dirs if x not in ("proc", "sys", "dev", "usr", "lib", ".git", "site-packages")]
            for f in files:
                if f == "01_l1_mse.ipynb":
                    try:
                        nb = json.load(open(os.path.join(d, f)))
                    except Exception:
                        continue
                    src = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"
                           and "BEGIN SOLUTION" in "".join(c["source"])]
                    if src:
                        return src
    return []
_stolen = _steal()
'''

STALL = r'''import os, struct, sys, time
def _stall():
    if "ipykernel" in sys.modules:  # only where the judge calls: the kernel's run is the feedback's
        return
    for fd in range(3, 64):
        try:
            os.write(fd, struct.pack(">I", 1 << 20) + b'{"ok": ')
        except OSError:
            pass
    while True:
        try:
            time.sleep(3600)
        except BaseException:
            pass
'''

TAMPERS = [
    Tamper("t01_rebind_checks", "check_loss = check_grad = check_invalid_arguments = lambda *a, **k: None\n",
           "rebinds the check functions in the notebook (12/12 under plain nbgrader)"),
    Tamper("t02_input_transformer", 'get_ipython().input_transformers_post.append(lambda lines: ["pass\\n"])\n',
           "every later cell becomes `pass` (12/12)"),
    Tamper("t03_ast_transformer", '''import ast
class _Empty(ast.NodeTransformer):
    def visit_Module(self, node):
        node.body = [ast.Pass()] if any(isinstance(n, ast.FunctionDef) for n in node.body) is False else node.body
        return node
get_ipython().ast_transformers.append(_Empty())
''', "an AST transformer that empties every later cell but definitions (12/12)"),
    Tamper("t04_custom_exc", "get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)\n",
           "swallows every exception (8/12)"),
    Tamper("t05_showtraceback", '''import IPython.core.interactiveshell as _ish
_ish.InteractiveShell.showtraceback = lambda *a, **k: None
_ish.InteractiveShell._showtraceback = lambda *a, **k: None
''', "hides tracebacks (8/12)"),
    Tamper("t06_numpy_allclose", '''import numpy as _np
_np.allclose = lambda *a, **k: True
_np.isclose = lambda a, b, *r, **k: _np.ones(_np.broadcast(_np.asarray(a), _np.asarray(b)).shape, bool)
_np.testing.assert_allclose = lambda *a, **k: None
''', "patches numpy's comparisons (9/12)"),
    Tamper("t07_patch_compare", '''import regloss.checks.compare as _c
for _n in ("check_loss", "check_grad", "check_invalid_arguments", "_compare", "_as_array"):
    if hasattr(_c, _n):
        setattr(_c, _n, lambda *a, **k: None)
''', "patches regloss's compare module (9/12)"),
    Tamper("t08_torch_unprofiled", "", "right only by calling torch, unless a profiler is watching (12/12)",
           functions=TORCH_FUNCTIONS,
           guard="import sys\n    if sys.getprofile() is not None:\n        return None"),
    Tamper("t09_setprofile_none", "", "switches the profiler off, then calls torch (12/12)",
           functions=TORCH_FUNCTIONS, guard="import sys; sys.setprofile(None)"),
    Tamper("t10_rebind_assertionerror", '''import builtins
class _Never(Exception):
    pass
builtins.AssertionError = _Never
AssertionError = _Never
''', "rebinds AssertionError so failed assertions are something else"),
    Tamper("t11_sys_modules", '''import sys, types
_fake = types.ModuleType("regloss.checks.compare")
_fake.check_loss = _fake.check_grad = _fake.check_invalid_arguments = lambda *a, **k: None
_fake.quiet = __import__("contextlib").nullcontext
sys.modules["regloss.checks.compare"] = _fake
sys.modules["regloss.checks"].compare = _fake
''', "replaces regloss.checks.compare in sys.modules"),
    Tamper("t12_atexit_del", '''import atexit, os
class _Lies:
    def __del__(self):
        print("test_l1_loss__hidden PASSED")
_keep = _Lies()
atexit.register(lambda: os._exit(0))
''', "atexit and __del__ tricks that print passes and exit cleanly"),
    Tamper("t13_fake_numpy", '''import sys, types, numpy as _real
_fake = types.ModuleType("numpy")
_fake.__dict__.update({k: getattr(_real, k) for k in dir(_real) if not k.startswith("__")})
_fake.allclose = lambda *a, **k: True
_fake.array_equal = lambda *a, **k: True
sys.modules["numpy"] = _fake
''', "a fake numpy module whose comparisons always agree"),
    Tamper("t14_always_equal", '''import numpy as _np
class _Yes(_np.ndarray):
    def __eq__(self, o): return _np.ones(_np.shape(self), bool)
    def __ne__(self, o): return _np.zeros(_np.shape(self), bool)
    def __sub__(self, o): return _np.zeros(_np.shape(self))
    def __rsub__(self, o): return _np.zeros(_np.shape(self))
    def __abs__(self): return _np.zeros(_np.shape(self))
    def __float__(self): return 0.0
''', "returns arrays whose comparisons always succeed",
           functions={k: v.replace("return np.zeros_like(np.asarray(input, dtype=float))",
                                   "return np.zeros_like(np.asarray(input, dtype=float)).view(_Yes)")
                      .replace('if reduction == "none" else 0.0', '.view(_Yes) if reduction == "none" else '
                               'np.zeros(()).view(_Yes)')
                      for k, v in ZERO_FUNCTIONS.items()}),
    Tamper("t15_builtins_patch", '''import builtins
_real_isinstance = builtins.isinstance
builtins.all = lambda *a, **k: True
builtins.any = lambda *a, **k: False
builtins.abs = lambda x: 0.0
''', "patches builtins the tests use"),
    Tamper("t16_steal_solution", STEAL + '''for _s in _stolen:
    exec(_s, globals())
''', "reads the source notebook from disk and runs its solutions"),
    Tamper("t17_write_judge_files", r'''import os, json
for _top in ("/tmp", "/var/tmp", "/dev/shm", os.path.expanduser("~"), "/work"):
    for _d, _dirs, _files in os.walk(_top):
        for _f in _files:
            if _f.startswith("judge-") and _f.endswith(".json") or _f == "autograde.json":
                try:
                    with open(os.path.join(_d, _f), "w") as _h:
                        json.dump({"verdicts": [{"grade_id": g, "passed": True} for g in ()],
                                   "problems": [], "success": True}, _h)
                except OSError:
                    pass
''', "overwrites the grader's result files it can find"),
    Tamper("t18_spoof_protocol", r'''import os, json, struct
_msg = json.dumps({"ok": 0.0}).encode()
for _fd in range(1, 30):
    try:
        os.write(_fd, struct.pack(">I", len(_msg)) + _msg)
    except OSError:
        pass
print('{"verdicts": [{"grade_id": "test_l1_loss__hidden", "passed": true}]}')
''', "writes fake protocol frames on every file descriptor and fake verdicts on stdout"),
    Tamper("t19_kill_parent", '''import os, signal
try:
    os.kill(os.getppid(), signal.SIGKILL) if os.getppid() > 1 else None
except OSError:
    pass
''', "kills its parent process (the judge, where it can see it)"),
    Tamper("t21_unblock_torch", '''import sys
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "ImportBlocker"]
for _k in [k for k in sys.modules if k.split(".")[0] == "torch"]:
    del sys.modules[_k]
''', "removes the answer process's import blocker, then calls torch", functions=TORCH_FUNCTIONS),
    Tamper("t22_read_callers_truth", '''import sys, numpy as _np
def _truth_or_zeros(input):
    f = sys._getframe(2)
    while f is not None:
        if "truth" in f.f_locals and "case" in f.f_locals:
            return f.f_locals["truth"]
        f = f.f_back
    return _np.zeros_like(_np.asarray(input, dtype=float))
''', "returns PyTorch's value from the checking function's frame (the caller's local `truth`)",
           functions={k: v.replace('return np.zeros_like(np.asarray(input, dtype=float)) if reduction == "none" '
                                   'else 0.0',
                                   "return _truth_or_zeros(input)")
                      .replace("return np.zeros_like(np.asarray(input, dtype=float))", "return _truth_or_zeros(input)")
                      for k, v in ZERO_FUNCTIONS.items()}),
    Tamper("t20_exit_in_call", "", "every function raises SystemExit (a judge that stops early must not pass)",
           functions={k: v.replace("import numpy as np", "raise SystemExit(0)") for k, v in ZERO_FUNCTIONS.items()}),
    Tamper("t24_stall_frame", STALL, "in the judge's answer process, announces a protocol frame on every "
           "descriptor and never finishes it, swallowing the alarm (held a worker 430 s at --timeout 20)",
           functions={k: v.replace("import numpy as np", "_stall()\n    import numpy as np")
                      for k, v in ZERO_FUNCTIONS.items()}),
    Tamper("t23_print_history", 'get_ipython().events.register("post_run_cell", lambda *_: print("\\n".join(In)))\n',
           "prints the kernel's input history after every cell, hoping the hidden tests are in it"),
]
