"""Passing people on: the outbox, the delivery worker and the transports that reach partners.

Nothing here imports Flask: the worker runs in `ld-adapter serve` and standalone
(`ld-adapter worker`).
"""
