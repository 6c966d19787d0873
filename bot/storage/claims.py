"""How long a claim on work holds (a delivery, a relayed message, an owed reply)
without being renewed: a process that died while sending loses its claims this long
after its last renewal, and another replica takes the work over."""

from __future__ import annotations

from datetime import timedelta

CLAIM_LEASE = timedelta(seconds=30)
