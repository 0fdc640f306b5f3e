"""``regloss serve``'s command line (what is refused before anything starts) and the bench's arithmetic."""

from __future__ import annotations

import numpy as np
import pytest

from regloss.cli import build_parser, main
from tests.bench.bench_service import percentile


def test_serve_takes_the_options_of_the_issue():
    args = build_parser().parse_args(["serve", "01_l1_mse", "02_huber", "--port", "8080", "--tokens", "t.csv",
                                      "--rate", "5/24", "--due", "2026-12-24T23:59:00Z", "--db", "postgresql://x/y",
                                      "--workers", "2"])
    assert (args.assignments, args.port, args.tokens, args.rate, args.due, args.db, args.workers) == (
        ["01_l1_mse", "02_huber"], 8080, "t.csv", "5/24", "2026-12-24T23:59:00Z", "postgresql://x/y", 2)


@pytest.mark.parametrize(("extra", "says"), [
    ([], "cannot read the tokens file"),
    (["--rate", "five"], "--rate must be"),
    (["--due", "soon"], "--due must be"),
    (["--workers", "0"], "--workers must be positive"),
    (["--db", "mysql://x/y"], "--db must be"),
    (["99_nothing"], "99_nothing"),
])
def test_mistakes_are_refused_before_anything_starts(tmp_path, capsys, extra, says):
    tokens = tmp_path / "tokens.csv"
    if extra:
        tokens.write_text("abcdefgh1,alice,student\n")
    code = main(["serve", "--port", "0", "--tokens", str(tokens), "--state", str(tmp_path / "state"), *extra])
    assert code == 2 and says in capsys.readouterr().err


@pytest.mark.parametrize("q", [0.0, 0.5, 0.95, 1.0])
def test_percentile_is_numpys(q):
    xs = [3.0, 1.0, 2.0, 10.0, 4.5]
    assert percentile(xs, q) == pytest.approx(np.quantile(xs, q))
