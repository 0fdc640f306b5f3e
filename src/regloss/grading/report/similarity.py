"""Answers that are unusually alike: a similarity report for copied work (``similarity.csv``, ``similarity.png``).

For each graded function (the grade id of an nbgrader solution cell, e.g. ``huber_loss``), every
pair of students whose answers are usable gets a similarity in [0, 1]; a pair is *flagged* when its
answers are near-identical after normalisation **and** that is unusual for the function across the
class. A flag is a reason to look at two notebooks side by side, never a verdict.

The method
----------
1. **Normalise** each answer with :mod:`ast` (:func:`normalise`): comments, docstrings, bare
   constants, debug ``print`` calls, type annotations and the release's ``raise
   NotImplementedError()`` stubs are dropped; formatting and parentheses vanish with the parse;
   ``x += y`` reads as ``x = x + y``, ``a > b`` as ``b < a``, and the operands of commutative
   operators (``+ * & | ^``, ``and``/``or``, ``==``/``!=``) are put in a canonical order. Every
   name *bound in the cell* (arguments, local variables, helper functions, loop and comprehension
   variables, ``except ... as`` names) is replaced by a placeholder; names not bound in the cell
   (``np``, the ``abs`` of ``np.abs``, ``torch``, ``check_reduction`` from an earlier cell,
   builtins) and names imported in the cell keep their spelling. Prose strings (with whitespace:
   error messages) become one placeholder.
2. **Statement order** does not count where it cannot matter: in each block the statements are
   emitted in a canonical topological order of their dependencies (a statement that reads or
   writes a name another writes stays on its side of it; ``return``, ``raise``, ``break``, bare
   calls and other effects are barriers), choosing among the free ones by a rename-proof key.
   Placeholders are given in that order, *by binding* rather than by a counter of first
   appearances: a use of a name shows the placeholder of its latest binding, and a binding's
   placeholder comes from what binds it -- an argument's position, the rename-blind shape of an
   assigned value, a loop's iterable (:class:`_Canon`). So renaming, swapping two independent
   assignments, or copying ``x = f(x)`` as ``xs = f(x)`` changes nothing, and one inserted
   variable does not renumber every later one (a counter would, and spoil most k-grams).
3. **Fingerprint** the normalised token stream (one token per AST node) as MOSS does: hash its
   :data:`K_GRAM`-grams and keep the winnowed minimum of every :data:`WINDOW` consecutive hashes
   (Schleimer, Wilkerson & Aiken, "Winnowing: local algorithms for document fingerprinting",
   SIGMOD 2003). The similarity of two answers is the Jaccard index of their fingerprint
   multisets; answers identical after normalisation score exactly 1.0. Code that does not parse
   falls back to the same fingerprints over :mod:`tokenize` tokens (comments and line breaks
   dropped, identifiers renamed by first appearance), compared only with other such answers'
   token streams.
4. **Judge against the class** (:func:`judge`): a pair is flagged only if (a) its similarity is at
   least :data:`SIMILAR_ENOUGH`, (b) it lies more than :data:`OUTLIER_SPREADS` robust spreads (MAD)
   above the median pair of that function, (c) both answers hold at least :data:`MIN_TOKENS`
   normalised tokens, and (d) at most :data:`MAX_COMMON_SHARE` of the function's *other* pairs are
   at least :data:`SIMILAR_ENOUGH` alike too -- when more are, near-identical answers are simply what
   the function looks like (``return np.mean(np.abs(input - target))``) and no one is flagged for
   it. With fewer than
   :data:`MIN_CLASS` students there is nothing to judge against: the rows are written, nothing is
   flagged.

What it cannot catch
--------------------
A copy rewritten with a different algorithm or API (``np.where`` for a boolean mask, a loop for a
vectorised expression), a copy padded with dead code or merged with the copier's own work (Jaccard
falls with every added line), algebraic rewrites (``x / 2`` for ``0.5 * x``, ``a - b`` for ``-(b -
a)``), whole helper functions inlined or extracted, and copying of written (markdown) answers. Two
students who share a tutor's or a web page's solution look like a copy, and a ring of many copiers
can make its own form look "common" for a small class. Statements that are exact mirror images
(``a = 0`` and ``b = 0``) are ordered as written.

Pure functions but the three that write files: :func:`write_similarity` (both, through
:func:`write_csv` and :func:`plot_similarity`).
"""

from __future__ import annotations

import ast
import builtins
import copy
import hashlib
import io
import itertools
import keyword
import math
import random
import re
import statistics
import tokenize
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from regloss.course import cells as nbcells
from regloss.grading.report.spreadsheet import Writer

__all__ = ["COLUMNS", "K_GRAM", "MAX_COMMON_SHARE", "MIN_CLASS", "MIN_SPREAD", "MIN_TOKENS", "OUTLIER_SPREADS",
           "SIMILAR_ENOUGH", "WINDOW", "Answer", "Judgement", "PairScore", "SimilarPair", "answer_code", "compare",
           "is_unanswered", "judge", "normalise", "plot_similarity", "similarity", "write_csv", "write_similarity"]

COLUMNS = ["function", "student_a", "student_b", "similarity", "flagged"]

# ----------------------------------------------------------------------------------------- the constants

