"""Schemathesis hooks for Gatehouse's API contract test (tests/it/console/contract.rs).

Every generated request is authenticated: the events API (`/api/v1/events/...`) as an OAuth
Server-to-Server integration (its access token and its client ID in `x-api-key`), everything else
as an organization's admin with an access token carrying `gatehouse.console`. The fuzzer may end
a token's life (sign the admin out, revoke a consent, disable the integration); when a token stops
working a fresh one is provisioned by the test's provisioning endpoint, so the rest of the run is
still authenticated.

Environment: GH_CONTRACT_BASE (the server), GH_CONTRACT_PROVISION (the provisioning endpoint:
GET /token → the admin's fresh access token; GET /integration → {"client_id", "token"}).
"""

import os
import time

import requests
import schemathesis

BASE = os.environ["GH_CONTRACT_BASE"].rstrip("/")
PROVISION = os.environ["GH_CONTRACT_PROVISION"].rstrip("/")


class Credential:
    """A token checked at most once a second against `probe`, and replaced when dead."""

    def __init__(self, provision, probe):
        self.provision = provision
        self.probe = probe
        self.value = None
        self.checked = 0.0

    def get(self):
        now = time.monotonic()
        if self.value is not None and now - self.checked < 1.0:
            return self.value
        if self.value is None or not self.probe(self.value):
            self.value = self.provision()
        self.checked = now
        return self.value


def _admin():
    answer = requests.get(f"{PROVISION}/token", timeout=60)
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.text.strip()}"}


def _integration():
    answer = requests.get(f"{PROVISION}/integration", timeout=60)
    answer.raise_for_status()
    body = answer.json()
    return {"Authorization": f"Bearer {body['token']}", "x-api-key": body["client_id"]}


def _works(path):
    return lambda headers: requests.get(f"{BASE}{path}", headers=headers, timeout=10).status_code == 200


ADMIN = Credential(_admin, _works("/api/v1/account"))
INTEGRATION = Credential(_integration, _works("/api/v1/events/registrations"))


@schemathesis.auth(refresh_interval=None)
class GatehouseAuth:
    def get(self, case, context):
        events = case.path.startswith("/api/v1/events")
        return INTEGRATION.get() if events else ADMIN.get()

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers.update(data)
