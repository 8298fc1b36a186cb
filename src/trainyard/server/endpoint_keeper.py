"""The server's watch over its endpoints' processes: what died is started again.

Routers and deployment supervisors are detached, so they outlive a server restart and keep
serving meanwhile; the server adopts them again by their records (worker ids), with nothing to
do. What did not survive (the machine rebooted, a process was killed) ``serving.endpoints.revive``
starts again: once when the server starts, then every ``EVERY`` seconds while it runs.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from trainyard.server.lifespan import Repeating
from trainyard.serving import endpoints

if TYPE_CHECKING:
    from trainyard.workspace import Workspace

EVERY = 5.0
log = logging.getLogger(__name__)


class EndpointKeeper(Repeating):
    """``start()`` a thread that revives the workspace's endpoint processes; ``stop()`` ends it."""

    def __init__(self, ws: Workspace, host: str) -> None:
        super().__init__("trainyard-endpoints", EVERY, self.check_once, first=True)
        self.ws, self.host = ws, host

    def check_once(self) -> list[str]:
        started = endpoints.revive(self.ws, self.host)
        for what in started:
            log.warning("started again the stopped processes of endpoint %s", what)
        return started
