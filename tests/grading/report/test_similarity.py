"""The similarity report (:mod:`regloss.grading.report.similarity`) on planted classes: six
independent correct IRLS line fits and a disguised copy, a one-line L1 loss everyone writes alike,
the normalisation on its own, the files, and the answers read from a notebook. Pure: no process."""

from __future__ import annotations

import ast
import csv
import io
import re
import textwrap
import tokenize

import nbformat
import numpy as np
import pytest

from regloss.grading.report import similarity as sim

HEADER = '''def fit_line_irls(x, y, delta=1.345, n_iter=1000, tol=1e-10):
    """Huber line fit by iteratively reweighted least squares, delta fixed.

    Returns (slope, intercept) as floats.
    """
    # YOUR CODE HERE
'''


def _answer(body: str) -> str:
    """A student's answer cell: the release's header (signature, docstring) and their body."""
    return HEADER + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") + "\n"


# --------------------------------------------------------------------- six independent correct solutions
IRLS = {
    # the 2x2 weighted normal equations in a helper, np.minimum weights
    "ada": _answer('''
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)

        def weighted_fit(w):
            # the weighted normal equations, solved for (slope, intercept)
            A = np.array([[np.sum(w * x * x), np.sum(w * x)], [np.sum(w * x), np.sum(w)]])
            rhs = np.array([np.sum(w * x * y), np.sum(w * y)])
            return np.linalg.solve(A, rhs)

        slope, intercept = weighted_fit(np.ones_like(x))
        for _ in range(n_iter):
            r = np.abs(y - slope * x - intercept)
            w = np.minimum(1.0, delta / np.maximum(r, np.finfo(float).tiny))
            new_slope, new_intercept = weighted_fit(w)
            done = abs(new_slope - slope) <= tol and abs(new_intercept - intercept) <= tol
            slope, intercept = new_slope, new_intercept
            if done:
                break
        return float(slope), float(intercept)
    '''),
    # least squares on sqrt-weighted rows of the design matrix, np.where weights
    "bo": _answer('''
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        X = np.column_stack([x, np.ones_like(x)])
        beta = np.linalg.lstsq(X, y, rcond=None)[0]
        for it in range(n_iter):
            resid = y - X @ beta
            a = np.abs(resid)
            w = np.where(a <= delta, 1.0, delta / np.maximum(a, 1e-300))
            sw = np.sqrt(w)
            new = np.linalg.lstsq(X * sw[:, None], y * sw, rcond=None)[0]
            if np.max(np.abs(new - beta)) <= tol:
                beta = new
                break
            beta = new
        return float(beta[0]), float(beta[1])
    '''),
    # weighted means and covariance, a while loop, np.clip weights
    "cy": _answer('''
        xs = np.array(x, float)
        ys = np.array(y, float)
        w = np.ones(len(xs))
        slope = intercept = 0.0
        count = 0
        while True:
            xbar = np.sum(w * xs) / np.sum(w)
            ybar = np.sum(w * ys) / np.sum(w)
            b = np.sum(w * (xs - xbar) * (ys - ybar)) / np.sum(w * (xs - xbar) ** 2)
            a = ybar - b * xbar
            count += 1
            converged = abs(b - slope) <= tol and abs(a - intercept) <= tol
            slope, intercept = b, a
            if converged or count >= n_iter:
                break
            r = np.abs(ys - slope * xs - intercept)
            w = np.clip(delta / np.maximum(r, 1e-12), None, 1.0)
        return float(slope), float(intercept)
    '''),
    # plain Python: sums accumulated point by point, Cramer's rule
    "dee": _answer('''
        pts = list(zip(map(float, x), map(float, y)))
        b, a = 0.0, 0.0
        weights = [1.0] * len(pts)
        for step in range(n_iter):
            sw = sx = sy = sxx = sxy = 0.0
            for wi, (xi, yi) in zip(weights, pts):
                sw += wi
                sx += wi * xi
                sy += wi * yi
                sxx += wi * xi * xi
                sxy += wi * xi * yi
            det = sw * sxx - sx * sx
            b_new = (sw * sxy - sx * sy) / det
            a_new = (sxx * sy - sx * sxy) / det
            done = step > 0 and abs(b_new - b) <= tol and abs(a_new - a) <= tol
            b, a = b_new, a_new
            if done:
                break
            weights = []
            for xi, yi in pts:
                r = abs(yi - b * xi - a)
                weights.append(1.0 if r <= delta else delta / r)
        return float(b), float(a)
    '''),
    # np.polyfit with weights sqrt(w), the Huber weight as 1 / max(|r| / delta, 1)
    "eli": _answer('''
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        slope, intercept = np.polyfit(x, y, 1)
        for _ in range(n_iter):
            u = np.abs(y - (slope * x + intercept)) / delta
            weights = 1.0 / np.maximum(u, 1.0)
            s2, i2 = np.polyfit(x, y, 1, w=np.sqrt(weights))
            change = max(abs(s2 - slope), abs(i2 - intercept))
            slope, intercept = s2, i2
            if change < tol:
                break
        return float(slope), float(intercept)
    '''),
    # matrix form A^T W A with np.diag, the weights set through a boolean mask
    "fay": _answer('''
        A = np.vstack([np.asarray(x, float), np.ones(len(x))]).T
        b = np.asarray(y, float)
        theta = np.linalg.solve(A.T @ A, A.T @ b)
        for k in range(n_iter):
            res = b - A @ theta
            wts = np.ones_like(res)
            big = np.abs(res) > delta
            wts[big] = delta / np.abs(res[big])
            W = np.diag(wts)
            theta_next = np.linalg.solve(A.T @ W @ A, A.T @ W @ b)
            if np.linalg.norm(theta_next - theta, np.inf) <= tol:
                theta = theta_next
                break
            theta = theta_next
        slope, intercept = theta
        return float(slope), float(intercept)
    '''),
}

