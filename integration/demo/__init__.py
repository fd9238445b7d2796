"""Demo data for the embedded default: roles, a demo administrator and Dutch relations.

It may use every other app: it is the one place that knows what a fresh demo looks like.
"""
