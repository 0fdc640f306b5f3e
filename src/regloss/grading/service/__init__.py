"""``regloss serve``: official checks on demand, rate-limited and logged (issue 25).

A student sends their notebook (``POST /api/check/<assignment>``, with a token); the
service grades it with the worker, judge and sandbox of ``regloss grade``, in warm
worker processes kept across requests, and answers with the judge's per-test verdicts
(hidden tests: pass or fail and the judge's message, never their code). One module per
concern:

* :mod:`.tokens` — the tokens file (``token,student_id,role``);
* :mod:`.rate` — the rate (``N/HOURS``) and its arithmetic (what is left, when to retry);
* :mod:`.store` — the attempt log and the rate counter in a database (SQLite by default,
  PostgreSQL with ``--db``), an attempt reserved atomically before it is graded;
* :mod:`.validate` — is a request body a notebook of that assignment;
* :mod:`.backend` — the grading: warm workers, a bounded queue, graceful shutdown;
* :mod:`.handlers` — the HTTP endpoints and their status codes;
* :mod:`.command` — ``regloss serve``: everything wired together.
"""
