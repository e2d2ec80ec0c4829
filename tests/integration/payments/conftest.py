"""Fixtures of the payment tests (the shared ones, ``localstripe``, ``stripe_config`` and
``pay_world``, are in tests/integration/conftest.py)."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def captured_webhooks(localstripe):
    """Deliveries localstripe signs and sends (secret WEBHOOK_SECRET): a list of
    (body, Stripe-Signature), filled as they arrive."""
    from payments_support import capture_webhooks
    with capture_webhooks(localstripe) as deliveries:
        yield deliveries
