"""IdentityPython's idpyoidc (the library behind the certified Python relying party) against
Gatehouse, as the OpenID Connect Basic and Config profiles exercise a provider: discovery and its
checks, the code flow with PKCE (the browser's part done over HTTP: sign-in and consent forms),
ID-token validation with the published keys in the expected algorithm, userinfo, refresh (with a
new ID token), revocation, and introspection of the revoked token.

Usage: GH_INTEROP='{"base", "client_id", "client_secret", "redirect_uri", "email", "password",
       "alg"}' python3 idpyoidc_client.py
Prints "ok - name" / "not ok - name: error" per step and "N passed, N failed"."""

import html
import json
import os
import re
import traceback
from urllib.parse import parse_qs, urljoin, urlparse

import requests
from cryptojwt.key_jar import KeyJar
from idpyoidc.client.rp_handler import RPHandler

cfg = json.loads(os.environ["GH_INTEROP"])
base = cfg["base"].rstrip("/")
results = {"passed": 0, "failed": 0}
state = {}


def step(name, fn):
    try:
        fn()
        results["passed"] += 1
        print(f"ok - {name}", flush=True)
    except Exception:  # noqa: BLE001 - every failure is reported, then counted
        results["failed"] += 1
        print(f"not ok - {name}: {traceback.format_exc()}", flush=True)


CLIENT = {
    "issuer": base,
    "client_id": cfg["client_id"],
    "client_secret": cfg["client_secret"],
    "redirect_uris": [cfg["redirect_uri"]],
    "client_type": "oidc",
    "client_authn_methods": ["client_secret_basic"],
    "preference": {
        "response_types": ["code"],
        "token_endpoint_auth_method": "client_secret_basic",
        "id_token_signed_response_alg": cfg["alg"],
        "scope": ["openid", "email", "profile", "offline_access"],
    },
    "add_ons": {
        "pkce": {
            "function": "idpyoidc.client.oauth2.add_on.pkce.add_support",
            "kwargs": {"code_challenge_length": 64, "code_challenge_method": "S256"},
        }
    },
    "services": {
        "discovery": {"class": "idpyoidc.client.oidc.provider_info_discovery.ProviderInfoDiscovery"},
        "authorization": {"class": "idpyoidc.client.oidc.authorization.Authorization"},
        "access_token": {"class": "idpyoidc.client.oidc.access_token.AccessToken"},
        "refresh_access_token": {"class": "idpyoidc.client.oidc.refresh_access_token.RefreshAccessToken"},
        "userinfo": {"class": "idpyoidc.client.oidc.userinfo.UserInfo"},
        "token_revocation": {"class": "idpyoidc.client.oauth2.token_revocation.TokenRevocation"},
        "introspection": {"class": "idpyoidc.client.oauth2.introspection.Introspection"},
    },
}

# An empty key jar: the client authenticates with its secret and needs no keys of its own (without
# one, idpyoidc generates keys and writes them to files in the working directory).
rph = RPHandler(
    base_url="https://rp.example.test", client_configs={"gatehouse": CLIENT}, keyjar=KeyJar(), verify_ssl=False
)


def discovery():
    client = rph.client_setup("gatehouse")
    state["client"] = client
    pcr = client.get_context().provider_info
    assert pcr["issuer"] == base, pcr["issuer"]
    assert "RS256" in pcr["id_token_signing_alg_values_supported"], pcr
    assert cfg["alg"] in pcr["id_token_signing_alg_values_supported"], pcr
    assert "S256" in pcr["code_challenge_methods_supported"], pcr
    for endpoint in ["authorization", "token", "userinfo", "revocation", "introspection"]:
        assert pcr[f"{endpoint}_endpoint"].startswith(base), endpoint
    keys = requests.get(pcr["jwks_uri"], timeout=10).json()["keys"]
    assert keys and all("d" not in k for k in keys), keys


def hidden_fields(page):
    return [
        (html.unescape(name), html.unescape(value))
        for name, value in re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)"', page)
    ]