#: ada's answer, copied and disguised by hand: every name changed, comments removed and made up,
#: lines broken and spaced, redundant parentheses, operands and comparisons turned round,
#: ``x`` kept and copied to new names, independent statements swapped.
DISGUISED_ADA = _answer('''
    ys = np.asarray(y, dtype = float)   # data as float arrays
    xs = np.asarray(x, dtype = float)

    def solve_weighted(wt):
        b = np.array([np.sum(wt*ys*xs), np.sum(ys*wt)])
        M = np.array([[np.sum(xs*xs*wt), np.sum(wt*xs)],
                      [np.sum(wt*xs),    np.sum(wt)]])
        return np.linalg.solve(M, b)

    m, c = solve_weighted(np.ones_like(xs))
    for i in range(n_iter):
        resid = np.abs((ys - m*xs) - c)
        wt = np.minimum(1.0, delta / np.maximum(resid, np.finfo(float).tiny))

        m2, c2 = solve_weighted(wt)
        stop = (tol >= abs(m2 - m)) and (abs(c2 - c) <= tol)   # converged?
        m, c = m2, c2
        if stop: break
    return float(m), float(c)
''')

#: dee's answer, copied and disguised by hand: renamed, recommented, reordered accumulations,
#: ``+=`` spelled out, the comparisons turned round.
DISGUISED_DEE = _answer('''
    # pairs of (x, y) as floats
    data = list(zip(map(float, x), map(float, y)))
    m, c = 0.0, 0.0
    wgt = [1.0] * len(data)
    for k in range(n_iter):
        S = Sx = Sy = Sxx = Sxy = 0.0
        for u, (p, q) in zip(wgt, data):
            Sxy = Sxy + u * p * q
            Sxx = Sxx + p * u * p
            Sy = Sy + u * q
            Sx = Sx + u * p
            S = S + u
        D = S * Sxx - Sx * Sx
        m_next = (S * Sxy - Sx * Sy) / D
        c_next = (Sxx * Sy - Sx * Sxy) / D
        finished = (0 < k) and (abs(m_next - m) <= tol) and (abs(c_next - c) <= tol)
        m, c = m_next, c_next
        if finished:
            break
        wgt = []
        for p, q in data:
            res = abs(q - m * p - c)
            wgt.append(1.0 if res <= delta else delta / res)
    return float(m), float(c)
''')


