"""The schedule layer: the daemon, its jobs, the run ledger and the daemon lock.

The top of the one-way flow (load -> evaluate -> decide -> render -> deliver
-> schedule): nothing else in csp-monitor imports it. APScheduler is imported
only by the modules that run a scheduler.
"""
