"""The gateway's identity header, verified as an upstream would: with joserfc (PyPI), against the
JWKS Gatehouse publishes. GH_INTEROP holds {"jwks_url", "issuer", "audience", "identity",
"expect": {claim: value}}. Prints `ok - …` per step and `N passed, N failed`."""

import json
import os
import sys
import urllib.request

from joserfc import jwt
from joserfc.jwk import KeySet

config = json.loads(os.environ["GH_INTEROP"])
passed = failed = 0


def step(name, fn):
    global passed, failed
    try:
        fn()
        print(f"ok - {name}")
        passed += 1
    except Exception as e:  # noqa: BLE001 - every failure is reported the same way
        print(f"not ok - {name}: {e!r}")
        failed += 1


state = {}


def fetch_jwks():
    with urllib.request.urlopen(config["jwks_url"], timeout=10) as r:
        state["keys"] = KeySet.import_key_set(json.load(r))


def verify():
    token = jwt.decode(config["identity"], state["keys"], algorithms=["ES256"])
    assert token.header["typ"] == "gatehouse-identity+jwt", token.header
    registry = jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": config["issuer"]},
        aud={"essential": True, "value": config["audience"]},
        exp={"essential": True},
        sub={"essential": True},
    )
    registry.validate(token.claims)
    for k, v in config["expect"].items():
        assert token.claims.get(k) == v, (k, token.claims.get(k), v)


def tampered_is_refused():
    header, payload, signature = config["identity"].split(".")
    forged = ".".join([header, payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB"), signature])
    try:
        jwt.decode(forged, state["keys"], algorithms=["ES256"])
    except Exception:  # noqa: BLE001 - any refusal will do
        return
    raise AssertionError("a changed payload verified")


step("fetch Gatehouse's JWKS", fetch_jwks)
step("the identity verifies with ES256, issuer, audience and claims", verify)
step("a changed identity does not verify", tampered_is_refused)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
