// Tollgate's passkey ceremonies (WebAuthn). Served as /assets/passkeys.js; pages allow
// only scripts from their own origin. Each ceremony is a block in the page:
//
//   <div data-passkey="register|login|factor" data-start=URL data-finish=URL
//        data-csrf=TOKEN [data-pending=HANDLE] [data-tx=TX]
//        data-msg-cancelled=… data-msg-exists=… data-msg-expired=…
//        data-msg-signed-out=… data-msg-failed=… hidden>…</div>
//
// The data-msg-* attributes are the status texts, in the page's language (the page's
// template fills them from the message catalogue): the script itself shows no words of
// its own.
//
// It asks the gateway for options (POST JSON, CSRF token in X-CSRF-Token), hands them to
// navigator.credentials, sends the result back, and follows the redirect it gets. The
// sign-in page also offers passkeys in the email field's autofill (conditional UI).
(function () {
  "use strict";

  if (!window.PublicKeyCredential || !navigator.credentials || window.tollgatePasskeys) {
    return; // No WebAuthn: the blocks stay hidden and the forms work as before.
  }
  window.tollgatePasskeys = true; // Once, however many blocks include the script.

  function toBuffer(s) {
    var b64 = s.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) {
      b64 += "=";
    }
    var bin = atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) {
      out[i] = bin.charCodeAt(i);
    }
    return out.buffer;
  }

  function toBase64url(buf) {
    var bytes = new Uint8Array(buf);
    var s = "";
    for (var i = 0; i < bytes.length; i++) {
      s += String.fromCharCode(bytes[i]);
    }
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // Browsers reject null where a member may only be absent: drop them.
  function clean(v) {
    if (Array.isArray(v)) {
      return v.map(clean);
    }
    if (v && typeof v === "object") {
      var out = {};
      Object.keys(v).forEach(function (k) {
        if (v[k] !== null) {
          out[k] = clean(v[k]);
        }
      });
      return out;
    }
    return v;
  }

  function creationOptions(options) {
    var pk = clean(options.publicKey);
    pk.challenge = toBuffer(pk.challenge);
    pk.user.id = toBuffer(pk.user.id);
    (pk.excludeCredentials || []).forEach(function (c) {
      c.id = toBuffer(c.id);
    });
    return pk;
  }

  function requestOptions(options) {
    var pk = clean(options.publicKey);
    pk.challenge = toBuffer(pk.challenge);
    (pk.allowCredentials || []).forEach(function (c) {
      c.id = toBuffer(c.id);
    });
    return pk;
  }

  function registration(cred) {
    var r = cred.response;
    return {
      id: cred.id,
      rawId: toBase64url(cred.rawId),
      type: cred.type,
      response: {
        attestationObject: toBase64url(r.attestationObject),
        clientDataJSON: toBase64url(r.clientDataJSON),
        transports: r.getTransports ? r.getTransports() : undefined
      },
      extensions: cred.getClientExtensionResults()
    };
  }

  function assertion(cred) {
    var r = cred.response;
    return {
      id: cred.id,
      rawId: toBase64url(cred.rawId),
      type: cred.type,
      response: {
        authenticatorData: toBase64url(r.authenticatorData),
        clientDataJSON: toBase64url(r.clientDataJSON),
        signature: toBase64url(r.signature),
        userHandle: r.userHandle ? toBase64url(r.userHandle) : null
      },
      extensions: cred.getClientExtensionResults()
    };
  }

  function post(box, url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": box.dataset.csrf },
      body: JSON.stringify(body)
    }).then(function (res) {
      return res.json().catch(function () {
        return {};
      }).then(function (json) {
        if (!res.ok && json.redirect) {
          // The server wants another page first (confirm it's you): go there.
          window.location.assign(json.redirect);
        }
        if (!res.ok) {
          var err = new Error(json.error_description || "");
          err.status = res.status;
          err.server = true;
          throw err;
        }
        return json;
      });
    });
  }

  function status(box, message) {
    var p = box.querySelector("[data-status]");
    if (!p) {
      return;
    }
    p.textContent = message || "";
    p.hidden = !message;
  }

  // The status text for `err`, from the block's data-msg-* attributes.
  function explain(box, err) {
    var m = box.dataset;
    var text = null;
    if (err && err.name === "NotAllowedError") {
      text = m.msgCancelled;
    } else if (err && err.name === "InvalidStateError") {
      text = m.msgExists;
    } else if (err && err.server && err.status === 403) {
      text = m.msgExpired;
    } else if (err && err.server && err.status === 401) {
      text = m.msgSignedOut;
    }
    return text || m.msgFailed || (err && err.message) || "";
  }

  function context(box) {
    var body = {};
    if (box.dataset.pending) {
      body.pending = box.dataset.pending;
    }
    if (box.dataset.tx) {
      body.tx = box.dataset.tx;
    }
    return body;
  }

  function register(box, button) {
    button.disabled = true;
    status(box, "");
    var body = context(box);
    post(box, box.dataset.start, body)
      .then(function (started) {
        return navigator.credentials
          .create({ publicKey: creationOptions(started.options) })
          .then(function (cred) {
            var label = box.querySelector("input[type=text]");
            body.handle = started.handle;
            body.credential = registration(cred);
            body.label = label ? label.value : "";
            return post(box, box.dataset.finish, body);
          });
      })
      .then(function (done) {
        window.location.assign(done.redirect);
      })
      .catch(function (err) {
        status(box, explain(box, err));
        button.disabled = false;
      });
  }

  // Runs a sign-in or second-factor ceremony; `mediation` is "conditional" for the
  // email field's autofill.
  function authenticate(box, mediation, signal) {
    var body = context(box);
    return post(box, box.dataset.start, body).then(function (started) {
      var request = { publicKey: requestOptions(started.options) };
      if (mediation) {
        request.mediation = mediation;
        request.signal = signal;
      }
      return navigator.credentials.get(request).then(function (cred) {
        body.handle = started.handle;
        body.credential = assertion(cred);
        return post(box, box.dataset.finish, body);
      });
    }).then(function (done) {
      window.location.assign(done.redirect);
    });
  }

  function setUpLogin(box) {
    var button = box.querySelector("button");
    var pending = null; // the autofill request, aborted before a button press
    var controller = null;

    function conditional() {
      if (!PublicKeyCredential.isConditionalMediationAvailable) {
        return;
      }
      PublicKeyCredential.isConditionalMediationAvailable().then(function (ok) {
        if (!ok || pending) {
          return;
        }
        controller = new AbortController();
        pending = authenticate(box, "conditional", controller.signal).catch(function (err) {
          if (err && err.name !== "AbortError") {
            status(box, explain(box, err));
          }
        });
      });
    }

    button.addEventListener("click", function () {
      button.disabled = true;
      status(box, "");
      var before = Promise.resolve();
      if (controller) {
        controller.abort();
        before = pending;
      }
      before.then(function () {
        pending = null;
        controller = null;
        return authenticate(box, null, null);
      }).catch(function (err) {
        status(box, explain(box, err));
        button.disabled = false;
      });
    });
    conditional();
  }

  function setUpFactor(box) {
    var button = box.querySelector("button");
    button.addEventListener("click", function () {
      button.disabled = true;
      status(box, "");
      authenticate(box, null, null).catch(function (err) {
        status(box, explain(box, err));
        button.disabled = false;
      });
    });
  }

  function setUp() {
    document.querySelectorAll("[data-passkey]").forEach(function (box) {
      box.hidden = false;
      var kind = box.dataset.passkey;
      if (kind === "register") {
        var button = box.querySelector("button");
        button.addEventListener("click", function () {
          register(box, button);
        });
      } else if (kind === "login") {
        setUpLogin(box);
      } else if (kind === "factor") {
        setUpFactor(box);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