def _rename_everything(source: str) -> str:
    """A mechanical disguise: every name the answer binds (but the release's signature) renamed,
    comments dropped, the code re-spaced by :func:`tokenize.untokenize`."""
    tree = ast.parse(source)
    signature = {"fit_line_irls", "x", "y", "delta", "n_iter", "tol"}
    bound = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    bound |= {n.arg for n in ast.walk(tree) if isinstance(n, ast.arg)}
    bound |= {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    new = {name: f"renamed_{i}" for i, name in enumerate(sorted(bound - signature))}
    out, prev, depth = [], "", 0
    toks = list(tokenize.generate_tokens(io.StringIO(source).readline))
    for tok, nxt in zip(toks, toks[1:] + toks[-1:]):
        if tok.type == tokenize.OP:
            depth += tok.string in ("(", "[", "{")
            depth -= tok.string in (")", "]", "}")
        if tok.type == tokenize.COMMENT:
            continue
        keyword_argument = depth > 0 and nxt.string == "="
        text = new.get(tok.string, tok.string) if tok.type == tokenize.NAME and prev != "." and not keyword_argument \
            else tok.string
        out.append((tok.type, text))
        prev = tok.string
    return tokenize.untokenize(out)


#: Every planted answer to fit_line_irls: the six, the two disguised by hand, the six disguised mechanically.
ALL_IRLS = {**IRLS, "ada (disguised)": DISGUISED_ADA, "dee (disguised)": DISGUISED_DEE,
            **{f"{k} (renamed)": _rename_everything(v) for k, v in IRLS.items()}}

#: (the student copied, the copy): by hand, then mechanically for each of the six
COPIES = [("ada", DISGUISED_ADA), ("dee", DISGUISED_DEE)] + [(k, _rename_everything(v)) for k, v in IRLS.items()]


def _pairs(judgement):
    return {(p.student_a, p.student_b) for p in judgement.flagged}


def test_the_planted_answers_are_correct_solutions_that_agree():
    """The class is of correct, working code: every answer fits the same line through outliers."""
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 10, 40)
    y = 2 * x + 1 + rng.normal(0, 0.5, 40)
    y[:5] += 30  # outliers the Huber fit resists
    fits = {}
    for name, source in ALL_IRLS.items():
        namespace = {"np": np}
        exec(source, namespace)  # the test's own planted code
        fits[name] = namespace["fit_line_irls"](x, y)
    assert all(np.allclose(f, fits["ada"], rtol=1e-8, atol=1e-8) for f in fits.values()), fits
    ols_slope = np.polyfit(x, y, 1)[0]
    assert abs(fits["ada"][0] - 2) < abs(ols_slope - 2)


@pytest.mark.parametrize(("original", "copy"), COPIES, ids=[f"{o}-{'by-hand' if i < 2 else 'renamed'}"
                                                             for i, (o, _) in enumerate(COPIES)])
def test_a_disguised_copy_is_flagged_and_no_independent_pair_is(original, copy):
    answers = {k: sim.normalise(v) for k, v in {**IRLS, "zed": copy}.items()}
    judgement = sim.judge("fit_line_irls", answers)
    assert _pairs(judgement) == {(original, "zed")}
    top = judgement.pairs[0]
    assert (top.student_a, top.student_b, top.similarity) == (original, "zed", 1.0)
    assert all(p.similarity < 0.5 for p in judgement.pairs[1:]), judgement.pairs[1]


def test_a_class_that_did_not_copy_has_no_flag():
    judgement = sim.judge("fit_line_irls", {k: sim.normalise(v) for k, v in IRLS.items()})
    assert len(judgement.pairs) == 15 and not judgement.flagged and not judgement.reason
    assert judgement.cut == sim.SIMILAR_ENOUGH  # the median pair is far below the bar