#: Tokens per k-gram. One token is one AST node, and a line of numerical code is 8-15 of them
#: (``e = np.asarray(input) - np.asarray(target)`` is 12): 5 is half a line, long enough that a
#: k-gram is not shared by every answer (``Call Attribute:abs np ...``), short enough that one
#: edited line spoils few of them. MOSS's noise threshold plays the same role.
K_GRAM = 5
#: Winnowing window: one fingerprint kept per window of 4 consecutive k-gram hashes, so any run of
#: ``WINDOW + K_GRAM - 1 = 8`` tokens (about a line) shared by two answers is guaranteed to share a
#: fingerprint (the winnowing guarantee); answers are short, so the window is small.
WINDOW = 4
#: The absolute bar: a flagged pair shares at least 80 % of its fingerprints (Jaccard). A disguised
#: copy -- renamed, recommented, reformatted, reordered -- normalises to the same tokens and scores
#: 1.0; 0.8 leaves room for one or two small edits on top (in a 20-line answer an added line or a
#: changed ``return`` costs 0.05-0.1, a rewritten 20-token line 0.2: Jaccard counts a change on both
#: sides). Independent correct solutions of a 15-25 line function score well under 0.5 (0.03-0.16
#: for the six IRLS line fits of the tests).
SIMILAR_ENOUGH = 0.8
#: Robust outlier test: a flagged pair lies more than 3 robust standard deviations
#: (:data:`MAD_TO_SD` x the median absolute deviation) above the function's median pair -- the
#: usual "3 sigma" for a point that does not belong to the bulk of the distribution.
OUTLIER_SPREADS = 3.0
#: The median absolute deviation of a normal sample times 1.4826 estimates its standard deviation.
MAD_TO_SD = 1.4826
#: The smallest spread the outlier test uses: when most pairs score alike (MAD ~ 0), a pair only
#: 0.05 above them is fingerprint noise (one k-gram more or less), not an outlier.
MIN_SPREAD = 0.05
#: Similarity is *expected* for a function when more than a tenth of its pairs (a flagged pair's
#: own left out) clear :data:`SIMILAR_ENOUGH` too: then no one is flagged for it. A form that a
#: share p of the class writes alike makes about p^2 of the pairs alike, so 0.1 means about a third
#: of the class writing one form; copying stays in small separate groups, which add few pairs: a
#: ring of 3 among 10 students makes 2 of the 44 other pairs alike (4.5 %), two separate copied
#: pairs 1 of 44. (In a class of 6, three identical answers read as a common form: 2 of 14.)
MAX_COMMON_SHARE = 0.1
#: No flag on an answer shorter than 40 normalised tokens (about 3 lines of real code): a one-line
#: ``return`` has too few ways to be written for alikeness to mean anything. The course's one-line
#: answers (``l1_loss``, ``mse_loss``, their gradients, ``reduce_grad``) normalise to 27-34 tokens
#: with their ``def`` line, its multi-line ones (``huber_loss`` on) to 52-400.
MIN_TOKENS = 40
#: With fewer students (2 give one pair) there is no class to judge a pair against.
MIN_CLASS = 3
#: Blocks with more statements than this keep their written order (the canonical ordering is
#: quadratic in a block's length; no answer of this course comes near it).
REORDER_LIMIT = 64
#: Flagged pairs listed per function on the plot (all are in similarity.csv); 5 fit a row.
PLOT_LABELS = 5
#: Up to this many students of a function every pair is scored and written (about 125,000 pairs); a
#: larger class gets its distribution from a sample and only the pairs at least :data:`SIMILAR_ENOUGH`
#: alike, found by a prefix filter rather than by scoring its millions of pairs.
ALL_PAIRS = 500
#: Pairs sampled for the distribution of a class larger than :data:`ALL_PAIRS`.
SAMPLE_PAIRS = 20_000

# ----------------------------------------------------------------------------------------- normalisation

_MAGIC = re.compile(r"^[ \t]*(%|!(?!=)).*$", re.M)  # IPython magics and shell escapes (not ``!=``): not Python
_COMMUTATIVE = (ast.Add, ast.Mult, ast.BitAnd, ast.BitOr, ast.BitXor)
_SYMMETRIC_COMPARE = (ast.Eq, ast.NotEq, ast.Is, ast.IsNot)
_FLIPPED = {ast.Gt: ast.Lt, ast.GtE: ast.LtE}
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
_EFFECTS = (ast.Return, ast.Raise, ast.Assert, ast.Global, ast.Nonlocal, ast.Try, ast.TryStar, ast.With,
            ast.AsyncWith, ast.Expr, ast.Delete, ast.Yield, ast.YieldFrom, ast.Await)
_BUILTINS = frozenset(dir(builtins))


@dataclass(frozen=True, eq=False)
class Answer:
    """One answer, normalised: its token stream and fingerprints from the parse (``None`` when it does
    not parse) and from the tokenizer (the fallback), and its size in tokens."""

    tokens: tuple[str, ...] | None
    fingerprints: Counter[int] | None
    lex_tokens: tuple[str, ...]
    lex_fingerprints: Counter[int]

    @property
    def size(self) -> int:
        return len(self.tokens) if self.tokens is not None else len(self.lex_tokens)

    @property
    def parsed(self) -> bool:
        return self.tokens is not None


def _is_stub(stmt: ast.stmt) -> bool:
    """A statement that is no answer: ``pass``, ``...``, a docstring or other bare constant,
    ``raise NotImplementedError[(...)]``, or a debug ``print(...)``."""
    if isinstance(stmt, ast.Pass):
        return True
    if isinstance(stmt, ast.Expr):
        v = stmt.value
        return isinstance(v, ast.Constant) or (
            isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == "print")
    if isinstance(stmt, ast.Raise) and stmt.exc is not None:
        exc = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
        return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"
    return False


