//! `/Bulk` (RFC 7644 §3.7): up to [`LIMITS`]`.bulk_max_operations` operations, each run
//! through the same flow as its own request would be, in order; `failOnErrors` stops
//! after that many errors. A later operation may name a user an earlier one created as
//! `/Users/bulkId:{bulkId}`.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Value, json};
use tollgate_scim::patch::PatchRequest;
use tollgate_scim::schema::{BULK_REQUEST, BULK_RESPONSE};
use tollgate_scim::{ScimError, ScimResult, ScimType};

use super::users::Preconditions;
use super::{LIMITS, Scim, ScimCaller};
use crate::engine::RequestMeta;

/// A Bulk request.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkRequest {
    /// Must name the BulkRequest schema.
    #[serde(default)]
    pub schemas: Vec<String>,
    /// Stop after this many errors.
    #[serde(default)]
    pub fail_on_errors: Option<usize>,
    /// The operations.
    #[serde(rename = "Operations", alias = "operations", default)]
    pub operations: Vec<BulkOperation>,
}

/// One operation.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkOperation {
    /// `POST`, `PUT`, `PATCH` or `DELETE`.
    pub method: String,
    /// The client's name for a resource it creates (`POST`).
    #[serde(default)]
    pub bulk_id: Option<String>,
    /// An ETag the resource must be at (`If-Match`).
    #[serde(default)]
    pub version: Option<String>,
    /// `/Users` or `/Users/{id}`.
    pub path: String,
    /// The body.
    #[serde(default)]
    pub data: Option<Value>,
}

impl Scim<'_> {
    /// Runs a Bulk request whose body was `size` bytes. Over the operation or size limit:
    /// 413 and nothing is done.
    pub async fn bulk(
        &self,
        caller: &ScimCaller,
        size: usize,
        body: &Value,
        meta: &RequestMeta,
    ) -> ScimResult<Value> {
        if size > LIMITS.bulk_max_payload {
            return Err(ScimError::status(
                413,
                format!(
                    "the Bulk request is larger than maxPayloadSize ({} bytes)",
                    LIMITS.bulk_max_payload
                ),
            ));
        }
        let req: BulkRequest = serde_json::from_value(body.clone()).map_err(|e| {
            ScimError::bad(ScimType::InvalidSyntax, format!("not a Bulk request: {e}"))
        })?;
        if !req.schemas.iter().any(|s| s == BULK_REQUEST) {
            return Err(ScimError::bad(
                ScimType::InvalidSyntax,
                format!("schemas must be [\"{BULK_REQUEST}\"]"),
            ));
        }
        if req.operations.len() > LIMITS.bulk_max_operations {
            return Err(ScimError::status(
                413,
                format!(
                    "the Bulk request has more than maxOperations ({}) operations",
                    LIMITS.bulk_max_operations
                ),
            ));
        }
        let mut created: HashMap<String, String> = HashMap::new();
        let mut results = Vec::with_capacity(req.operations.len());
        let mut errors = 0;
        for op in &req.operations {
            if req.fail_on_errors.is_some_and(|n| n > 0 && errors >= n) {
                break;
            }
            let out = self.one(caller, op, &created, meta).await;
            let mut r = json!({"method": op.method});
            if let (Some(b), Some(o)) = (&op.bulk_id, r.as_object_mut()) {
                o.insert("bulkId".into(), Value::String(b.clone()));
            }
            match out {
                Ok((status, location, version, id)) => {
                    if let (Some(b), Some(id)) = (&op.bulk_id, id) {
                        created.insert(b.clone(), id);
                    }
                    if let Some(o) = r.as_object_mut() {
                        o.insert("status".into(), Value::String(status.to_string()));
                        if let Some(l) = location {
                            o.insert("location".into(), Value::String(l));
                        }
                        if let Some(v) = version {
                            o.insert("version".into(), Value::String(v));
                        }
                    }
                }
                Err(e) => {
                    errors += 1;
                    if let Some(c) = &e.cause {
                        tracing::error!(cause = %c, "SCIM bulk operation failed");
                    }
                    if let Some(o) = r.as_object_mut() {
                        o.insert("status".into(), Value::String(e.status.to_string()));
                        o.insert("response".into(), e.to_json());
                    }
                }
            }
            results.push(r);
        }
        Ok(json!({"schemas": [BULK_RESPONSE], "Operations": results}))
    }

    /// One operation: (status, location, version, id of what it created).
    async fn one(
        &self,
        caller: &ScimCaller,
        op: &BulkOperation,
        created: &HashMap<String, String>,
        meta: &RequestMeta,
    ) -> ScimResult<(u16, Option<String>, Option<String>, Option<String>)> {
        let path = op.path.trim().trim_end_matches('/');
        let (kind, id) = match path.trim_start_matches('/').split_once('/') {
            Some((k, id)) => (k, Some(id)),
            None => (path.trim_start_matches('/'), None),
        };
        if kind != "Users" {
            return Err(ScimError::bad(
                ScimType::InvalidPath,
                format!("{path:?}: Bulk operations here are on /Users"),
            ));
        }
        let id = match id {
            Some(i) => match i.strip_prefix("bulkId:") {
                Some(b) => Some(created.get(b).cloned().ok_or_else(|| {
                    ScimError::bad(
                        ScimType::InvalidValue,
                        format!("no earlier operation has bulkId {b:?}"),
                    )
                })?),
                None => Some(i.to_owned()),
            },
            None => None,
        };
        let pre = Preconditions {
            if_match: op.version.clone(),
        };
        let data = || {
            op.data
                .as_ref()
                .ok_or_else(|| ScimError::bad(ScimType::InvalidSyntax, "the operation needs data"))
        };
        let method = op.method.to_ascii_uppercase();
        match (method.as_str(), id) {
            ("POST", None) => {
                if op.bulk_id.is_none() {
                    return Err(ScimError::bad(
                        ScimType::InvalidSyntax,
                        "POST needs a bulkId",
                    ));
                }
                let v = self.create_user(caller, data()?, meta).await?;
                let id = v.body.get("id").and_then(Value::as_str).map(str::to_owned);
                Ok((201, Some(v.location), Some(v.etag), id))
            }
            ("PUT", Some(id)) => {
                let v = self.replace_user(caller, &id, data()?, &pre, meta).await?;
                Ok((200, Some(v.location), Some(v.etag), None))
            }
            ("PATCH", Some(id)) => {
                let req: PatchRequest = serde_json::from_value(data()?.clone()).map_err(|e| {
                    ScimError::bad(ScimType::InvalidSyntax, format!("not a PATCH request: {e}"))
                })?;
                let v = self.patch_user(caller, &id, &req, &pre, meta).await?;
                Ok((200, Some(v.location), Some(v.etag), None))
            }
            ("DELETE", Some(id)) => {
                let location = format!("{}/Users/{id}", self.base(&caller.tenant));
                self.delete_user(caller, &id, &pre, meta).await?;
                Ok((204, Some(location), None, None))
            }
            (m, _) => Err(ScimError::bad(
                ScimType::InvalidSyntax,
                format!("{m} {path}: POST /Users, or PUT, PATCH or DELETE /Users/{{id}}"),
            )),
        }
    }
}
