//! [`IdentityStore`]: federation connectors and the upstream identities linked to users.

use async_trait::async_trait;

use crate::ScyllaStore;
use crate::rows::{decode, encode};
use tollgate_store::{IdentityStore, StoreError, StoreResult};
use tollgate_vocab::ids::{TenantId, UserId};
use tollgate_vocab::model::Hash32;

#[async_trait]
impl IdentityStore for ScyllaStore {
    async fn put_connector(
        &self,
        connector: &tollgate_vocab::model::federation::Connector,
    ) -> StoreResult<()> {
        let r = self.region_of(&connector.tenant).await?;
        let values = (
            connector.tenant.as_str(),
            connector.id.as_str(),
            encode(connector),
        );
        self.write(&r.st.connector_put, values).await
    }

    async fn get_connector(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> StoreResult<Option<tollgate_vocab::model::federation::Connector>> {
        let r = self.region_of(tenant).await?;
        let row: Option<(Option<Vec<u8>>,)> =
            self.one(&r.st.connector_get, (tenant.as_str(), id)).await?;
        row.and_then(|(r,)| r).map(|r| decode(&r)).transpose()
    }

    async fn list_connectors(
        &self,
        tenant: &TenantId,
    ) -> StoreResult<Vec<tollgate_vocab::model::federation::Connector>> {
        let r = self.region_of(tenant).await?;
        let rows: Vec<(String, Option<Vec<u8>>)> =
            self.all(&r.st.connector_list, (tenant.as_str(),)).await?;
        rows.into_iter()
            .filter_map(|(_, r)| r)
            .map(|r| decode(&r))
            .collect()
    }

    async fn delete_connector(&self, tenant: &TenantId, id: &str) -> StoreResult<bool> {
        let existed = self.get_connector(tenant, id).await?.is_some();
        if existed {
            let r = self.region_of(tenant).await?;
            self.write(&r.st.connector_delete, (tenant.as_str(), id))
                .await?;
        }
        Ok(existed)
    }

    /// Writes the user's index entry first, then claims the link (`IF NOT EXISTS`); a
    /// lost claim removes the entry again. An entry whose link is missing or another
    /// user's is skipped by `list_links`, so a crash between the two shows nothing.
    async fn create_link(&self, link: &tollgate_vocab::model::federation::Link) -> StoreResult<()> {
        let r = self.region_of(&link.tenant).await?;
        let (t, u, p, k) = (
            link.tenant.as_str(),
            link.user_id.as_str(),
            link.provider.as_str(),
            link.key.0.to_vec(),
        );
        self.write(&r.st.link_user_put, (t, u, p, k.clone()))
            .await?;
        let record = encode(link);
        let answer = self
            .lwt(&r.st.link_insert, (t, p, k.clone(), u, &record))
            .await;
        if let Ok(true) = answer {
            return Ok(());
        }
        // Not applied, or unknown: if the stored link is this very record, it is this
        // write (an attempt whose answer was lost): keep its index entry.
        let holder: Option<(Option<String>, Option<Vec<u8>>)> =
            self.one(&r.st.link_get_serial, (t, p, k.clone())).await?;
        if holder.and_then(|(_, stored)| stored).as_ref() == Some(&record) {
            return Ok(());
        }
        answer?;
        self.write(&r.st.link_user_delete, (t, u, p, k)).await?;
        Err(StoreError::Conflict)
    }

    async fn find_link(
        &self,
        tenant: &TenantId,
        provider: &str,
        key: &Hash32,
    ) -> StoreResult<Option<tollgate_vocab::model::federation::Link>> {
        let r = self.region_of(tenant).await?;
        let row: Option<(Option<String>, Option<Vec<u8>>)> = self
            .one(&r.st.link_get, (tenant.as_str(), provider, key.0.to_vec()))
            .await?;
        row.and_then(|(_, r)| r).map(|r| decode(&r)).transpose()
    }

    async fn list_links(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> StoreResult<Vec<tollgate_vocab::model::federation::Link>> {
        let r = self.region_of(tenant).await?;
        let entries: Vec<(String, Vec<u8>)> = self
            .all(&r.st.link_user_list, (tenant.as_str(), user.as_str()))
            .await?;
        let mut out = Vec::with_capacity(entries.len());
        for (provider, key) in entries {
            let row: Option<(Option<String>, Option<Vec<u8>>)> = self
                .one(&r.st.link_get, (tenant.as_str(), provider.as_str(), key))
                .await?;
            if let Some((Some(owner), Some(rec))) = row
                && owner == user.as_str()
            {
                out.push(decode(&rec)?);
            }
        }
        Ok(out)
    }

    async fn update_link(
        &self,
        link: &tollgate_vocab::model::federation::Link,
    ) -> StoreResult<bool> {
        let r = self.region_of(&link.tenant).await?;
        let (t, p, k) = (
            link.tenant.as_str(),
            link.provider.as_str(),
            link.key.0.to_vec(),
        );
        let record = encode(link);
        let values = (&record, t, p, k.clone(), link.user_id.as_str());
        match self.lwt(&r.st.link_update, values).await {
            Ok(applied) => Ok(applied),
            // Unknown outcome: applied if the link now holds this record.
            Err(e) => {
                let row: Option<(Option<String>, Option<Vec<u8>>)> = self
                    .one(&r.st.link_get_serial, (t, p, k))
                    .await
                    .or(Err(e))?;
                Ok(row.and_then(|(_, stored)| stored).as_ref() == Some(&record))
            }
        }
    }

    async fn delete_link(
        &self,
        tenant: &TenantId,
        user: &UserId,
        provider: &str,
        key: &Hash32,
    ) -> StoreResult<Option<tollgate_vocab::model::federation::Link>> {
        let Some(link) = self
            .find_link(tenant, provider, key)
            .await?
            .filter(|l| &l.user_id == user)
        else {
            return Ok(None);
        };
        let r = self.region_of(tenant).await?;
        let (t, u, k) = (tenant.as_str(), user.as_str(), key.0.to_vec());
        if !self
            .lwt(&r.st.link_remove, (t, provider, k.clone(), u))
            .await?
        {
            return Ok(None);
        }
        self.write(&r.st.link_user_delete, (t, u, provider, k))
            .await?;
        Ok(Some(link))
    }
}