@pytest.mark.parametrize(("class_", "flagged"), [
    (["ada", "zed"], set()),  # one pair: nothing to judge it against
    (["ada", "bo", "zed"], {("ada", "zed")}),  # three students are a class
])
def test_a_class_needs_three_students(class_, flagged):
    code = {**IRLS, "zed": DISGUISED_ADA}
    judgement = sim.judge("fit_line_irls", {s: sim.normalise(code[s]) for s in class_})
    assert _pairs(judgement) == flagged
    assert len(judgement.pairs) == len(class_) * (len(class_) - 1) // 2
    assert ("fewer than 3 students" in judgement.reason) == (len(class_) < 3)


# --------------------------------------------------------------------- a short function everyone writes alike
L1_HEADER = 'def l1_loss(pred, target):\n    """Mean absolute error."""\n    # YOUR CODE HERE\n'
L1 = {f"s{i}": L1_HEADER + textwrap.indent(body, "    ") for i, body in enumerate([
    "return np.mean(np.abs(pred - target))\n",
    "# the mean of |e|\nreturn np.mean( np.abs(pred-target) )\n",
    "return np.mean(np.abs((pred - target)))  # L1\n",
    "diff = pred - target\nreturn np.mean(np.abs(diff))\n",
    "e = pred - target  # the errors\nreturn np.mean(np.abs(e))\n",
    "return np.abs(pred - target).mean()\n",
    "return np.mean(abs(pred - target))\n",
    "errors = np.abs(pred - target)\nreturn np.mean(errors)\n",
], start=1)}
L1["s9"] = L1["s1"]  # an exact copy, and still nothing to see


@pytest.mark.parametrize("guards", [
    {},  # all of them
    {"min_tokens": 0},  # the common form alone: many pairs are this alike
    {"max_common_share": 1.0},  # the size alone: a one-liner
], ids=["default", "common-form-alone", "size-alone"])
def test_a_short_function_everyone_writes_alike_flags_no_one(guards):
    answers = {k: sim.normalise(v) for k, v in L1.items()}
    assert max(a.size for a in answers.values()) < sim.MIN_TOKENS
    judgement = sim.judge("l1_loss", answers, **guards)
    assert not judgement.flagged
    assert len(judgement.pairs) == 36 and judgement.pairs[0].similarity == 1.0
    assert "alike by nature" in judgement.reason or "shorter than" in judgement.reason


def test_without_its_guards_the_short_function_would_be_flagged():
    """The control: the guards are what keep the one-liner quiet, not a low score."""
    judgement = sim.judge("l1_loss", {k: sim.normalise(v) for k, v in L1.items()}, min_tokens=0,
                          max_common_share=1.0)
    assert ("s1", "s9") in _pairs(judgement)


# --------------------------------------------------------------------- normalisation
HUBER = '''def huber(input, target, delta=1.0):
    e = input - target
    a = np.abs(e)
    return np.where(a < delta, 0.5 * e * e, delta * (a - 0.5 * delta))
'''

SAME = {
    "comments, docstring and blank lines": '''def huber(input, target, delta=1.0):
    """The Huber loss, element-wise."""
    # the error

    e = input - target  # prediction minus target
    a = np.abs(e)
    # quadratic near zero, linear beyond delta
    return np.where(a < delta, 0.5 * e * e, delta * (a - 0.5 * delta))
''',
    "formatting and parentheses": '''def huber(input,target,delta = 1.0):
    e = (input - target)
    a = np.abs( e )
    return np.where((a < delta),
                    (0.5 * e) * e,
                    delta * ((a - 0.5*delta)))
''',
    "every name changed": '''def huber(input, target, delta=1.0):
    err = input - target
    size = np.abs(err)
    return np.where(size < delta, 0.5 * err * err, delta * (size - 0.5 * delta))
''',
    "operands and comparisons turned round": '''def huber(input, target, delta=1.0):
    e = input - target
    a = np.abs(e)
    return np.where(delta > a, e * e * 0.5, (a - delta * 0.5) * delta)
''',
    "type hints and a debug print": '''def huber(input: np.ndarray, target: np.ndarray,
          delta: float = 1.0) -> np.ndarray:
    e: np.ndarray = input - target
    print(e.shape)
    a = np.abs(e)
    return np.where(a < delta, 0.5 * e * e, delta * (a - 0.5 * delta))
''',
}

