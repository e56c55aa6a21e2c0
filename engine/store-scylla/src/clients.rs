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
        let values = (client.tenant.as_str(), client.id.as_str(), encode(client));
        if self.lwt(&r.st.client_insert, values).await? {
            Ok(())
        } else {
            Err(StoreError::Conflict)
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
}