class _Simplify(ast.NodeTransformer):
    """The rewrites that make two spellings of one program one tree (see the module's docstring)."""

    def _body(self, stmts: list[ast.stmt], keep_one: bool) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for s in stmts:
            if _is_stub(s):
                continue
            new = self.visit(s)
            out.extend(new if isinstance(new, list) else [new] if new is not None else [])
        return out or ([ast.Pass()] if keep_one else [])

    def generic_visit(self, node: ast.AST) -> ast.AST:
        for name, value in ast.iter_fields(node):
            if isinstance(value, list) and value and all(isinstance(v, ast.stmt) for v in value):
                # a def's empty body drops the def (below); any other block keeps a ``pass``
                setattr(node, name, self._body(value, keep_one=not isinstance(node, (*_SCOPES, ast.Module))))
            elif isinstance(value, list):
                setattr(node, name, [self.visit(v) if isinstance(v, ast.AST) else v for v in value])
            elif isinstance(value, ast.AST):
                setattr(node, name, self.visit(value))
        return node

    def _def(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> ast.AST | None:
        self.generic_visit(node)
        if not isinstance(node, ast.ClassDef):
            node.returns = None
        return node if node.body else None  # the release's stub, unanswered

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _def

    def visit_arg(self, node: ast.arg) -> ast.arg:
        node.annotation = None
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        self.generic_visit(node)
        load = copy.deepcopy(node.target)
        for n in ast.walk(load):
            if hasattr(n, "ctx"):
                n.ctx = ast.Load()
        return ast.Assign(targets=[node.target], value=ast.BinOp(left=load, op=node.op, right=node.value))

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST | None:
        self.generic_visit(node)
        return ast.Assign(targets=[node.target], value=node.value) if node.value is not None else None

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        flip = _FLIPPED.get(type(node.ops[0])) if len(node.ops) == 1 else None
        if flip is not None:
            return ast.Compare(left=node.comparators[0], ops=[flip()], comparators=[node.left])
        return node


def _bound_names(tree: ast.AST) -> frozenset[str]:
    """The names the cell binds (renamed), less the ones it imports (kept, like library names)."""
    bound: set[str] = set()
    imported: set[str] = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            bound.add(n.id)
        elif isinstance(n, ast.arg):
            bound.add(n.arg)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(n.name)
        elif isinstance(n, ast.ExceptHandler) and n.name:
            bound.add(n.name)
        elif isinstance(n, (ast.MatchAs, ast.MatchStar)) and n.name:
            bound.add(n.name)
        elif isinstance(n, ast.MatchMapping) and n.rest:
            bound.add(n.rest)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            imported.update((a.asname or a.name).split(".")[0] for a in n.names)
    return frozenset(bound - imported)


@dataclass(frozen=True)
class _Effects:
    reads: frozenset[str]
    writes: frozenset[str]
    barrier: bool


def _effects(stmt: ast.stmt) -> _Effects:
    """What a statement reads and writes at its own level, and whether it may not move at all."""
    reads: set[str] = set()
    writes: set[str] = set()
    barrier = False

    def visit(n: ast.AST, loops: int) -> None:
        nonlocal barrier
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            # a definition runs its decorators and defaults now, its body later
            if not isinstance(n, ast.Lambda):
                writes.add(n.name)
            parts: list[Any] = list(getattr(n, "decorator_list", []))
            if isinstance(n, ast.ClassDef):
                parts += n.bases + n.keywords
            else:
                parts += n.args.defaults + [d for d in n.args.kw_defaults if d is not None]
            for p in parts:
                visit(p, loops)
            return
        if isinstance(n, _COMPREHENSIONS):
            for gen in n.generators:  # the loop variables are the comprehension's own
                visit(gen.iter, loops)
                for cond in gen.ifs:
                    visit(cond, loops)
            for part in (getattr(n, "elt", None), getattr(n, "key", None), getattr(n, "value", None)):
                if part is not None:
                    visit(part, loops)
            return
        if isinstance(n, _EFFECTS) or (isinstance(n, (ast.Break, ast.Continue)) and loops == 0):
            barrier = True
        if isinstance(n, ast.Name):
            (reads if isinstance(n.ctx, ast.Load) else writes).add(n.id)
        elif isinstance(n, (ast.Subscript, ast.Attribute)) and not isinstance(n.ctx, ast.Load):
            base: ast.AST = n
            while isinstance(base, (ast.Subscript, ast.Attribute)):
                base = base.value
            if isinstance(base, ast.Name):
                writes.add(base.id)  # ``x[i] = ...`` changes x
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            writes.update((a.asname or a.name).split(".")[0] for a in n.names)
        inner = loops + isinstance(n, (ast.For, ast.AsyncFor, ast.While))
        for child in ast.iter_child_nodes(n):
            visit(child, inner)

    visit(stmt, 0)
    return _Effects(frozenset(reads), frozenset(writes), barrier)


def _conflict(a: _Effects, b: _Effects) -> bool:
    return a.barrier or b.barrier or bool(a.writes & (b.reads | b.writes)) or bool(a.reads & b.writes)


class _Mode(Enum):
    EMIT = "emit"  # the canonical stream: each use of a name shows its latest binding's placeholder
    PARTIAL = "partial"  # a sort key: the same, but nothing is bound while it is written
    BLIND = "blind"  # a sort key blind to every bound name (so to any renaming and any binding)


def _bytes(tokens: Iterable[str]) -> bytes:
    """Tokens as bytes to hash (a string constant may hold a lone surrogate: kept, not an error)."""
    return "\x1f".join(tokens).encode("utf-8", "surrogatepass")


def _constant(value: object) -> str:
    if isinstance(value, str):
        # prose (an error message) is rewritten freely; an identifier-like string ("mean") is logic
        return "str:" + (value if len(value) <= 30 and not any(c.isspace() for c in value) else "<text>")
    if isinstance(value, bytes):
        return "bytes"
    return f"{type(value).__name__}:{value!r}"


def _target_names(targets: Iterable[ast.AST]) -> list[ast.Name]:
    """The names an assignment's targets bind, in order (``a, (b, *c) = ...`` -> a, b, c)."""
    found: list[ast.Name] = []
    for t in targets:
        if isinstance(t, ast.Name):
            found.append(t)
        elif isinstance(t, (ast.Tuple, ast.List)):
            found += _target_names(t.elts)
        elif isinstance(t, ast.Starred):
            found += _target_names([t.value])
    return found


def _all_args(args: ast.arguments) -> list[ast.arg]:
    return [*args.posonlyargs, *args.args, *([args.vararg] if args.vararg else []), *args.kwonlyargs,
            *([args.kwarg] if args.kwarg else [])]


class _Canon:
    """Writes a simplified cell as its canonical token stream (:class:`_Mode`).

    A name bound in the cell is written as the placeholder of its latest binding in the canonical
    order, and a binding's placeholder is derived from what binds it, never from the name: an
    argument by its position (``arg0.1``), an assignment's target by the rename-blind shape of the
    assigned value and the target's position (``=3fa2c1.0``), a loop variable by its iterable's
    shape, a def by its number of arguments. So renaming changes nothing, ``xs = f(x)`` reads like
    ``x = f(x)``, and an inserted variable does not shift the placeholders of all later ones (as a
    counter by first appearance would).
    """

    def __init__(self, tree: ast.Module, bound: frozenset[str]) -> None:
        self.bound = bound
        self.current: dict[str, str] = {}
        self._blind: dict[int, tuple[str, ...]] = {}
        self._partial: dict[int, tuple[str, ...]] = {}  # valid while ``current`` does not change
        self._effects: dict[int, _Effects] = {}
        self._binds: dict[int, str] = {}
        self._label_bindings(tree, 0)

    def stream(self, body: list[ast.stmt]) -> tuple[str, ...]:
        """The canonical stream of a cell's statements (without block marks around them)."""
        out: list[str] = []
        for s in self._ordered(body):
            self._walk(s, out, _Mode.EMIT)
        return tuple(out)

    # -- placeholders
    def _digest(self, node: ast.AST | None) -> str:
        key = self.blind(node) if node is not None else ()
        return hashlib.blake2b(_bytes(key), digest_size=3).hexdigest()

    def _label_bindings(self, node: ast.AST, depth: int) -> None:
        """Every binding's placeholder, by the id of the node that binds (a Name, arg, def, ...)."""
        binds = self._binds
        if isinstance(node, ast.Assign):
            h = self._digest(node.value)
            binds.update((id(n), f"={h}.{i}") for i, n in enumerate(_target_names(node.targets)))
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            h = self._digest(node.iter)
            binds.update((id(n), f"in{h}.{i}") for i, n in enumerate(_target_names([node.target])))
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            h = self._digest(node.context_expr)
            binds.update((id(n), f"as{h}.{i}") for i, n in enumerate(_target_names([node.optional_vars])))
        elif isinstance(node, ast.NamedExpr):
            binds[id(node.target)] = f":={self._digest(node.value)}"
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            args = _all_args(node.args)
            binds.update((id(a), f"arg{depth}.{i}") for i, a in enumerate(args))
            if not isinstance(node, ast.Lambda):
                binds[id(node)] = f"def{len(args)}"
            depth += 1
        elif isinstance(node, ast.ClassDef):
            binds[id(node)] = "class"
        elif isinstance(node, ast.ExceptHandler) and node.name:
            binds[id(node)] = f"except{self._digest(node.type)}"
        elif isinstance(node, (ast.MatchAs, ast.MatchStar, ast.MatchMapping)):
            binds[id(node)] = "case"
        for child in ast.iter_child_nodes(node):
            self._label_bindings(child, depth)

    def _bind(self, name: str, node: ast.AST, mode: _Mode) -> str:
        if name not in self.bound:
            return name
        if mode is _Mode.BLIND:
            return "_"
        label = self._binds.get(id(node), "bound")
        if mode is _Mode.EMIT and self.current.get(name) != label:
            self.current[name] = label
            self._partial.clear()
        return label

    def _use(self, name: str, mode: _Mode) -> str:
        if name not in self.bound:
            return name
        return "_" if mode is _Mode.BLIND else self.current.get(name, "_")

    # -- keys
    def blind(self, node: ast.AST) -> tuple[str, ...]:
        out: list[str] = []
        self._walk(node, out, _Mode.BLIND)
        return tuple(out)

    def partial(self, node: ast.AST) -> tuple[str, ...]:
        out: list[str] = []
        self._walk(node, out, _Mode.PARTIAL)
        return tuple(out)

    # -- ordering
    def _sorted(self, nodes: list[ast.AST], mode: _Mode) -> list[ast.AST]:
        """Nodes whose order does not matter (operands, or statements taken as a bag) in key order:
        by the blind key, ties (``a * b``) by what the names are bound to, then as written."""
        blind = [self.blind(n) for n in nodes]
        if mode is _Mode.BLIND:
            return [nodes[i] for i in sorted(range(len(nodes)), key=lambda i: blind[i])]
        counts = Counter(blind)
        tie = [self.partial(n) if counts[b] > 1 else () for n, b in zip(nodes, blind)]
        return [nodes[i] for i in sorted(range(len(nodes)), key=lambda i: (blind[i], tie[i], i))]

    def _ordered(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        """The block's statements in the canonical topological order of their conflicts (Kahn's
        algorithm, the free statement with the least rename-proof key first)."""
        if len(stmts) > REORDER_LIMIT:
            return stmts
        for s in stmts:
            if id(s) not in self._effects:
                self._effects[id(s)] = _effects(s)
        effects = [self._effects[id(s)] for s in stmts]
        before = [{i for i in range(j) if _conflict(effects[i], effects[j])} for j in range(len(stmts))]
        done: set[int] = set()
        order: list[ast.stmt] = []
        while len(order) < len(stmts):
            free = [j for j in range(len(stmts)) if j not in done and before[j] <= done]
            least = min(self.blind(stmts[j]) for j in free)
            tied = [j for j in free if self.blind(stmts[j]) == least]
            pick = min(tied, key=lambda j: (self.partial(stmts[j]), j)) if len(tied) > 1 else tied[0]
            done.add(pick)
            order.append(stmts[pick])
        return order

    # -- the walk
    def _block(self, stmts: list[ast.stmt], out: list[str], mode: _Mode) -> None:
        out.append("{")
        if mode is _Mode.EMIT:
            for s in self._ordered(stmts):
                self._walk(s, out, mode)
        else:
            for node in self._sorted(list(stmts), mode):
                self._walk(node, out, mode)
        out.append("}")

    def _operands(self, node: ast.AST, op: type) -> list[ast.AST]:
        """The operands of a chain of one commutative operator: ``a + b + c`` -> [a, b, c]."""
        if isinstance(node, ast.BinOp) and isinstance(node.op, op):
            return self._operands(node.left, op) + self._operands(node.right, op)
        return [node]

    def _walk(self, node: ast.AST, out: list[str], mode: _Mode) -> None:
        """Append ``node``'s tokens; the two sort keys are remembered per node."""
        if mode is _Mode.EMIT:
            self._write(node, out, mode)
            return
        memo = self._blind if mode is _Mode.BLIND else self._partial
        key = memo.get(id(node))
        if key is None:
            sub: list[str] = []
            self._write(node, sub, mode)
            key = memo[id(node)] = tuple(sub)
        out.extend(key)

    def _write(self, node: ast.AST, out: list[str], mode: _Mode) -> None:
        if isinstance(node, ast.Name):
            out.append(self._bind(node.id, node, mode) if isinstance(node.ctx, ast.Store) else self._use(node.id, mode))
        elif isinstance(node, ast.arg):
            out.append("arg:" + self._bind(node.arg, node, mode))
        elif isinstance(node, ast.Constant):
            out.append(_constant(node.value))
        elif isinstance(node, ast.JoinedStr):  # an f-string: its prose dropped, its expressions kept
            out.append("f-string")
            for v in node.values:
                if isinstance(v, ast.FormattedValue):
                    self._walk(v.value, out, mode)
        elif isinstance(node, (ast.Assign, ast.NamedExpr)):  # the value is evaluated before the name is bound
            out.append(type(node).__name__)
            self._walk(node.value, out, mode)
            out.append("=>")
            for t in node.targets if isinstance(node, ast.Assign) else [node.target]:
                self._walk(t, out, mode)
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            out.append(type(node).__name__)
            self._walk(node.iter, out, mode)
            out.append("=>")
            self._walk(node.target, out, mode)
            if isinstance(node, ast.comprehension):
                for cond in node.ifs:
                    self._walk(cond, out, mode)
            else:
                self._block(node.body, out, mode)
                if node.orelse:
                    self._block(node.orelse, out, mode)
        elif isinstance(node, _COMPREHENSIONS):  # the loops bind before the element is computed
            out.append(type(node).__name__)
            for gen in node.generators:
                self._walk(gen, out, mode)
            out.append("=>")
            for part in ([node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]):
                self._walk(part, out, mode)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, _COMMUTATIVE):
            operands = self._operands(node, type(node.op))
            out.append(f"{type(node.op).__name__}/{len(operands)}")
            for o in self._sorted(operands, mode):
                self._walk(o, out, mode)
        elif isinstance(node, ast.BoolOp):
            out.append(f"{type(node.op).__name__}/{len(node.values)}")
            for o in self._sorted(list(node.values), mode):
                self._walk(o, out, mode)
        elif isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], _SYMMETRIC_COMPARE):
            out.append(type(node.ops[0]).__name__)
            for o in self._sorted([node.left, node.comparators[0]], mode):
                self._walk(o, out, mode)
        else:
            self._generic(node, out, mode)

    def _generic(self, node: ast.AST, out: list[str], mode: _Mode) -> None:
        out.append(type(node).__name__)
        for field, value in ast.iter_fields(node):
            if field in ("ctx", "type_comment", "kind", "type_ignores"):
                continue
            if isinstance(value, list) and value and all(isinstance(v, ast.stmt) for v in value):
                self._block(value, out, mode)
            elif isinstance(value, list):
                for v in value:
                    if isinstance(v, ast.AST):
                        self._walk(v, out, mode)
                    elif isinstance(v, str):
                        out.append(self._use(v, mode))  # global/nonlocal names
            elif isinstance(value, ast.AST):
                self._walk(value, out, mode)
            elif isinstance(value, str):
                # a def's, an exception's or a pattern's name is bound; an attribute, a keyword
                # argument or a module name is not (and keeps its spelling)
                bindable = field in ("name", "rest") and not isinstance(node, ast.alias)
                out.append(self._bind(value, node, mode) if bindable else f"{field}:{value}")
            elif value is not None:
                out.append(f"{field}:{value}")