#: two independent assignments, in either order
SWAP_A = "def f(x, y):\n    u = np.abs(x)\n    v = np.sqrt(y)\n    w = u * 2\n    return u + v + w\n"
SWAP_B = "def f(x, y):\n    v = np.sqrt(y)\n    u = np.abs(x)\n    w = 2 * u\n    return w + u + v\n"


@pytest.mark.parametrize("variant", sorted(SAME))
def test_what_normalisation_removes_scores_one(variant):
    assert sim.similarity(sim.normalise(HUBER), sim.normalise(SAME[variant])) == 1.0


@pytest.mark.parametrize(("a", "b"), [
    (SWAP_A, SWAP_B),
    ("def f(x):\n    total = 0\n    total += x\n    return total\n",
     "def f(x):\n    s = 0\n    s = s + x\n    return s\n"),
    ("def f(x):\n    x = np.asarray(x)\n    return x.sum()\n",
     "def f(x):\n    xs = np.asarray(x)\n    return xs.sum()\n"),
    ("def f(x):\n    return [v * v for v in x if v > 0]\n", "def f(x):\n    return [q * q for q in x if 0 < q]\n"),
    ("%timeit f(1)\ndef f(x):\n    return x\n", "def f(y):\n    return y\n"),
], ids=["reordered", "augmented", "copied-to-a-new-name", "comprehension", "magic"])
def test_equivalent_spellings_score_one(a, b):
    assert sim.similarity(sim.normalise(a), sim.normalise(b)) == 1.0


def test_an_order_that_matters_is_kept():
    first = "def f(x, y):\n    y = y + 1\n    z = y * 2\n    w = np.abs(x)\n    return z + w + y\n"
    then = "def f(x, y):\n    z = y * 2\n    y = y + 1\n    w = np.abs(x)\n    return z + w + y\n"
    assert sim.normalise(first).tokens != sim.normalise(then).tokens


@pytest.mark.parametrize("other", [
    # the Huber loss from np.clip: the quadratic part of |e| and the linear rest
    '''def huber(input, target, delta=1.0):
    r = np.abs(input - target)
    q = np.clip(r, 0, delta)
    return 0.5 * q ** 2 + delta * (r - q)
''',
    # a loop over the elements
    '''def huber(input, target, delta=1.0):
    out = []
    for p, t in zip(input, target):
        d = abs(p - t)
        if d < delta:
            out.append(0.5 * d * d)
        else:
            out.append(delta * d - 0.5 * delta * delta)
    return np.array(out)
''',
], ids=["np.clip", "loop"])
def test_a_different_algorithm_scores_clearly_lower(other):
    assert sim.similarity(sim.normalise(HUBER), sim.normalise(other)) < 0.5


BROKEN = ("def huber(input, target, delta=1.0):\n    e = input - target\n"
          "    return np.where(abs(e) < delta, 0.5 * e * e\n")  # never closed


@pytest.mark.parametrize("source", [
    BROKEN,
    "def f(x):\n    return '''never closed\n",
    "def f(x):\nreturn x\n",
    "x = 1\x00\n",
    "(" * 300 + "1" + ")" * 300,
    "-" * 20000 + "1",
    "def f(x):\n    return x  # ünïcödé ✓\n",
])
def test_code_that_does_not_parse_does_not_crash(source):
    answer = sim.normalise(source)
    if answer is not None:
        assert 0.0 <= sim.similarity(answer, sim.normalise(HUBER)) <= 1.0
        assert sim.similarity(answer, answer) == 1.0


def test_unparsed_answers_are_compared_by_their_tokens():
    renamed = re.sub(r"\be\b", "err", BROKEN)
    assert sim.normalise(BROKEN).tokens is None
    assert sim.similarity(sim.normalise(BROKEN), sim.normalise(renamed)) == 1.0
    assert sim.similarity(sim.normalise(BROKEN), sim.normalise(L1["s1"])) < 0.5


