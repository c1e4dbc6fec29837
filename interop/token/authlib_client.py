"""Authlib against Gatehouse, for a service account (JWT) whose certificate holds the public half
of `private_key`: the RFC 7523 §2.1 JWT-bearer grant, private_key_jwt client authentication
(RFC 7523 §2.2) at introspection, and client credentials refused (a JWT credential gets tokens
with its signed assertion; client credentials are the OAuth Server-to-Server kind's).

Usage: GH_INTEROP='{"base": ..., "client_id", "technical_account_id", "private_key": "<PEM>",
       "scope"}' python3 authlib_client.py
Prints "ok - name" / "not ok - name: error" per step and "N passed, N failed"."""

import json
import os
import sys
import traceback

import requests
from authlib.integrations.requests_client import AssertionSession, OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oauth2.rfc7523.assertion import private_key_jwt_sign
from joserfc.jwk import RSAKey

cfg = json.loads(os.environ["GH_INTEROP"])
base = cfg["base"].rstrip("/")
token_endpoint = f"{base}/oauth/token"
results = {"passed": 0, "failed": 0}


def step(name, fn):
    try:
        fn()
        results["passed"] += 1
        print(f"ok - {name}", flush=True)
    except Exception:  # noqa: BLE001 - every failure is reported, then counted
        results["failed"] += 1
        print(f"not ok - {name}: {traceback.format_exc()}", flush=True)


def introspect(token):
    """Introspects `token`; the service account authenticates with private_key_jwt here too."""
    key = RSAKey.import_key(cfg["private_key"])
    assertion = private_key_jwt_sign(key, client_id=cfg["client_id"], token_endpoint=token_endpoint)
    res = requests.post(
        f"{base}/oauth/introspect",
        data={
            "token": token,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        },
        timeout=10,
    )
    res.raise_for_status()
    return res.json()


def client_credentials_are_refused_to_a_jwt_credential():
    session = OAuth2Session(
        cfg["client_id"],
        cfg["private_key"],
        scope=cfg["scope"],
        token_endpoint_auth_method=PrivateKeyJWT(token_endpoint),
    )
    try:
        session.fetch_token(token_endpoint, grant_type="client_credentials")
    except Exception as e:  # noqa: BLE001 - authlib raises its OAuthError
        # The assertion authenticated the client; the grant is not its kind's.
        assert "unauthorized_client" in str(e), e
    else:
        raise AssertionError("a service account (JWT) got a client-credentials token")


def jwt_bearer_grant():
    session = AssertionSession(
        token_endpoint=token_endpoint,
        issuer=cfg["client_id"],
        subject=cfg["technical_account_id"],
        audience=token_endpoint,
        grant_type=AssertionSession.JWT_BEARER_GRANT_TYPE,
        key=cfg["private_key"],
        header={"alg": "RS256"},
        scope=cfg["scope"],
    )
    token = session.refresh_token()
    assert token["token_type"].lower() == "bearer", token
    claims = introspect(token["access_token"])
    assert claims["active"] is True and claims["sub"] == cfg["technical_account_id"], claims


def a_foreign_key_is_refused():
    stranger = RSAKey.generate_key(2048, private=True)
    session = OAuth2Session(
        cfg["client_id"], stranger, token_endpoint_auth_method=PrivateKeyJWT(token_endpoint)
    )
    res = requests.post(token_endpoint, data={"grant_type": "client_credentials"}, timeout=10)
    assert res.status_code in (400, 401), res.text
    try:
        session.fetch_token(token_endpoint, grant_type="client_credentials")
    except Exception as e:  # noqa: BLE001 - authlib raises its OAuthError
        assert "invalid_client" in str(e), e
    else:
        raise AssertionError("a key that matches no certificate was accepted")


step("client credentials are refused to a JWT credential", client_credentials_are_refused_to_a_jwt_credential)
step("the RFC 7523 JWT-bearer grant", jwt_bearer_grant)
step("an assertion signed by another key is invalid_client", a_foreign_key_is_refused)
print(f"{results['passed']} passed, {results['failed']} failed", flush=True)
sys.exit(0 if results["failed"] == 0 else 1)