def _fingerprints(tokens: tuple[str, ...]) -> Counter[int]:
    """MOSS's winnowing: the hashes of the token stream's k-grams, and of each window of
    :data:`WINDOW` of them the least (the rightmost on a tie), each selected position once."""
    if not tokens:
        return Counter()
    grams = [tokens[i:i + K_GRAM] for i in range(max(len(tokens) - K_GRAM + 1, 1))]
    hashes = [int.from_bytes(hashlib.blake2b(_bytes(g), digest_size=8).digest(), "big") for g in grams]
    chosen: set[int] = set()
    for start in range(max(len(hashes) - WINDOW + 1, 1)):
        window = hashes[start:start + WINDOW]
        low = min(window)
        chosen.add(start + max(i for i, h in enumerate(window) if h == low))
    return Counter(hashes[i] for i in chosen)


def _ast_tokens(source: str) -> tuple[str, ...] | None:
    """The canonical token stream of an answer that parses (empty: no answer); None if it does not."""
    try:
        tree = ast.parse(_MAGIC.sub("", source))
        simple = _Simplify().visit(tree)
        return _Canon(simple, _bound_names(simple)).stream(simple.body)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _lex_tokens(source: str) -> tuple[str, ...]:
    """The fallback for code that does not parse: its tokens without comments and line breaks,
    prose strings as one placeholder, and every identifier that is not a keyword, a builtin or an
    attribute renamed by first appearance. What follows a tokenizer error is lost."""
    out: list[str] = []
    names: dict[str, str] = {}
    prev = ""
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(_MAGIC.sub("", source)).readline):
            if tok.type in skip:
                continue
            if tok.type == tokenize.NAME and not keyword.iskeyword(tok.string) and tok.string not in _BUILTINS \
                    and prev != ".":
                text = names.setdefault(tok.string, f"v{len(names)}")
            elif tok.type == tokenize.STRING:
                text = "<text>" if any(c.isspace() for c in tok.string) else tok.string
            elif tok.type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
                text = tokenize.tok_name[tok.type]
            else:
                text = tok.string
            out.append(text)
            prev = tok.string
    except (tokenize.TokenError, SyntaxError, ValueError):
        pass
    return tuple(out)


