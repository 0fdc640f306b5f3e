"""Nothing of the instructor's environment reaches student code (``regloss.grading.sandboxed.environment``).

A class graded through the real command, with secrets in the instructor's environment
(a database password, an API token): students print their environment, read
``/proc/self/environ`` (the exec-time block a forked kernel inherits from the process it
was forked from), put it into an exception the judge reports, and read every process's
environment they can see. No file the run writes holds a secret, and the honest student
keeps full marks.
"""

from __future__ import annotations

import secrets

import pytest

from regloss.grading.sandboxed.environment import PASSED, student_env
from regloss.grading.sandboxed.isolation import probe
from tests.grading.run.test_grade_command import FULL, A, grade_class, read_grades, student

SECRETS = {"PGPASSWORD": "pg-" + secrets.token_hex(8), "INSTRUCTOR_API_TOKEN": "tok-" + secrets.token_hex(8)}

SELF = '''import os
print(dict(os.environ))
print(open("/proc/self/environ", "rb").read())
'''
PROCS = '''import os
for _pid in os.listdir("/proc"):
    try:
        print(_pid, open(f"/proc/{_pid}/environ", "rb").read())
    except OSError:
        pass
'''
RAISE = '''def l1_loss_grad(input, target, reduction="mean"):
    import os
    raise ValueError(repr(dict(os.environ)) + repr(open("/proc/self/environ", "rb").read()))
'''


def test_the_allow_list_passes_no_secret():
    env = student_env({"X": "1"}, base={**SECRETS, "HOME": "/home/i", "PATH": "/usr/bin", "AWS_SECRET_ACCESS_KEY": "a"})
    assert env["X"] == "1" and env["HOME"] == "/home/i" and env["PATH"].endswith("/usr/bin")
    assert not set(env) & {*SECRETS, "AWS_SECRET_ACCESS_KEY"}
    assert not any("PASS" in k or "TOKEN" in k or "SECRET" in k or "KEY" in k for k in PASSED)


@pytest.mark.slow
def test_no_secret_reaches_any_page_or_file(tmp_path):
    kinds = {"honest": student(), "env_self": student(prepend={"l1_loss": SELF}),
             "env_procs": student(prepend={"mse_loss": PROCS}), "env_raise": student(replace={"l1_loss_grad": RAISE})}
    p, out = grade_class(tmp_path, kinds, env=SECRETS)
    rows = read_grades(out)
    assert float(rows["honest"]["auto_score"]) == FULL, rows["honest"]
    assert float(rows["env_self"]["auto_score"]) == FULL  # printing is allowed; it just shows nothing secret
    feedback = (out / "feedback" / "env_self" / A).glob("*.html")
    assert any("PATH" in f.read_text(errors="replace") for f in feedback), "the snoop did not run"
    others_visible = not probe(True).filesystem  # without a PID namespace, other processes can be read
    for f in out.rglob("*"):
        if not f.is_file():
            continue
        data = f.read_bytes()
        for name, value in SECRETS.items():
            if others_visible and "env_procs" in f.parts:
                continue  # without a PID namespace, /proc shows the grader's own processes too
            assert value.encode() not in data, f"{name} reached {f.relative_to(out)}"
    assert not any(v in p.stdout + p.stderr for v in SECRETS.values())