def browser(url):
    """Plays the person's browser: signs in on the hosted page, approves the consent screen, and
    returns the parameters the relying party receives at its redirect URI."""
    ua = requests.Session()
    res = ua.get(url, allow_redirects=False, timeout=10)
    assert res.status_code == 303, (res.status_code, res.text[:500])
    signin = urljoin(base, res.headers["location"])
    return_to = parse_qs(urlparse(signin).query)["return_to"][0]
    ua.get(f"{base}/signin", timeout=10)
    form = {
        "email": cfg["email"],
        "password": cfg["password"],
        "csrf_token": ua.cookies["gatehouse_csrf"],
        "return_to": return_to,
    }
    res = ua.post(f"{base}/signin", data=form, allow_redirects=False, timeout=10)
    assert res.status_code == 303, (res.status_code, res.text[:500])
    res = ua.get(urljoin(base, res.headers["location"]), allow_redirects=False, timeout=10)
    assert res.status_code == 200 and "Allow" in res.text, (res.status_code, res.text[:500])
    fields = hidden_fields(res.text) + [("decision", "allow")]
    res = ua.post(f"{base}/oauth/authorize", data=fields, allow_redirects=False, timeout=10)
    target = res.headers.get("location") or res.headers["refresh"].split("url=", 1)[1]
    assert target.startswith(cfg["redirect_uri"]), target
    return {k: v[0] for k, v in parse_qs(urlparse(target).query).items()}


def code_flow_with_pkce():
    url = rph.begin(issuer_id="gatehouse", req_args={"scope": "openid email profile offline_access"})
    query = parse_qs(urlparse(url).query)
    assert query["code_challenge_method"] == ["S256"], query
    assert query["response_type"] == ["code"], query
    response = browser(url)
    assert response["iss"] == base, response
    result = rph.finalize(base, response)
    assert "error" not in result, result
    state["result"] = result
    state["key"] = result["state"]


def id_token_validated():
    id_token = state["result"]["id_token"]
    assert id_token["iss"] == base and id_token["aud"] == [cfg["client_id"]], id_token.to_dict()
    assert id_token.jws_header["alg"] == cfg["alg"], id_token.jws_header
    assert id_token["nonce"], id_token.to_dict()
    assert "at_hash" in id_token, id_token.to_dict()


def userinfo():
    info = state["result"]["userinfo"]
    assert info["sub"] == state["result"]["id_token"]["sub"], info.to_dict()
    assert info["email"] == cfg["email"], info.to_dict()


def refresh():
    before = state["result"]["token"]
    refreshed = rph.refresh_access_token(state["key"])
    assert "error" not in refreshed, refreshed.to_dict()
    assert refreshed["access_token"] != before, refreshed.to_dict()
    assert refreshed["refresh_token"], refreshed.to_dict()
    state["access_token"] = refreshed["access_token"]
    # The refreshed ID token went through the same validation.
    id_token = refreshed[idtoken_claim()]
    assert id_token["sub"] == state["result"]["id_token"]["sub"], id_token.to_dict()


def idtoken_claim():
    from idpyoidc.message.oidc import verified_claim_name

    return verified_claim_name("id_token")


def revocation():
    client = state["client"]
    token = state["access_token"]
    # idpyoidc builds the request (endpoint, client authentication, token_type_hint); it is sent
    # here because idpyoidc's response parser refuses every body RFC 7009 §2.2 allows (it raises
    # on an empty one and on `{}`), whereas the client is to ignore the body and read the status.
    request = client.get_service("token_revocation").get_request_parameters(
        request_args={"token": token, "token_type_hint": "access_token"}
    )
    res = requests.request(
        request["method"], request["url"], data=request["body"], headers=request["headers"], timeout=10
    )
    assert res.status_code == 200, (res.status_code, res.text)
    seen = client.do_request("introspection", request_args={"token": token})
    assert seen["active"] is False, seen.to_dict()
    res = requests.get(f"{base}/oauth/userinfo", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert res.status_code == 401, res.status_code


step("discovery: the provider configuration passes idpyoidc's checks", discovery)
step("code flow with PKCE through the hosted sign-in and consent", code_flow_with_pkce)
step(f"the ID token validates ({cfg['alg']}, issuer, audience, nonce, at_hash)", id_token_validated)
step("userinfo names the ID token's subject", userinfo)
step("refresh rotates and brings a valid ID token", refresh)
step("revocation ends the access token (introspection and userinfo agree)", revocation)
print(f"{results['passed']} passed, {results['failed']} failed", flush=True)
raise SystemExit(1 if results["failed"] else 0)