def normalise(source: str) -> Answer | None:
    """``source`` normalised and fingerprinted; None for no answer at all: an unanswered release stub
    (``raise NotImplementedError()`` under a docstring), a blank cell, or nothing readable."""
    tokens = _ast_tokens(source)
    lex = _lex_tokens(source)
    if (tokens is not None and not tokens) or (tokens is None and not lex):
        return None
    return Answer(tokens, _fingerprints(tokens) if tokens is not None else None, lex, _fingerprints(lex))


def is_unanswered(source: str) -> bool:
    """The cell holds no answer: the release's stub (a docstring, ``# YOUR CODE HERE``, ``raise
    NotImplementedError()``), ``pass``, or nothing."""
    return normalise(source) is None


def _jaccard(a: Counter[int], b: Counter[int]) -> float:
    union = sum((a | b).values())
    return sum((a & b).values()) / union if union else 0.0


def similarity(a: Answer, b: Answer) -> float:
    """The Jaccard index of two answers' fingerprint multisets, in [0, 1]: of their parses when both
    parse, else of their token streams. 1.0 for answers identical after normalisation."""
    if a.tokens is not None and b.tokens is not None and a.fingerprints is not None and b.fingerprints is not None:
        return 1.0 if a.tokens == b.tokens else _jaccard(a.fingerprints, b.fingerprints)
    return 1.0 if a.lex_tokens == b.lex_tokens else _jaccard(a.lex_fingerprints, b.lex_fingerprints)


