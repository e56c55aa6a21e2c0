"""Plays a SAML 2.0 service provider against Tollgate's identity provider with pysaml2
(an independent implementation, which checks signatures with the xmlsec1 program).

Run by gateway/tests/saml_clients.rs (ops/test.sh) with the server's base URL, the admin
token, a tenant with one user, and that user's email and password:

    python saml_sp.py http://127.0.0.1:PORT ADMIN_TOKEN tenant user@example PASSWORD

1. makes an SP key and certificate, registers the SP by its pysaml2 metadata through the
   admin API, and reads the IdP's metadata;
2. SP-initiated SSO, HTTP-Redirect binding, signed query: pysaml2 validates the response
   (signature, audience, recipient, InResponseTo, time window) and reads the attributes;
3. the same, HTTP-POST binding with the request signed inside: the same NameID comes back;
4. IdP-initiated SSO: an unsolicited response pysaml2 accepts;
5. bad requests pysaml2 builds: unsigned, signed by a key the IdP does not know, replayed:
   each refused with its code;
6. single logout: pysaml2's LogoutRequest ends the session; its LogoutResponse validates.

Prints one line per step and exits non-zero at the first failure.
"""

import base64
import datetime
import html
import os
import re
import sys
import tempfile

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAMEID_FORMAT_PERSISTENT
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

SP = "https://sp.pysaml2.example/metadata"
ACS = "https://sp.pysaml2.example/acs"
SLO = "https://sp.pysaml2.example/slo"


def step(name):
    print(f"ok: {name}", flush=True)


