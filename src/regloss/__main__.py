"""``python -m regloss``: the same as the ``regloss`` command."""

from regloss.cli import main

raise SystemExit(main())
