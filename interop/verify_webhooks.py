"""Verifies Standard Webhooks signatures of delivered webhooks with the reference library.

Reads JSON from stdin: {"secret": "whsec_…", "deliveries": [{"body_b64": …, "headers": {…}}]}.
Each delivery must verify with `standardwebhooks.Webhook(secret).verify`; a tampered body and a
wrong secret must not. Prints {"verified": n}; exits 1 on the first failure.
"""

import base64
import json
import sys

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def main() -> int:
    spec = json.load(sys.stdin)
    hook = Webhook(spec["secret"])
    stranger = Webhook("whsec_" + base64.b64encode(b"x" * 32).decode())
    verified = 0
    for d in spec["deliveries"]:
        body = base64.b64decode(d["body_b64"])
        headers = d["headers"]
        payload = hook.verify(body, headers)
        if payload.get("id") is None and not isinstance(payload, list):
            print("verified payload has no id", file=sys.stderr)
            return 1
        for bad_hook, bad_body in ((hook, body + b" "), (stranger, body)):
            try:
                bad_hook.verify(bad_body, headers)
            except WebhookVerificationError:
                pass
            else:
                print("a tampered delivery verified", file=sys.stderr)
                return 1
        verified += 1
    print(json.dumps({"verified": verified}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
