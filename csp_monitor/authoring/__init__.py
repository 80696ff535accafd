"""Rule authoring: JSON Schemas, plain-English explanations, rule tests, diffs and backtests.

These tools sit beside the pipeline, not in it: they load rules and figures,
call the pure engine (and the pure alert decision, once alerts exist), and
never touch a user's state store, outbox or clock.
"""
