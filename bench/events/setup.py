#!/usr/bin/env python3
"""Prepares a running Gatehouse for the events benchmark: an access token for the benchmark
client, a provider with one event type, and one registration delivering to the receiver.
Standard library only; 127.0.0.1 only. Prints "TOKEN PROVIDER CODE REGISTRATION".

  setup.py GATEHOUSE_URL CLIENT_ID CLIENT_SECRET RECEIVER_URL DELIVERY_METHOD
"""

import base64
import json
import sys
import urllib.parse
import urllib.request

CODE = "com.gatehouse.bench.event"


def call(method: str, url: str, body: dict | None, headers: dict) -> dict:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"content-type": "application/json", **headers})
    with urllib.request.urlopen(req, timeout=30) as res:
        return json.loads(res.read() or b"null")


def main() -> int:
    base, client_id, secret, receiver, method = sys.argv[1:6]
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    form = urllib.parse.urlencode({"grant_type": "client_credentials"}).encode()
    req = urllib.request.Request(
        f"{base}/oauth/token",
        data=form,
        headers={"authorization": f"Basic {basic}", "content-type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(req, timeout=30) as res:
        token = json.loads(res.read())["access_token"]
    auth = {"authorization": f"Bearer {token}", "x-api-key": client_id}
    provider = call("POST", f"{base}/api/v1/events/providers", {"label": "Benchmark"}, auth)["id"]
    call("POST", f"{base}/api/v1/events/providers/{provider}/event-types", {"event_code": CODE, "label": "Bench"}, auth)
    reg = call(
        "POST",
        f"{base}/api/v1/events/registrations",
        {
            "name": "Benchmark receiver",
            "delivery_method": method,
            "webhook_url": f"{receiver}/hook",
            "events_of_interest": [{"provider_id": provider, "event_code": CODE}],
        },
        auth,
    )
    if reg["status"] != "active":
        print(f"the registration is {reg['status']}: {reg.get('status_reason')}", file=sys.stderr)
        return 1
    print(token, provider, CODE, reg["id"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
