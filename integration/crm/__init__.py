"""The host CRM ("PerfectView"): relations and their relation types.

It knows nothing of any connector; connectors listen to its save signals.
"""
