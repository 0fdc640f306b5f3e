"""Plain data that crosses process boundaries: jobs and results (parent <-> worker),
the judge/answer protocol, problems as values.
"""
