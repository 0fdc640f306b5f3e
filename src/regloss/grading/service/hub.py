"""Students authenticated through JupyterHub, when the service runs as a Hub service.

JupyterHub gives a managed service ``$JUPYTERHUB_API_URL``; inside a student's server,
``official_check()`` sends the Hub's token of that server (``$JUPYTERHUB_API_TOKEN``). The
service asks the Hub who the token belongs to (``GET $JUPYTERHUB_API_URL/user`` with the
student's token, as JupyterHub's own ``HubAuth`` does) and keeps the answer a few minutes.
A Hub admin, or a name listed as instructor in ``--tokens``, is an instructor; anyone else
the Hub knows is a student under their Hub name.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request

from regloss.grading.service.tokens import Account

TTL = 300.0  # seconds a Hub answer is kept


class HubAuth:
    """Ask the Hub at ``api_url`` who a token is."""

    def __init__(self, api_url: str, instructors: frozenset[str] = frozenset(), ttl: float = TTL,
                 timeout: float = 10, clock=time.monotonic):
        self.api_url = api_url.rstrip("/")
        self.instructors = instructors
        self.ttl, self.timeout, self.clock = ttl, timeout, clock
        self.cache: dict[str, tuple[float, Account | None]] = {}
        self.lock = threading.Lock()

    def account(self, token: str) -> Account | None:
        now = self.clock()
        with self.lock:
            hit = self.cache.get(token)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        req = urllib.request.Request(self.api_url + "/user", headers={"Authorization": f"token {token}"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                user = json.loads(r.read())
        except urllib.error.HTTPError as e:
            if e.code in (401, 403, 404):  # the Hub does not know the token: not kept (it may be new)
                return None
            raise
        name = str(user.get("name") or "")
        if not name or "/" in name or name.startswith("."):
            return None
        role = "instructor" if user.get("admin") or name in self.instructors else "student"
        account = Account(token, name, role)
        with self.lock:
            if len(self.cache) > 10_000:
                self.cache.clear()
            self.cache[token] = (now, account)
        return account
