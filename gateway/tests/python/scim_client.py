"""Drives Tollgate's SCIM 2.0 server with independent SCIM libraries from PyPI.

Run by gateway/tests/scim_clients.rs (ops/test.sh) with the server's SCIM base URL, a
tenant SCIM token and an email domain:

    python scim_client.py https://host/tenant/scim/v2 tgscim_... example.test

1. scim2-client: discovery, then a user's life: create (with the enterprise extension),
   read, filter, PATCH, replace with its ETag, a duplicate refused, a stale ETag refused,
   Bulk, delete. Each response is parsed and validated by scim2-models.
2. scim2-tester: its discovery and miscellaneous checks of the server (its create,
   replace and delete checks make up random userNames that are not email addresses,
   which Tollgate's login id must be; step 1 covers those operations instead).

Prints one line per step and exits non-zero at the first failure.
"""

import sys
import uuid

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_models import (
    EnterpriseUser,
    Error,
    ListResponse,
    PatchOp,
    SearchRequest,
    User,
)
from scim2_tester import Status, check_server


def step(name):
    print(f"ok: {name}", flush=True)


def main():
    base, token, domain = sys.argv[1], sys.argv[2], sys.argv[3]
    http = Client(base_url=base, headers={"Authorization": f"Bearer {token}"})
    scim = SyncSCIMClient(http)
    scim.discover()
    config = scim.provider.config
    assert config.patch.supported
    assert config.bulk.max_operations == 100
    assert config.etag.supported
    names = sorted(rt.name for rt in scim.provider.resource_types)
    assert "User" in names, names
    step(f"discovery: resource types {names}")

    UserModel = scim.get_resource_model("User")
    EnterpriseModel = UserModel[EnterpriseUser] if UserModel is User else UserModel
    login = f"ada.{uuid.uuid4().hex[:8]}@{domain}"
    payload = {
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        ],
        "userName": login,
        "externalId": "HR-1815",
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "displayName": "Ada Lovelace",
        "emails": [{"value": login, "type": "work", "primary": True}],
        "active": True,
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "employeeNumber": "1815",
            "department": "Analytical Engines",
        },
    }
    created = scim.create(UserModel, payload)
    assert created.id, created
    assert created.user_name == login, created.user_name
    assert created.meta.version, "no meta.version (ETag)"
    step(f"create: {created.id}")

    read = scim.query(UserModel, created.id)
    assert read.display_name == "Ada Lovelace"
    enterprise = read["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]
    assert enterprise.department == "Analytical Engines", enterprise
    step("read, with the enterprise extension")

    found = scim.query(
        UserModel, query_parameters=SearchRequest(filter=f'userName eq "{login}"')
    )
    assert isinstance(found, ListResponse) and found.total_results == 1, found
    found = scim.query(
        UserModel, query_parameters=SearchRequest(filter='externalId eq "HR-1815"')
    )
    assert found.total_results >= 1 and any(r.id == created.id for r in found.resources)
    found = scim.query(
        UserModel,
        query_parameters=SearchRequest(
            filter=f'emails[type eq "work" and value ew "@{domain}"] and active eq true',
            sort_by="userName",
            count=5,
        ),
    )
    assert any(r.id == created.id for r in found.resources), found
    step("filters: userName eq, externalId eq, a value path with and")

    patched = scim.modify(
        UserModel,
        created.id,
        PatchOp[UserModel](
            operations=[
                {"op": "replace", "path": "displayName", "value": "Countess of Lovelace"},
                {"op": "add", "path": "nickName", "value": "Ada"},
            ]
        ),
    )
    if patched is None:
        patched = scim.query(UserModel, created.id)
    assert patched.display_name == "Countess of Lovelace", patched
    assert patched.nick_name == "Ada"
    assert patched.meta.version != created.meta.version
    step("patch")

    patched.title = "Mathematician"
    replaced = scim.replace(patched)
    assert replaced.title == "Mathematician", replaced
    step("replace with If-Match")

    stale = scim.replace(read, raise_scim_errors=False, expected_status_codes=None)
    assert isinstance(stale, Error) and int(stale.status) == 412, stale
    step("replace with a stale ETag: 412")

    dup = scim.create(
        UserModel,
        {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": login},
        raise_scim_errors=False,
        expected_status_codes=None,
    )
    assert isinstance(dup, Error) and int(dup.status) == 409, dup
    assert dup.scim_type == "uniqueness", dup
    step("duplicate userName: 409 uniqueness")

    # scim2-models refuses to build a malformed filter, so this one goes out by hand;
    # the answer is still read as a SCIM Error by scim2-models.
    raw = http.get("/Users", params={"filter": 'userName eq "x" and ('})
    bad = Error.model_validate(raw.json())
    assert raw.status_code == 400 and bad.scim_type == "invalidFilter", raw.text
    step("malformed filter: 400 invalidFilter")

    scim.delete(UserModel, created.id)
    gone = scim.query(
        UserModel, created.id, raise_scim_errors=False, expected_status_codes=None
    )
    assert isinstance(gone, Error) and int(gone.status) == 404, gone
    step("delete")

    results = check_server(scim, include_tags={"discovery", "misc"})
    failed = [r for r in results if r.status not in (Status.SUCCESS, Status.SKIPPED)]
    for r in results:
        print(f"  scim2-tester {r.status.name}: {r.title} {r.reason or ''}".rstrip())
    assert results, "scim2-tester ran no checks"
    assert not failed, [f"{r.title}: {r.reason}" for r in failed]
    step(f"scim2-tester: {len(results)} discovery and misc checks")
    print("all SCIM client checks passed")


if __name__ == "__main__":
    main()
