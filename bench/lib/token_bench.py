#!/usr/bin/env python3
"""Set-up for bench/token that needs more than the shell: the provisioning file, a service
account's RS256 assertion (signed with `openssl`), and a browser-like sign-in with the consent
given once, so the authorization-code load runs with a live session. Standard library only; every
request goes to 127.0.0.1 and is bounded in time.

  token_bench.py fixture OUT CERT_PATH [WEBHOOK_URL]      -> writes the provisioning file; with a
                                                             webhook URL the web client also gets an
                                                             events provider and a registration (bench/soak)
  token_bench.py assertion KEY ISS SUB AUD                -> an RS256 JWT (no jti, exp in 1 h)
  token_bench.py session BASE AUTHORIZE_PATH              -> "Cookie: …" of a session whose
                                                             consent is given (prints the header value)
"""

import base64
import http.client
import json
import re
import subprocess
import sys
import time
import urllib.parse

ORG = "0000000000000000000bec4c@GatehouseOrg"
WEB_CLIENT = "bench-client-0001"
WEB_SECRET = "ghs_62656e63682d6f6e6c792d6e6f742d612d7265616c2d7365637265742d212121"
BACKEND_CLIENT = "bench-backend-0001"
BACKEND_SECRET = "ghs_62656e63682d6261636b656e642d6f6e6c792d6e6f742d612d7265616c2d21"
SA_CLIENT = "bench-service-account-0001"
SA_SECRET = "ghs_62656e63682d736572766963652d6163636f756e742d6f6e6c792d21212121"
TECH_ACCOUNT = "0000000000000000000bec4d@techacct.gatehouse"
EMAIL = "bench@example.com"
PASSWORD = "violet tractor harbour 42"
REDIRECT = "https://client.bench.test/callback"
EVENT_PROVIDER = "5e0a5e0a-50a4-4b3c-9d2e-0f1a2b3c4d5e"
EVENT_CODE = "com.gatehouse.bench.soak"


def fixture(out: str, cert_path: str, webhook: str | None = None) -> None:
    """The benchmark's organization, service, person, OAuth web client (the code flow), OAuth
    Server-to-Server backend (client credentials) and service account (JWT); with a webhook URL, the
    backend also provides one event type and registers the webhook for it."""
    events = "" if not webhook else f"""
[[integrations.event_providers]]
id = "{EVENT_PROVIDER}"
label = "Benchmark events"

[[integrations.event_providers.event_types]]
code = "{EVENT_CODE}"
label = "Benchmark event"

[[integrations.event_registrations]]
name = "Benchmark receiver"
delivery_method = "webhook"
webhook_url = "{webhook}"
events = [{{ provider = "{EVENT_PROVIDER}", code = "{EVENT_CODE}" }}]
"""
    text = f"""# Written by bench/lib/token_bench.py for one bench/token run (throw-away credentials).
[[organizations]]
id = "{ORG}"
name = "Benchmarks"

[[accounts]]
email = "{EMAIL}"
password = "{PASSWORD}"
type = "enterprise"
organization = "{ORG}"
role = "member"

[[services]]
code = "bench_api"
name = "Benchmark API"
allowed_types = ["oauth", "server_to_server", "service_account"]
scopes = ["read"]

[[integrations]]
name = "Benchmark client"
type = "oauth"
platform = "web"
organization = "{ORG}"
client_id = "{WEB_CLIENT}"
client_secret = "{WEB_SECRET}"
redirect_uri = "{REDIRECT}"
subscriptions = [{{ service = "bench_api", scopes = ["read"] }}]

[[integrations]]
name = "Benchmark backend"
type = "server_to_server"
organization = "{ORG}"
client_id = "{BACKEND_CLIENT}"
client_secret = "{BACKEND_SECRET}"
subscriptions = [{{ service = "bench_api", scopes = ["read"] }}]
{events}
[[integrations]]
name = "Benchmark service account"
type = "service_account"
organization = "{ORG}"
client_id = "{SA_CLIENT}"
client_secret = "{SA_SECRET}"
technical_account_id = "{TECH_ACCOUNT}"
certificates = ["{cert_path}"]
subscriptions = [{{ service = "bench_api", scopes = ["read"] }}]
"""
    with open(out, "w") as f:
        f.write(text)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def assertion(key: str, iss: str, sub: str, aud: str) -> None:
    now = int(time.time())
    header = b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    claims = {"iss": iss, "sub": sub, "aud": aud, "iat": now, "exp": now + 3600}
    payload = b64url(json.dumps(claims).encode())
    signing_input = f"{header}.{payload}".encode()
    sig = subprocess.run(
        ["openssl", "dgst", "-sha256", "-sign", key], input=signing_input, capture_output=True, check=True
    ).stdout
    print(f"{header}.{payload}.{b64url(sig)}")


class Browser:
    """Just enough of a browser: cookies by name, one request at a time, no redirects followed."""

    def __init__(self, base: str):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: list | None = None) -> tuple[int, dict, str]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        headers = {}
        body = None
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            text = resp.read().decode("utf-8", "replace")
            for name, value in resp.getheaders():
                if name.lower() == "set-cookie":
                    k, _, rest = value.partition("=")
                    v = rest.split(";")[0]
                    if v and "max-age=0" not in value.lower():
                        self.cookies[k.strip()] = v
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, text
        finally:
            conn.close()


def hidden_fields(html: str) -> list:
    fields = []
    for m in re.finditer(r'<input type="hidden" name="([^"]*)" value="([^"]*)"', html):
        unescape = lambda s: (
            s.replace("&#x2f;", "/").replace("&#x27;", "'").replace("&#39;", "'").replace("&#34;", '"')
            .replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        )
        fields.append((unescape(m.group(1)), unescape(m.group(2))))
    return fields


def session(base: str, authorize_path: str) -> None:
    b = Browser(base)
    status, _, _ = b.request("GET", "/signin")
    if status != 200 or "gatehouse_csrf" not in b.cookies:
        raise SystemExit(f"GET /signin answered {status} without a CSRF cookie")
    form = [("email", EMAIL), ("password", PASSWORD), ("csrf_token", b.cookies["gatehouse_csrf"])]
    status, _, body = b.request("POST", "/signin", form)
    if status != 303 or "gatehouse_session" not in b.cookies:
        raise SystemExit(f"sign-in answered {status}: {body[:300]}")
    status, headers, page = b.request("GET", authorize_path)
    if status == 200:
        fields = hidden_fields(page) + [("decision", "allow")]
        status, headers, body = b.request("POST", authorize_path.split("?")[0], fields)
        if status != 200 or "refresh" not in headers:
            raise SystemExit(f"the consent form answered {status}: {body[:300]}")
        status, headers, page = b.request("GET", authorize_path)
    if status != 302 or "code=" not in headers.get("location", ""):
        raise SystemExit(f"authorize with a live session and consent answered {status}: {page[:300]}")
    print(f"gatehouse_session={b.cookies['gatehouse_session']}")


def main(argv: list) -> None:
    if not argv:
        raise SystemExit(__doc__)
    cmd, args = argv[0], argv[1:]
    if cmd == "fixture":
        fixture(args[0], args[1], args[2] if len(args) > 2 else None)
    elif cmd == "assertion":
        assertion(*args[:4])
    elif cmd == "session":
        session(args[0], args[1])
    else:
        raise SystemExit(f"unknown command {cmd!r}\n{__doc__}")


if __name__ == "__main__":
    main(sys.argv[1:])
