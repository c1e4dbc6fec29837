#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (fuzz/corpus/<target>/). Run from anywhere:
`python3 fuzz/make-corpus.py`. Needs the `cryptography` package (for the seed tokens, signed with
the test keys in fuzz/keys). The seeds are small, realistic inputs; libFuzzer finds the rest.
Each file starts with the selector byte its target reads first (see the target's header)."""

import base64
import hashlib
import json
import os
import shutil
import subprocess

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, utils

FUZZ = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(FUZZ)
CORPUS = os.path.join(FUZZ, "corpus")
NOW = 1_900_000_000
CLIENT = "0123456789abcdef0123456789abcdef"
ORG = "0123456789abcdef01234567@GatehouseOrg"
TECH = "0123456789abcdef01234567@techacct.gatehouse"
AUD = "https://gatehouse.test/oauth/token"


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def key(name):
    with open(os.path.join(FUZZ, "keys", name), "rb") as f:
        return serialization.load_pem_private_key(f.read(), None)


EC = key("ec.key.pem")
RSA = key("rsa.key.pem")


def sign(header, claims, alg=None):
    alg = alg or header["alg"]
    h = b64u(json.dumps(header, separators=(",", ":")).encode())
    p = b64u(json.dumps(claims, separators=(",", ":")).encode())
    msg = f"{h}.{p}".encode()
    if alg == "ES256":
        r, s = utils.decode_dss_signature(EC.sign(msg, ec.ECDSA(hashes.SHA256())))
        sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    elif alg in ("RS256", "RS384", "RS512"):
        h_alg = {"RS256": hashes.SHA256(), "RS384": hashes.SHA384(), "RS512": hashes.SHA512()}[alg]
        sig = RSA.sign(msg, padding.PKCS1v15(), h_alg)
    elif alg == "none":
        sig = b""
    else:
        import hmac
        with open(os.path.join(FUZZ, "keys", "rsa.crt"), "rb") as f:
            sig = hmac.new(f.read(), msg, hashlib.sha256).digest()
    return f"{h}.{p}.{b64u(sig)}"


def jwt():
    good = {"iss": CLIENT, "sub": CLIENT, "aud": AUD, "exp": NOW + 300, "iat": NOW, "jti": "seed-1"}
    adobe = {"iss": ORG, "sub": TECH, "aud": f"https://ims-na1.adobelogin.com/c/{CLIENT}", "exp": NOW + 600,
             "https://ims-na1.adobelogin.com/s/ent_analytics_bulk_ingest_sdk": True}
    tokens = {
        "es256-client-auth": sign({"alg": "ES256", "typ": "JWT"}, good),
        "rs256-client-auth": sign({"alg": "RS256", "typ": "JWT"}, good),
        "rs512-adobe-exchange": sign({"alg": "RS512"}, adobe),
        "es256-expired": sign({"alg": "ES256"}, dict(good, exp=NOW - 3600)),
        "es256-too-long": sign({"alg": "ES256"}, dict(good, exp=NOW + 7 * 86400)),
        "es256-other-client-aud": sign({"alg": "ES256"}, dict(good, aud=[AUD, "https://gatehouse.test/c/other"])),
        "es256-fractional-exp": sign({"alg": "ES256"}, dict(good, exp=NOW + 10.5, nbf=NOW - 1.25)),
        "es256-crit": sign({"alg": "ES256", "crit": ["exp"]}, good),
        "alg-none": sign({"alg": "none"}, good),
        "hs256-with-cert": sign({"alg": "HS256"}, good),
        "own-id-token": sign({"alg": "ES256", "typ": "JWT", "kid": "ec"}, {"sub": "acct", "aud": CLIENT, "exp": NOW}),
        "own-access-token": sign({"alg": "RS256", "typ": "at+jwt", "kid": "rsa"},
                                 {"sub": "acct", "client_id": CLIENT, "scope": "openid email", "exp": NOW + 60}),
    }
    for name, t in tokens.items():
        write("jwt", name, b"\x00" + t.encode())
    write("jwt", "two-parts", b"\x00eyJhbGciOiJFUzI1NiJ9.e30")
    for mode, name in ((1, "ec"), (2, "rsa")):
        write("jwt", f"claims-{name}-good", bytes([mode]) + json.dumps(good).encode())
        write("jwt", f"claims-{name}-adobe", bytes([mode]) + json.dumps(adobe).encode())
    write("jwt", "claims-ec-org-issuer", b"\x01" + json.dumps(dict(good, iss=ORG, sub=TECH, jti="")).encode())
    write("jwt", "claims-rsa-aud-array", b"\x02" + json.dumps(dict(good, aud=[AUD, 7])).encode())
    write("jwt", "header-hs256", b'\x03{"alg":"HS256","typ":"JWT","kid":"ec"}')
    write("jwt", "header-es256", b'\x03{"alg":"ES256","typ":"JWT","kid":"ec"}')


def redirect():
    cases = [
        (0, r"https://app\.example\.com/cb/.*", "https://app.example.com/cb/x?y=1"),
        (0, r"https://app\.example\.com/cb/.*", "https://app.example.com@evil.com/cb/x"),
        (0, r"https://app\.example\.com/cb/.*", "https://evil.com\\@app.example.com/cb/"),
        (0, r"https://app\.example\.com/cb/.*", "https://app.example.com/cb/%2e%2e/admin"),
        (0, r"https://app\.example\.com/cb/.*", "https://app.example.com/cb/#frag"),
        (0, r"https://app\.example\.com:8443/.*", "https://APP.example.com:8443/x"),
        (0, r"https://app\.example\.com:8443/.*", "https://app.example.com:443/x"),
        (0, r"https://app\.example\.com/(a|b)", "https://app.example.com/a"),
        (0, r"https://a\.com/|https://evil\.com/", "https://evil.com/"),
        (0, r"https://app.example.com/cb", "https://appxexample.com/cb"),
        (0, r"https://app\.example\.com\/cb", "https://app\uff0eexample\uff0ecom/cb"),
        (0, r"https://xn--bcher-kva\.example/cb", "https://b\u00fccher.example/cb"),
        (0, r"https://app\.example\.com/cb", "https://app.example.com./cb"),
        (1, r"https://spa\.example\.com/.*", "https://spa.example.com/#/route"),
        (1, r"http://localhost:3000/.*", "http://localhost:3000/\\evil.com"),
        (2, r"http://127\.0\.0\.1/callback", "http://127.0.0.1:51004/callback"),
        (2, r"http://\[::1\]/callback", "http://[::1]:8080/callback"),
        (2, r"http://\[::1\]/callback", "http://[0:0:0:0:0:0:0:1]/callback"),
        (2, r"com\.example\.app:/.*", "com.example.app:/oauth2redirect"),
        (2, r"com\.example\.app:/.*", "com.example.app://evil.com/"),
        (2, r"javascript:.*", "javascript:alert(1)"),
        (2, r"http://localhost/cb.*", "http://localhost/cb@evil.com"),
        (0, r"https://app\.example\.com/a{1000}{1000}", "https://app.example.com/a"),
        (0, r"^https://app\.example\.com/", "https://app.example.com/"),
        (0, r"https://app\.example\.com/(?i)CB", "https://app.example.com/cb"),
        (0, r"https://app\.example\.com/cb", "https://app.example.com/cb\t"),
    ]
    for i, (p, pat, uri) in enumerate(cases):
        write("redirect_uri", f"seed-{i:02}", bytes([p]) + f"{pat}\n{uri}".encode())


def form():
    basic = base64.b64encode(b"0123456789abcdef0123456789abcdef:s3cr%3At").decode()
    assertion = sign({"alg": "ES256"}, {"iss": CLIENT, "sub": CLIENT, "aud": AUD, "exp": NOW + 60, "jti": "f"})
    cases = [
        (0, "", "", "grant_type=client_credentials&client_id=" + CLIENT + "&client_secret=s3cret&scope=openid%20AdobeID"),
        (4, "", "Basic " + basic, "grant_type=authorization_code&code=abc&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback&code_verifier=" + "a" * 43),
        (0, "", "", "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=" + assertion),
        (0, "", "", "grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=" + assertion),
        (1, "response_type=code&client_id=" + CLIENT + "&redirect_uri=https://app.example.com/callback&scope=openid+email&state=xyz&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&prompt=login&max_age=300", "", ""),
        (0, "client_id=a", "", "client_id=b"),
        (0, "client_id=a", "", "client_id=a&client_id=a&resource=x&resource=y"),
        (4, "", "Bearer  eyJ.abc.def ", "token=x&token_type_hint=access_token"),
        (4, "", "Basic !!!", "grant_type=refresh_token&refresh_token=r"),
        (3, "", "", "grant_type=client_credentials"),
        (0, "", "", "a=%ZZ&b=%C3%28&c=%e2%82%ac&d=+"),
        (2, "", "", "&&==&a&=b&" + "x=" + "y" * 100),
        (1, "response_type=token&request=eyJ&response_mode=form_post", "", ""),
    ]
    for i, (flags, q, auth, body) in enumerate(cases):
        write("form", f"seed-{i:02}", bytes([flags]) + f"{q}\n{auth}\n{body}".encode())


def multipart():
    pem = open(os.path.join(FUZZ, "keys", "ec.crt")).read()

    def body(fields, boundary="X-BOUNDARY", nl="\r\n"):
        out = ""
        for name, value, extra in fields:
            out += f"--{boundary}{nl}Content-Disposition: form-data; name=\"{name}\"{extra}{nl}{nl}{value}{nl}"
        return out + f"--{boundary}--{nl}"

    cases = [
        (0, body([("grant_type", "client_credentials", ""), ("client_id", CLIENT, ""), ("client_secret", "s", "")])),
        (1, body([("client_id", CLIENT, ""), ("client_secret", "s", ""), ("jwt_token", "eyJ.e30.x", ""),
                  ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer", "")])),
        (2, body([("certificate", pem, "; filename=\"cert.pem\"\r\nContent-Type: application/x-pem-file"),
                  ("name", "Fuzz JWT credential", ""), ("description", "", "")])),
        (3, body([("certificate", pem, "; filename=\"c.crt\"")], boundary="----gatehouse")),
        (0, body([("a", "1", ""), ("a", "2", "")], nl="\n")),
        (0, "--X-BOUNDARY\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nunterminated"),
        (0, body([("bin", "\xff\xfe", "; filename=\"b\"\r\nContent-Type: application/octet-stream")])),
        (0, ""),
    ]
    for i, (flags, b) in enumerate(cases):
        write("multipart", f"seed-{i:02}", bytes([flags]) + b.encode("utf-8", "surrogateescape"))


def cloudevents():
    src = "urn:uuid:6f1c2f0e-8a8e-4b4b-9d0e-2c8f7b0a1d11"
    ev = {"specversion": "1.0", "type": "com.example.invoice.paid", "source": src, "id": "evt-1",
          "time": "2026-05-01T12:00:00Z", "datacontenttype": "application/json", "data": {"amount": 12}}
    cases = [
        (0, ev),
        (0, [ev, dict(ev, id="evt-2", subject="invoice/2", traceparent="00-abc", phidata=True)]),
        (1, {k: v for k, v in ev.items() if k != "specversion"}),
        (0, dict(ev, time="2026-05-01T12:00:00.123456789+02:00", dataschema="https://example.com/s.json")),
        (0, dict(ev, datacontenttype="application/vnd.example+json; charset=utf-8", count2=3, ratio=0.5)),
        (0, dict(ev, data_base64="aGk=")),
        (0, dict(ev, Upper="x")),
        (0, dict(ev, nested={"a": 1})),
        (0, dict(ev, subject=None, time=None)),
        (0, []),
        (0, [ev] * 3),
        (1, dict(ev, specversion="0.3")),
        (0, dict(ev, id="x" * 256)),
        (0, dict(ev, source="has space")),
        (0, "text"),
    ]
    for i, (flags, v) in enumerate(cases):
        write("cloudevents", f"seed-{i:02}", bytes([flags]) + json.dumps(v).encode())
    write("cloudevents", "duplicate-keys", b'\x00{"specversion":"1.0","id":"a","id":"b","source":"s","type":"a.b"}')


def apply_file():
    for name in ("adobe-like.toml", "quickstart.toml"):
        shutil.copy(os.path.join(ROOT, "examples", name), os.path.join(CORPUS, "apply_file", name))
    pem = open(os.path.join(FUZZ, "keys", "rsa.crt")).read()
    small = {
        "inline-certificate.toml": f"[[integrations]]\nname = 'svc'\ntype = 'service_account'\norg = 'Acme'\n"
        f"certificates = ['''\n{pem}''']\n",
        "redirects.toml": "[[integrations]]\nname = 'web'\ntype = 'oauth'\nplatform = 'web'\n"
        "redirect_uri = 'https://app.example.com/cb'\nredirect_patterns = ['https://app\\\\.example\\\\.com/.*', 'https://evil.com']\n",
        "syntax-error.toml": "[[organizations]]\nname = \n",
        "unknown-key.toml": "[[integrations]]\nname = 'a'\ntype = 'api_key'\nsubscriptions = [{ service = 'x', colour = 1 }]\n",
        "missing-cert-file.toml": "[[integrations]]\nname = 'svc'\ntype = 'service_account'\ncertificates = ['certs/nope.crt']\n",
        "webhook.toml": "[[integrations]]\nname = 'e'\ntype = 'server_to_server'\n"
        "[[integrations.event_registrations]]\nname = 'r'\ndelivery_method = 'webhook'\n"
        "webhook_url = 'http://0x7f.1/hook'\nevents = ['com.example.a']\n",
    }
    for name, text in small.items():
        write("apply_file", name, text)


def certificate():
    for name in ("ec.crt", "rsa.crt"):
        pem = open(os.path.join(FUZZ, "keys", name)).read()
        write("certificate", f"pem-{name}", "\x00" + pem)
        der = subprocess.run(["openssl", "x509", "-outform", "DER"], input=pem.encode(), capture_output=True,
                             check=True).stdout
        write("certificate", f"der-{name}", b"\x01" + der)
    ec_pem = open(os.path.join(FUZZ, "keys", "ec.crt")).read()
    rsa_pem = open(os.path.join(FUZZ, "keys", "rsa.crt")).read()
    write("certificate", "pasted-crlf", "\x00  " + ec_pem.replace("\n", "\r\n  "))
    write("certificate", "two-certs", "\x00" + ec_pem + rsa_pem)
    write("certificate", "with-private-key", "\x00" + ec_pem + open(os.path.join(FUZZ, "keys", "ec.key.pem")).read())
    write("certificate", "csr", "\x00-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n")
    write("certificate", "public-key", "\x00-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n")
    write("certificate", "not-base64", "\x00-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n")
    ex = open(os.path.join(ROOT, "examples", "certs", "acme-marketing-automation.crt")).read()
    write("certificate", "example-cert", "\x00" + ex)


def webhook_url():
    urls = [
        "https://crm.acme.example/hooks/gatehouse", "http://hooks.example.com/x", "https://127.0.0.1/",
        "http://2130706433/", "http://0177.0.0.1/", "http://0x7f.1/", "http://0x7f000001/", "http://127.1/",
        "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/", "http://[::1]:8080/", "http://[::]/",
        "http://[::127.0.0.1]/", "http://[64:ff9b::a9fe:a9fe]/", "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.1/", "https://100.64.0.1/", "https://0.0.0.0/", "https://localhost/",
        "https://user:pass@example.com/", "https://example.com/#frag", "https://ex%61mple.com/",
        "https://example.com\\@127.0.0.1/", "https://127.0.0.1\uff0e/", "https://1\uff0e1\uff0e1\uff0e1/",
        "https://[fe80::1%25eth0]/", "https://[fc00::1]/", "https://224.0.0.1/", "javascript:alert(1)",
        "https://0x7f.0x0.0x0.0x1./",
    ]
    for i, u in enumerate(urls):
        write("webhook_url", f"seed-{i:02}", bytes([i % 8]) + u.encode())


if __name__ == "__main__":
    if os.path.isdir(CORPUS):
        shutil.rmtree(CORPUS)
    os.makedirs(os.path.join(CORPUS, "apply_file"))
    for f in (jwt, redirect, form, multipart, cloudevents, apply_file, certificate, webhook_url):
        f()
