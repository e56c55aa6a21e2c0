//! [`ClientStore`]: OAuth clients.

use async_trait::async_trait;

use crate::ScyllaStore;
use crate::rows::{decode, encode};
use tollgate_store::{ClientStore, StoreError, StoreResult};
use tollgate_vocab::ids::{ClientId, TenantId};
use tollgate_vocab::model::Client;

#[async_trait]
impl ClientStore for ScyllaStore {
    async fn create_client(&self, client: &Client) -> StoreResult<()> {
        let r = self.region_of(&client.tenant).await?;
        let (t, id, record) = (client.tenant.as_str(), client.id.as_str(), encode(client));
        match self.lwt(&r.st.client_insert, (t, id, &record)).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(StoreError::Conflict),
            // Unknown outcome: a serial read settles the round; our own row is success, so
            // the caller's retry does not meet its own write as a conflict.
            Err(e) => {
                let row: Option<(Option<Vec<u8>>,)> = self
                    .one(&r.st.client_get_serial, (t, id))
                    .await
                    .or(Err(e))?;
                match row.and_then(|(r,)| r) {
                    Some(stored) if stored == record => Ok(()),
                    Some(_) => Err(StoreError::Conflict),
                    None => Err(StoreError::Unavailable(
                        "client creation did not complete".into(),
                    )),
                }
            }
        }
    }

    async fn get_client(&self, tenant: &TenantId, id: &ClientId) -> StoreResult<Option<Client>> {
        let r = self.region_of(tenant).await?;
        let row: Option<(Option<Vec<u8>>,)> = self
            .one(&r.st.client_get, (tenant.as_str(), id.as_str()))
            .await?;
        row.and_then(|(r,)| r).map(|r| decode(&r)).transpose()
    }

    async fn list_clients(&self, tenant: &TenantId) -> StoreResult<Vec<Client>> {
        let r = self.region_of(tenant).await?;
        let rows: Vec<(String, Option<Vec<u8>>)> =
            self.all(&r.st.client_list, (tenant.as_str(),)).await?;
        rows.into_iter()
            .filter_map(|(_, r)| r)
            .map(|r| decode(&r))
            .collect()
    }

    async fn update_client(&self, client: &Client) -> StoreResult<bool> {
        let r = self.region_of(&client.tenant).await?;
        let (t, id, record) = (client.tenant.as_str(), client.id.as_str(), encode(client));
        match self.lwt(&r.st.client_update, (&record, t, id)).await {
            Ok(applied) => Ok(applied),
            // Unknown outcome: a serial read settles the round; our record there is success.
            Err(e) => {
                let row: Option<(Option<Vec<u8>>,)> = self
                    .one(&r.st.client_get_serial, (t, id))
                    .await
                    .or(Err(e))?;
                match row.and_then(|(r,)| r) {
                    Some(stored) if stored == record => Ok(true),
                    None => Ok(false),
                    Some(_) => Err(StoreError::Unavailable(
                        "client update did not complete".into(),
                    )),
                }
            }
        }
    }

    async fn delete_client(&self, tenant: &TenantId, id: &ClientId) -> StoreResult<bool> {
        let r = self.region_of(tenant).await?;
        let (t, id) = (tenant.as_str(), id.as_str());
        match self.lwt(&r.st.client_remove, (t, id)).await {
            Ok(applied) => Ok(applied),
            // Unknown outcome: gone now is what the caller asked for.
            Err(e) => {
                let row: Option<(Option<Vec<u8>>,)> = self
                    .one(&r.st.client_get_serial, (t, id))
                    .await
                    .or(Err(e))?;
                match row.and_then(|(r,)| r) {
                    None => Ok(true),
                    Some(_) => Err(StoreError::Unavailable(
                        "client removal did not complete".into(),
                    )),
                }
            }
        }
    }
}