@pytest.mark.parametrize(("source", "unanswered"), [
    ('def l1_loss(input, target):\n    """Doc."""\n    # YOUR CODE HERE\n    raise NotImplementedError()\n', True),
    ("def check(r):\n    raise NotImplementedError\n\n\ndef reduce(v, r):\n    raise NotImplementedError()\n", True),
    ("def l1_loss(input, target):\n    pass\n", True),
    ("# YOUR CODE HERE\n", True),
    ("", True),
    ("def l1_loss(input, target):\n    return np.mean(np.abs(input - target))\n    raise NotImplementedError\n", False),
    ("def check(r):\n    raise NotImplementedError()\n\n\ndef reduce(v, r):\n    return v.sum()\n", False),
    ("def l1_loss(input, target):\n    return np.mean(np.abs(input - target)\n", False),  # broken, yet an answer
], ids=["stub", "two-stubs", "pass", "comment", "empty", "stub-line-left", "one-of-two", "syntax-error"])
def test_an_unanswered_stub_is_no_answer(source, unanswered):
    assert sim.is_unanswered(source) is unanswered


# --------------------------------------------------------------------- the files
def _class():
    """Both functions: the IRLS class with ada's disguised copy, the L1 class with its exact copy."""
    code = {s: {"fit_line_irls": src} for s, src in {**IRLS, "zed": DISGUISED_ADA}.items()}
    for s, src in L1.items():
        code.setdefault(s, {})["l1_loss"] = src
    code["=cmd|' /C calc'!A0"] = {"l1_loss": L1["s1"]}  # a hostile id
    code["nobody"] = {"l1_loss": L1_HEADER + "    raise NotImplementedError()\n"}  # unanswered: in no pair
    return code


def _rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_write_similarity_writes_the_pairs_and_the_plot(tmp_path):
    flagged = sim.write_similarity(tmp_path, "05_robust_line_fit", _class())
    assert flagged == [sim.SimilarPair("fit_line_irls", "ada", "zed", 1.0)]
    rows = _rows(tmp_path / "similarity.csv")
    assert rows[0] == ["function", "student_a", "student_b", "similarity", "flagged"]
    by_function = {f: [r for r in rows[1:] if r[0] == f] for f in ("fit_line_irls", "l1_loss")}
    assert [r[0] for r in rows[1:]] == ["fit_line_irls"] * 21 + ["l1_loss"] * 45  # C(7, 2), C(10, 2)
    for found in by_function.values():
        sims = [float(r[3]) for r in found]
        assert sims == sorted(sims, reverse=True) and all(0 <= s <= 1 for s in sims)
        assert all(re.fullmatch(r"[01]\.\d{3}", r[3]) for r in found)
        assert all(r[1] < r[2] for r in found)
        assert len({(r[1], r[2]) for r in found}) == len(found)
    assert [r[:3] for r in rows[1:] if r[4] == "yes"] == [["fit_line_irls", "ada", "zed"]]
    assert {r[4] for r in rows[1:]} == {"yes", "no"}
    assert not any("nobody" in r for r in rows)
    assert any(r[1] == "'=cmd|' /C calc'!A0" for r in rows)  # written as text, not a formula
    png = tmp_path / "similarity.png"
    assert png.stat().st_size > 1000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_empty_class_writes_a_header_and_a_plot(tmp_path):
    assert sim.write_similarity(tmp_path, "a", {"ada": {}, "bo": {"l1_loss": "# YOUR CODE HERE\n"}}) == []
    assert _rows(tmp_path / "similarity.csv") == [sim.COLUMNS]
    assert (tmp_path / "similarity.png").stat().st_size > 1000


