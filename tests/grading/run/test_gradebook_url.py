"""How a gradebook URL is spelled for the driver and shown to people (``regloss.grading.run.gradebook``)."""

from __future__ import annotations

import pytest

from regloss.grading.run.gradebook import engine_url, is_postgres, shown_url, without_password


@pytest.mark.parametrize("url, shown", [
    ("postgresql://grader:s3cret@db:5432/course", "postgresql://grader:***@db:5432/course"),
    ("postgresql+psycopg://u:p@h/d?sslmode=require", "postgresql+psycopg://u:***@h/d?sslmode=require"),
    ("postgres://u:a:b%40c@h/d", "postgres://u:***@h/d"),  # a colon, an encoded @ in the password
    ("postgresql://:pw@h/d", "postgresql://:***@h/d"),
    ("postgresql://grader@db/course", "postgresql://grader@db/course"),  # no password: as given
    ("sqlite:////tmp/a:b@c/gradebook.db", "sqlite:////tmp/a:b@c/gradebook.db"),  # a path, not a password
])
def test_a_password_is_hidden_and_nothing_else_changes(url, shown):
    assert shown_url(url) == shown


@pytest.mark.parametrize("url, driver", [
    ("postgresql://u@h/d", "postgresql+psycopg://u@h/d"),
    ("postgres://u@h/d", "postgresql+psycopg://u@h/d"),
    ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
    ("sqlite:////tmp/gradebook.db", "sqlite:////tmp/gradebook.db"),
])
def test_postgresql_urls_go_to_psycopg_3(url, driver):
    assert engine_url(url) == driver
    assert is_postgres(url) == url.startswith("postgres")


def test_a_password_is_hidden_wherever_a_message_repeats_it():
    url = "postgresql://grader:p%40ss-word@db/course"
    text = f"cannot connect to {url}: password authentication failed (p@ss-word) [p%40ss-word]"
    shown = without_password(text, url)
    assert "p@ss-word" not in shown and "p%40ss-word" not in shown
    assert shown == "cannot connect to postgresql://grader:***@db/course: password authentication failed (***) [***]"
    assert without_password("no secret here", "sqlite:////tmp/g.db") == "no secret here"
