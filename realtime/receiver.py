"""A channel-layer receive that survives layer outages (Redis down or restarted).

Every channel-layer receive of the realtime app goes through `LayerReceiver`, which never raises.
A failing receive or group_add is logged and retried with a short backoff (`LAYER_RETRY_SECONDS`);
when the layer answers again the receiver first re-joins its groups (a restarted Redis has lost
them), then resumes: no process restart needed (docs/operations.md, "Faults and recovery").
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)
LAYER_RETRY_SECONDS = (0.25, 1.0)  # first retry, then every second while the layer is away


class LayerReceiver:
    """A channel-layer receive that survives layer outages (see the module docstring).

    `rejoin` re-adds the channel to its groups; it runs before the first receive after a
    failure (and whenever `needs_join` is set, e.g. when the group_add at connect failed).
    `down` is true from the first failure until the layer answers again."""

    def __init__(self, layer, channel: str, rejoin: Callable[[], Awaitable[None]], label: str) -> None:
        self.layer, self.channel, self.rejoin, self.label = layer, channel, rejoin, label
        self.down = False
        self.needs_join = False
        self.outages = 0

    def failed(self, what: str, exc: BaseException) -> None:
        self.needs_join = True
        if not self.down:
            self.down = True
            self.outages += 1
            logger.warning("channel layer %s failed for %s (%s: %s); falling back to the database stream",
                           what, self.label, type(exc).__name__, exc)

    def recovered(self) -> None:
        if self.down:
            self.down = False
            logger.warning("channel layer back for %s; push delivery resumed", self.label)

    async def join(self) -> bool:
        try:
            await self.rejoin()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.failed("group_add", exc)
            return False
        self.needs_join = False
        self.recovered()
        return True

    async def receive(self) -> dict:
        delay = LAYER_RETRY_SECONDS[0]
        while True:
            if self.needs_join and not await self.join():
                await asyncio.sleep(delay)
                delay = LAYER_RETRY_SECONDS[-1]
                continue
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.failed("receive", exc)
                await asyncio.sleep(delay)
                delay = LAYER_RETRY_SECONDS[-1]
                continue
            self.recovered()
            return message
