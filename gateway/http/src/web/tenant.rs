//! The `{tenant}` path segment.

use std::sync::Arc;
use tollgate_engine::EngineError;
use tollgate_engine::ids::TenantId;
use tollgate_engine::model::Tenant;

use crate::state::AppState;
use crate::web::error::PageError;

/// Parses the `{tenant}` path segment; an impossible id is simply unknown.
pub fn tenant_id(raw: &str) -> Result<TenantId, EngineError> {
    TenantId::parse(raw).map_err(|_| EngineError::NotFound("tenant"))
}

/// The tenant named in the path.
pub async fn tenant(st: &AppState, path: &str) -> Result<(TenantId, Arc<Tenant>), PageError> {
    let t = tenant_id(path)?;
    let tenant = st.engine.tenant(&t).await?;
    Ok((t, tenant))
}
