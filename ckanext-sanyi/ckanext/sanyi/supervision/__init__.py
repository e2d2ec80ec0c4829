"""Supervision: tamper-evident logs, checkpoints, the bureau's supervision view and reports."""