def test_the_report_is_the_same_every_time(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    sim.write_similarity(tmp_path / "a", "x", _class())
    sim.write_similarity(tmp_path / "b", "x", dict(reversed(list(_class().items()))))
    assert (tmp_path / "a" / "similarity.csv").read_bytes() == (tmp_path / "b" / "similarity.csv").read_bytes()


# --------------------------------------------------------------------- answers read from a notebook
def _cell(source, grade_id=None, solution=True, kind="code", grade=False):
    cell = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
    if grade_id:
        cell.metadata["nbgrader"] = {"grade": grade, "grade_id": grade_id, "locked": not solution,
                                     "schema_version": 3, "solution": solution, "task": False}
    return cell


def test_answer_code_reads_the_answers_by_grade_id():
    nb = nbformat.v4.new_notebook(cells=[
        _cell("import numpy as np"),  # no metadata
        _cell("def l1_loss(input, target):\n    return np.mean(np.abs(input - target))\n", "l1_loss"),
        _cell('def mse_loss(input, target):\n    """Doc."""\n    # YOUR CODE HERE\n    raise NotImplementedError()\n',
              "mse_loss"),  # the release's stub, not attempted
        _cell("### BEGIN SOLUTION\ndef huber(e):\n    return e\n### END SOLUTION\n", "huber"),
        _cell("YOUR ANSWER HERE: it is robust", "why_huber", kind="markdown", grade=True),  # a written answer
        _cell("assert l1_loss(1, 1) == 0", "test_l1_loss__visible", solution=False, grade=True),  # a test cell
        _cell("def broken(:\n    pass\n", "broken"),
    ])
    nb = nbformat.reads(nbformat.writes(nb), as_version=4)  # as read from disk
    found = sim.answer_code(nb)
    assert set(found) == {"l1_loss", "huber", "broken"}
    assert found["l1_loss"].startswith("def l1_loss") and "BEGIN SOLUTION" not in found["huber"]
    assert sim.answer_code({"cells": "not a list"}) == {} and sim.answer_code({}) == {}


# --------------------------------------------------------------------------- a large class


def _large_class(n: int) -> dict[str, sim.Answer]:
    """``n`` students writing the six planted IRLS fits, each renamed its own way, plus short
    answers of many forms: most pairs far apart, a few forms shared."""
    forms = list(IRLS.values())
    answers = {}
    for i in range(n):
        source = _rename_everything(forms[i % len(forms)]) if i % 7 else forms[i % len(forms)]
        source = source.replace("1e-10", f"1e-{10 + i % 5}")  # small differences, as between students
        got = sim.normalise(source)
        assert got is not None
        answers[f"s{i:04d}"] = got
    return answers


@pytest.mark.parametrize("bar", [0.5, 0.8, 0.95])
def test_the_prefix_filter_finds_every_pair_that_reaches_the_bar(bar):
    answers = _large_class(60)
    sets = {s: sim._tokens_for_prefix(a.fingerprints) for s, a in answers.items()}
    found = sim._could_reach(sets, bar)
    brute = {(a, b) for a, b in __import__("itertools").combinations(sorted(answers), 2)
             if sim._jaccard(answers[a].fingerprints, answers[b].fingerprints) >= bar}
    assert brute <= found  # none missed
    assert len(found) < 60 * 59 // 2  # and not every pair: the filter filters


def test_a_class_above_the_limit_gets_the_flags_every_pair_would_give(monkeypatch):
    answers = {**_large_class(40), "zz copy": sim.normalise(DISGUISED_ADA)}
    assert answers["zz copy"] is not None
    # the planted class shares six forms among forty students: without the common-form guard,
    # so that there are flags to compare
    everyone = sim.judge("fit_line_irls", answers, max_common_share=1.0)
    assert len(everyone.flagged) > 10
    monkeypatch.setattr(sim, "ALL_PAIRS", 10)
    sampled = sim.judge("fit_line_irls", answers, max_common_share=1.0)
    assert {(p.student_a, p.student_b) for p in sampled.pairs} == {
        (p.student_a, p.student_b) for p in everyone.pairs if p.similarity >= sim.SIMILAR_ENOUGH}
    assert [(p.student_a, p.student_b) for p in sampled.flagged] == [(p.student_a, p.student_b)
                                                                    for p in everyone.flagged]