# ----------------------------------------------------------------------------------------- the class


@dataclass(frozen=True)
class SimilarPair:
    """A flagged pair: two students (``student_a < student_b``) whose answers to ``function`` are
    unusually alike."""

    function: str
    student_a: str
    student_b: str
    similarity: float


@dataclass(frozen=True)
class PairScore:
    function: str
    student_a: str
    student_b: str
    similarity: float
    flagged: bool


@dataclass(frozen=True)
class Judgement:
    """One function across the class: every pair, most alike first, and how it was judged.

    ``cut`` is the similarity a pair had to reach (the larger of :data:`SIMILAR_ENOUGH` and the
    outlier bound), None when the function was not judged; ``reason`` says why not, or ``""``."""

    function: str
    students: tuple[str, ...]
    pairs: tuple[PairScore, ...]
    median: float | None
    cut: float | None
    reason: str

    @property
    def flagged(self) -> list[SimilarPair]:
        return [SimilarPair(p.function, p.student_a, p.student_b, p.similarity) for p in self.pairs if p.flagged]


def _tokens_for_prefix(fingerprints: Counter[int]) -> list[tuple[int, int]]:
    """A fingerprint multiset as a set (each fingerprint with its occurrence), for the prefix filter."""
    return [(fp, i) for fp, n in fingerprints.items() for i in range(n)]


