"""``regloss --help`` is plain text: no reStructuredText of the docstrings reaches it."""

from __future__ import annotations

import argparse
import re

import pytest

from regloss.cli import build_parser

RST = re.compile(r"``|:(func|mod|class|data|meth|attr):`|`[^`\s][^`]*`_?")


def _parsers() -> dict[str, argparse.ArgumentParser]:
    top = build_parser()
    subs = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    return {"regloss": top, **{f"regloss {name}": p for name, p in subs.choices.items()}}


@pytest.mark.parametrize("command", list(_parsers()))
def test_help_is_plain_text(command):
    text = _parsers()[command].format_help()
    assert not RST.search(text), RST.search(text)


def test_the_check_finds_restructured_text():
    assert RST.search("The ``regloss`` command") and RST.search("see :func:`grade`")
    assert not RST.search("grade a class (a folder per student)")
