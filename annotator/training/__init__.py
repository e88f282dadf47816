"""Coder training: reference items, practice, the test, hidden checks, reviewers' view.

Module map (see training/README.md): pool (the hidden checks' project), scoring
(matching an answer to the reference; agreement with it), reference (marking
items), rounds (practice and test), checks (scoring hidden checks, alerts),
coders (the reviewer's per-coder view).
"""