def key_pair(directory, name):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_file = os.path.join(directory, f"{name}.key")
    cert_file = os.path.join(directory, f"{name}.crt")
    with open(key_file, "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            )
        )
    with open(cert_file, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file


def sp_config(key_file, cert_file, idp_metadata_file=None):
    conf = {
        "entityid": SP,
        "key_file": key_file,
        "cert_file": cert_file,
        "xmlsec_binary": "/usr/bin/xmlsec1",
        "service": {
            "sp": {
                "endpoints": {
                    "assertion_consumer_service": [(ACS, BINDING_HTTP_POST)],
                    "single_logout_service": [(SLO, BINDING_HTTP_POST)],
                },
                "authn_requests_signed": True,
                "want_assertions_signed": True,
                "want_response_signed": False,
                "logout_requests_signed": True,
                "allow_unsolicited": True,
                "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                "signing_algorithm": SIG_RSA_SHA256,
                "digest_algorithm": DIGEST_SHA256,
            }
        },
        "accepted_time_diff": 5,
        # Tollgate's attribute names are the admin's mapping (mail, displayName).
        "allow_unknown_attributes": True,
    }
    if idp_metadata_file:
        conf["metadata"] = {"local": [idp_metadata_file]}
    c = SPConfig()
    c.load(conf)
    return c


def hidden(page, name):
    m = re.search(rf'name="{name}" value="([^"]*)"', page)
    return html.unescape(m.group(1)) if m else None


def form_action(page):
    m = re.search(r'<form method="post" action="([^"]*)"', page)
    return html.unescape(m.group(1)) if m else None


def drive(browser, url, email, password, method="GET", data=None):
    """Follows the IdP's redirects, signing in when the sign-in page shows up; returns the
    last response."""
    r = browser.request(method, url, data=data, allow_redirects=False)
    for _ in range(10):
        if r.status_code not in (302, 303):
            return r
        location = requests.compat.urljoin(r.url, r.headers["Location"])
        if location.endswith("/login"):
            page = browser.get(location).text
            r = browser.post(
                location,
                data={"email": email, "password": password, "csrf": hidden(page, "csrf")},
                allow_redirects=False,
            )
            assert r.status_code == 303, f"sign-in failed: {r.status_code} {r.text[:500]}"
            continue
        r = browser.get(location, allow_redirects=False)
    raise AssertionError(f"too many redirects from {url}")


def refusal_code(r):
    m = re.search(r"\(([a-z_]+)\)</p>", r.text)
    return (r.status_code, m.group(1) if m else None)


def main():
    base, admin_token, tenant, email, password = sys.argv[1:6]
    idp = f"{base}/{tenant}"
    work = tempfile.mkdtemp()
    key_file, cert_file = key_pair(work, "sp")

    # 1. Registration by pysaml2's own metadata; then the IdP's metadata.
    sp_metadata = str(entity_descriptor(sp_config(key_file, cert_file)))
    r = requests.post(
        f"{base}/admin/v1/tenants/{tenant}/saml/sps",
        headers={"Authorization": f"Bearer {admin_token}"},
        json={
            "metadata": sp_metadata,
            "attributes": [
                {"claim": "email", "attribute": "mail"},
                {"claim": "name", "attribute": "displayName"},
            ],
        },
    )
    assert r.status_code == 201, r.text
    registered = r.json()
    assert registered["entity_id"] == SP and registered["acs_urls"] == [ACS], registered
    assert registered["certificate"], "the SP's signing certificate was read"
    r = requests.get(f"{idp}/saml/metadata")
    assert r.status_code == 200, r.text
    idp_metadata_file = os.path.join(work, "idp.xml")
    with open(idp_metadata_file, "w") as f:
        f.write(r.text)
    client = Saml2Client(sp_config(key_file, cert_file, idp_metadata_file))
    step("SP registered by its metadata; IdP metadata loaded by pysaml2")

    # 2. SP-initiated, HTTP-Redirect, signed query.
    browser = requests.Session()
    req_id, info = client.prepare_for_authenticate(
        entityid=idp,
        relay_state="rs-redirect",
        binding=BINDING_HTTP_REDIRECT,
        sigalg=SIG_RSA_SHA256,
    )
    redirect_url = dict(info["headers"])["Location"]
    r = drive(browser, redirect_url, email, password)
    assert r.status_code == 200, r.text[:1000]
    assert form_action(r.text) == ACS, r.text[:1000]
    assert hidden(r.text, "RelayState") == "rs-redirect"
    resp = client.parse_authn_request_response(
        hidden(r.text, "SAMLResponse"), BINDING_HTTP_POST, outstanding={req_id: "/"}
    )
    assert resp is not None, "pysaml2 refused the response"
    name_id = resp.name_id
    assert name_id.format == NAMEID_FORMAT_PERSISTENT, name_id
    identity = resp.get_identity()
    assert identity.get("mail") == [email], identity
    assert identity.get("displayName") == ["Ada Lovelace"], identity
    assert resp.assertion.conditions.audience_restriction[0].audience[0].text == SP
    step(f"SP-initiated SSO (Redirect): response validated, attributes {sorted(identity)}")

    # The same signed URL again is a replay.
    r = browser.get(redirect_url, allow_redirects=False)
    assert refusal_code(r) == (400, "replayed"), refusal_code(r)
    step("a replayed AuthnRequest is refused (replayed)")

    # 3. SP-initiated, HTTP-POST, signed inside; the session is reused.
    req_id, info = client.prepare_for_authenticate(
        entityid=idp, relay_state="rs-post", binding=BINDING_HTTP_POST
    )
    form = info["data"]
    saml_request = hidden(form, "SAMLRequest")
    xml = base64.b64decode(saml_request).decode()
    assert "Signature" in xml, "pysaml2 signed the POST request"
    r = drive(
        browser,
        f"{idp}/saml/sso",
        email,
        password,
        method="POST",
        data={"SAMLRequest": saml_request, "RelayState": "rs-post"},
    )
    assert r.status_code == 200, r.text[:1000]
    resp = client.parse_authn_request_response(
        hidden(r.text, "SAMLResponse"), BINDING_HTTP_POST, outstanding={req_id: "/"}
    )
    assert resp.name_id.text == name_id.text, "the persistent NameID is stable"
    session_index = resp.assertion.authn_statement[0].session_index
    step("SP-initiated SSO (POST): response validated, same NameID")

    # 4. IdP-initiated: unsolicited, accepted by pysaml2 (allow_unsolicited).
    r = drive(browser, f"{idp}/saml/idp-init?sp={requests.utils.quote(SP, safe='')}", email, password)
    assert r.status_code == 200, r.text[:1000]
    resp = client.parse_authn_request_response(hidden(r.text, "SAMLResponse"), BINDING_HTTP_POST)
    assert resp is not None and resp.name_id.text == name_id.text
    assert resp.in_response_to is None
    step("IdP-initiated SSO: unsolicited response validated")

    # 5. Bad requests pysaml2 builds.
    _, unsigned = client.create_authn_request(idp + "/saml/sso", sign=False)
    from saml2.pack import http_redirect_message

    info = http_redirect_message(str(unsigned), idp + "/saml/sso", relay_state="x", typ="SAMLRequest")
    r = requests.get(dict(info["headers"])["Location"], allow_redirects=False)
    assert refusal_code(r) == (400, "signature_missing"), refusal_code(r)
    other_key, other_cert = key_pair(work, "other")
    other = Saml2Client(sp_config(other_key, other_cert, idp_metadata_file))
    _, info = other.prepare_for_authenticate(
        entityid=idp, binding=BINDING_HTTP_REDIRECT, sigalg=SIG_RSA_SHA256
    )
    r = requests.get(dict(info["headers"])["Location"], allow_redirects=False)
    assert refusal_code(r) == (400, "bad_signature"), refusal_code(r)
    step("unsigned and wrongly signed AuthnRequests are refused")

    # 6. Single logout, signed LogoutRequest over HTTP-Redirect.
    _, logout = client.create_logout_request(
        idp + "/saml/slo",
        idp,
        name_id=name_id,
        session_indexes=[session_index],
        sign=False,
    )
    info = client.apply_binding(
        BINDING_HTTP_REDIRECT,
        str(logout),
        idp + "/saml/slo",
        relay_state="bye",
        sign=True,
        sigalg=SIG_RSA_SHA256,
    )
    r = browser.get(dict(info["headers"])["Location"], allow_redirects=False)
    assert r.status_code == 200, r.text[:1000]
    assert form_action(r.text) == SLO
    response = client.parse_logout_request_response(hidden(r.text, "SAMLResponse"), BINDING_HTTP_POST)
    assert response is not None and response.status_ok(), response
    r = browser.get(f"{idp}/account", allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"].endswith("/login"), "the session ended"
    step("single logout: session ended, LogoutResponse validated")
    print("all SAML SP checks passed", flush=True)


if __name__ == "__main__":
    main()