def _could_reach(sets: Mapping[str, list[tuple[int, int]]], bar: float) -> set[tuple[str, str]]:
    """The pairs of ``sets`` whose Jaccard index may reach ``bar``: those sharing a token of their
    prefixes (tokens ordered rarest first, a set's prefix its first ``len - ceil(bar * len) + 1``);
    a pair at least ``bar`` alike always does (Bayardo, Ma & Srikant, "Scaling up all pairs
    similarity search", WWW 2007)."""
    rarity = Counter(t for ts in sets.values() for t in set(ts))
    index: dict[tuple[int, int], list[str]] = {}
    found: set[tuple[str, str]] = set()
    for student in sorted(sets):
        ts = sorted(set(sets[student]), key=lambda t: (rarity[t], t))
        prefix = len(ts) - math.ceil(bar * len(ts)) + 1
        for t in ts[:max(prefix, 0)]:
            for other in index.get(t, ()):
                found.add((other, student) if other < student else (student, other))
            index.setdefault(t, []).append(student)
    return found


def _pairs_to_score(answers: Mapping[str, Answer], bar: float) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """``(pairs whose similarities are the class's distribution, pairs that may reach bar)``: every
    pair up to :data:`ALL_PAIRS` students; above, a fixed random sample of :data:`SAMPLE_PAIRS` for
    the distribution and, by :func:`_could_reach`, every pair that may reach ``bar``."""
    students = sorted(answers)
    if len(students) <= ALL_PAIRS:
        every = list(itertools.combinations(students, 2))
        return every, every
    rng = random.Random(len(students))  # the same class gives the same sample
    total = len(students) * (len(students) - 1) // 2
    sample: set[tuple[str, str]] = set()
    while len(sample) < min(SAMPLE_PAIRS, total):
        a, b = rng.sample(students, 2)
        sample.add((a, b) if a < b else (b, a))
    parsed = {s: _tokens_for_prefix(a.fingerprints) for s, a in answers.items()
              if a.tokens is not None and a.fingerprints is not None}
    lexed = {s: _tokens_for_prefix(a.lex_fingerprints) for s, a in answers.items()}
    near = _could_reach(parsed, bar) | {p for p in _could_reach(lexed, bar) if not (p[0] in parsed and p[1] in parsed)}
    return sorted(sample), sorted(near)


def judge(function: str, answers: Mapping[str, Answer], *, bar: float = SIMILAR_ENOUGH,
          spreads: float = OUTLIER_SPREADS, min_tokens: int = MIN_TOKENS,
          max_common_share: float = MAX_COMMON_SHARE) -> Judgement:
    """Every pair of ``answers`` (``{student: Answer}``) scored, and flagged as the module's docstring
    says (the keywords default to the module's constants). Above :data:`ALL_PAIRS` students the
    class's distribution comes from a sample of pairs, and only the pairs at least ``bar`` alike
    are kept (:func:`_pairs_to_score`): all of them, found without scoring every pair."""
    students = tuple(sorted(answers))
    distribution, near = _pairs_to_score(answers, bar)
    score = {p: similarity(answers[p[0]], answers[p[1]]) for p in {*distribution, *near}}
    sims = [score[p] for p in distribution]
    everyone = len(students) <= ALL_PAIRS
    total = len(students) * (len(students) - 1) // 2
    scored = [(a, b, score[(a, b)]) for a, b in (distribution if everyone else near)
              if everyone or score[(a, b)] >= bar]
    median = statistics.median(sims) if sims else None
    cut: float | None = None
    reason = ""
    flags: set[tuple[str, str]] = set()
    if len(students) < MIN_CLASS or median is None:
        reason = f"fewer than {MIN_CLASS} students: not judged"
    else:
        mad = statistics.median(abs(s - median) for s in sims)
        cut = max(bar, median + spreads * max(MAD_TO_SD * mad, MIN_SPREAD))
        high = sum(score[p] >= bar for p in near)  # every pair that reaches the bar is in near
        # how common is it for this function's pairs to be this alike (a flagged pair's own left out)?
        common = high > 1 and (high - 1) / (total - 1) > max_common_share
        sized = {(a, b) for a, b, _ in scored if min(answers[a].size, answers[b].size) >= min_tokens}
        if common:
            reason = f"{high} at least {bar:g} alike: alike by nature, none flagged"
        elif not sized:
            reason = f"answers shorter than {min_tokens} tokens: none flagged"
        else:
            flags = {(a, b) for a, b, s in scored if s >= cut and (a, b) in sized}
    pairs = tuple(PairScore(function, a, b, s, (a, b) in flags)
                  for a, b, s in sorted(scored, key=lambda t: (-t[2], t[0], t[1])))
    return Judgement(function, students, pairs, median, cut, reason)


def compare(code_by_student: Mapping[str, Mapping[str, str]], **kwargs: Any) -> list[Judgement]:
    """``{student: {function: source}}`` judged function by function (sorted by name); an answer that
    is no answer (:func:`normalise` gives None) takes part in no pair. ``kwargs`` go to :func:`judge`."""
    by_function: dict[str, dict[str, Answer]] = {}
    for student, code in code_by_student.items():
        for function, source in code.items():
            answer = normalise(source) if isinstance(source, str) else None
            if answer is not None:
                by_function.setdefault(function, {})[str(student)] = answer
    return [judge(f, by_function[f], **kwargs) for f in sorted(by_function)]


# ----------------------------------------------------------------------------------------- the files


