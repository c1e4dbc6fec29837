// Gatehouse passkeys: WebAuthn in the browser. Pages work without this script; it reveals the
// passkey controls (rendered hidden) when the browser supports WebAuthn, and for each one runs a
// ceremony: POST <options> -> navigator.credentials.create/get -> POST <finish> -> follow
// { redirect }. Requests are JSON with the CSRF token in the x-csrf-token header.
"use strict";
(function () {
  if (!window.PublicKeyCredential || !navigator.credentials) return;

  function toBuffer(b64url) {
    var s = b64url.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }

  function toB64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function post(url, csrf, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", "x-csrf-token": csrf },
      body: JSON.stringify(body)
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (json) {
        if (!res.ok) throw new Error(json.detail || "The server refused the request. Reload the page and try again.");
        return json;
      });
    });
  }

  function creationOptions(pk) {
    pk.challenge = toBuffer(pk.challenge);
    pk.user.id = toBuffer(pk.user.id);
    (pk.excludeCredentials || []).forEach(function (c) { c.id = toBuffer(c.id); });
    return { publicKey: pk };
  }

  function requestOptions(pk) {
    pk.challenge = toBuffer(pk.challenge);
    (pk.allowCredentials || []).forEach(function (c) { c.id = toBuffer(c.id); });
    return { publicKey: pk };
  }

  function attestation(cred) {
    return {
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      extensions: {},
      response: {
        attestationObject: toB64url(cred.response.attestationObject),
        clientDataJSON: toB64url(cred.response.clientDataJSON),
        transports: cred.response.getTransports ? cred.response.getTransports() : undefined
      }
    };
  }

  function assertion(cred) {
    var r = cred.response;
    return {
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      extensions: {},
      response: {
        authenticatorData: toB64url(r.authenticatorData),
        clientDataJSON: toB64url(r.clientDataJSON),
        signature: toB64url(r.signature),
        userHandle: r.userHandle ? toB64url(r.userHandle) : null
      }
    };
  }

  function explain(err) {
    if (err && err.name === "NotAllowedError") return "The passkey request was cancelled or timed out. Try again.";
    if (err && err.name === "InvalidStateError") return "This device already has a passkey for your account.";
    return (err && err.message) || "Something went wrong. Try again.";
  }

  function run(box, button) {
    var csrf = box.getAttribute("data-csrf");
    var kind = box.getAttribute("data-passkey");
    var status = box.querySelector("[data-passkey-status]");
    var nameInput = box.querySelector("input[data-passkey-name]");
    var name = nameInput ? nameInput.value : "";
    var start = box.getAttribute("data-options");
    var finish = box.getAttribute("data-finish");
    var ceremony;
    status.textContent = "";
    button.disabled = true;
    var body = kind === "register" ? { name: name } : {};
    post(start, csrf, body)
      .then(function (opts) {
        ceremony = opts.ceremony;
        if (kind === "register") return navigator.credentials.create(creationOptions(opts.publicKey)).then(attestation);
        return navigator.credentials.get(requestOptions(opts.publicKey)).then(assertion);
      })
      .then(function (credential) {
        return post(finish, csrf, {
          ceremony: ceremony,
          credential: credential,
          name: name,
          return_to: box.getAttribute("data-return-to") || ""
        });
      })
      .then(function (next) { window.location.assign(next.redirect); })
      .catch(function (err) {
        status.textContent = explain(err);
        button.disabled = false;
        if (nameInput) nameInput.focus();
      });
  }

  document.querySelectorAll("[data-passkey]").forEach(function (box) {
    box.hidden = false;
    document.querySelectorAll("[data-passkey-nojs]").forEach(function (el) { el.hidden = true; });
    var form = box.querySelector("form");
    var button = box.querySelector("button");
    var go = function (e) { e.preventDefault(); run(box, button); };
    if (form) form.addEventListener("submit", go);
    else button.addEventListener("click", go);
  });
})();