def write_csv(judgements: Iterable[Judgement], path: Path) -> None:
    """``similarity.csv``: :data:`COLUMNS`, one row per pair per function, by function then most
    alike first; ``similarity`` with 3 decimals, ``flagged`` ``yes``/``no``."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = Writer(f)
        w.writerow(COLUMNS)
        for j in judgements:
            w.writerows([p.function, p.student_a, p.student_b, f"{p.similarity:.3f}", "yes" if p.flagged else "no"]
                        for p in j.pairs)


def plot_similarity(judgements: list[Judgement], path: Path, title: str) -> None:
    """``similarity.png``: per function a strip of its pair similarities (grey dots), the median pair
    (black tick), the zone where a pair is flagged (shaded: from the function's cut to 1; none when
    the function was not judged or is alike by nature) and the flagged pairs (red, labelled), with
    the absolute bar across all functions (dotted). Matplotlib, Agg."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    shown = [j for j in judgements if j.pairs]
    fig, ax = plt.subplots(figsize=(9, 1.6 + 1.0 * max(len(shown), 1)), dpi=100)
    ax.set_title(title)
    if not shown:
        ax.text(0.5, 0.5, "no two answers to compare", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
    rng = np.random.default_rng(0)  # the same jitter every run
    for row, j in enumerate(reversed(shown)):
        sims = np.array([p.similarity for p in j.pairs])
        flagged = np.array([p.flagged for p in j.pairs])
        y = row - 0.08 + rng.uniform(-0.2, 0.2, len(sims))
        if j.cut is not None and not j.reason:
            ax.fill_between([j.cut, 1.02], row - 0.32, row + 0.16, color="#c44e52", alpha=0.1, linewidth=0, zorder=0)
        ax.scatter(sims[~flagged], y[~flagged], s=14, color="#8c8c8c", alpha=0.6 if len(sims) < 300 else 0.25,
                   linewidths=0, zorder=2)
        ax.scatter(sims[flagged], y[flagged], s=40, color="#c44e52", edgecolors="black", linewidths=0.6, zorder=3)
        if j.median is not None:
            ax.plot([j.median, j.median], [row - 0.32, row + 0.16], color="black", linewidth=1.5, zorder=1)
        # the most alike flagged pairs, listed left of the zone (labels at the dots would pile up at 1.0)
        labelled = [p for p in j.pairs if p.flagged][:PLOT_LABELS]
        if labelled and j.cut is not None:
            ax.text(j.cut - 0.015, row - 0.08, "\n".join(f"{p.student_a} & {p.student_b}  {p.similarity:.2f}"
                                                         for p in labelled),
                    ha="right", va="center", fontsize=6.5, color="#c44e52", linespacing=1.1, zorder=4,
                    bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1})
        n_flagged = int(flagged.sum())
        more = n_flagged - len(labelled)
        note = j.reason or f"{n_flagged} flagged" + (f", the first {len(labelled)} listed, all in similarity.csv"
                                                     if more > 0 else "")
        pairs = f"{len(j.pairs)} {'pair' if len(j.pairs) == 1 else 'pairs'}"
        ax.text(0.005, row + 0.3, f"{pairs}; {note}", fontsize=7.5, color="#444444", va="center",
                transform=ax.get_yaxis_transform())
    if shown:
        ax.axvline(SIMILAR_ENOUGH, color="#8c8c8c", linestyle=":", linewidth=1, zorder=0)
        for row in range(len(shown) - 1):
            ax.axhline(row + 0.5, color="#dddddd", linewidth=0.8, zorder=0)
        ax.set_yticks(range(len(shown)))
        ax.set_yticklabels([f"{j.function}\n({len(j.students)} students)" for j in reversed(shown)], fontsize=8)
        ax.tick_params(axis="y", length=0)
        ax.set_ylim(-0.5, len(shown) - 0.5)
        ax.set_xlim(-0.02, 1.02)
        ax.set_xlabel("similarity of two students' answers after normalisation (Jaccard of winnowed fingerprints)")
        fig.legend(handles=[
            Line2D([], [], marker="o", linestyle="", color="#8c8c8c", label="a pair of students"),
            Line2D([], [], marker="o", linestyle="", color="#c44e52", markeredgecolor="black", label="flagged pair"),
            Line2D([], [], color="black", label="median pair"),
            Patch(color="#c44e52", alpha=0.15, label="flagged if here"),
            Line2D([], [], color="#8c8c8c", linestyle=":", label=f"absolute bar {SIMILAR_ENOUGH:g}"),
        ], fontsize=7.5, loc="lower center", ncol=5, frameon=False)
        fig.tight_layout(rect=(0, 0.06 + 0.04 / len(shown), 1, 1))
    else:
        fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_similarity(out: Path, assignment: str, code_by_student: dict[str, dict[str, str]]) -> list[SimilarPair]:
    """Write ``out/similarity.csv`` and ``out/similarity.png`` for ``{student: {function: source}}``;
    return the flagged pairs (by function, most alike first)."""
    judgements = compare(code_by_student)
    out = Path(out)
    write_csv(judgements, out / "similarity.csv")
    flagged = [p for j in judgements for p in j.flagged]
    n = len({s for j in judgements for s in j.students})
    plot_similarity(judgements, out / "similarity.png", f"{assignment}: answers alike ({n} students, "
                    f"{len(flagged)} {'pair' if len(flagged) == 1 else 'pairs'} flagged)")
    return flagged


def answer_code(notebook: Any) -> dict[str, str]:
    """``{grade id: source}`` of a notebook's code solution cells that hold an answer (a release
    stub left as it was is none: :func:`is_unanswered`). ``notebook``: an nbformat v4 notebook
    (a ``NotebookNode``) or its JSON."""
    cells = notebook.get("cells", []) if isinstance(notebook, Mapping) else []
    found: dict[str, str] = {}
    for cell in cells if isinstance(cells, list) else []:
        gid = nbcells.grade_id(cell)
        if gid and nbcells.is_code(cell) and nbcells.is_solution(cell):
            source = nbcells.without_solution_markers(nbcells.source(cell))
            if not is_unanswered(source):
                found[gid] = source
    return found
