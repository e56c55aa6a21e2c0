//! What users granted: [`ConsentStore`] and [`PurposeStore`].

use async_trait::async_trait;

use crate::EmbeddedStore;
use crate::keyspaces::{Ks, io, key};
use tollgate_store::{ConsentStore, PurposeStore, StoreResult};
use tollgate_vocab::ids::{ClientId, TenantId, UserId};
use tollgate_vocab::model::Consent;
use tollgate_vocab::model::privacy::{PrivacySettings, PurposeGrant};

#[async_trait]
impl ConsentStore for EmbeddedStore {
    async fn put_consent(&self, consent: &Consent) -> StoreResult<()> {
        let c = consent.clone();
        self.write(move |tx| {
            let k = key(
                &c.tenant,
                &[
                    c.user_id.as_str().as_bytes(),
                    c.client_id.as_str().as_bytes(),
                ],
            );
            tx.put_json(Ks::Consents, k, &c);
            Ok(())
        })
        .await
    }

    async fn delete_consent(
        &self,
        tenant: &TenantId,
        user: &UserId,
        client: &ClientId,
    ) -> StoreResult<Option<Consent>> {
        let k = key(
            tenant,
            &[user.as_str().as_bytes(), client.as_str().as_bytes()],
        );
        self.write(move |tx| {
            let old: Option<Consent> = tx.get_json(Ks::Consents, &k)?;
            if old.is_some() {
                tx.delete(Ks::Consents, k);
            }
            Ok(old)
        })
        .await
    }

    async fn list_consents(&self, tenant: &TenantId, user: &UserId) -> StoreResult<Vec<Consent>> {
        self.scan_json(Ks::Consents, &key(tenant, &[user.as_str().as_bytes(), b""]))
    }

    async fn get_consent(
        &self,
        tenant: &TenantId,
        user: &UserId,
        client: &ClientId,
    ) -> StoreResult<Option<Consent>> {
        self.get_json(
            Ks::Consents,
            &key(
                tenant,
                &[user.as_str().as_bytes(), client.as_str().as_bytes()],
            ),
        )
    }
}

#[async_trait]
impl PurposeStore for EmbeddedStore {
    async fn put_privacy_settings(
        &self,
        tenant: &TenantId,
        settings: &PrivacySettings,
    ) -> StoreResult<()> {
        let (k, v) = (tenant.as_str().as_bytes().to_vec(), settings.clone());
        self.write(move |tx| {
            tx.put_json(Ks::PrivacySettings, k, &v);
            Ok(())
        })
        .await
    }

    async fn get_privacy_settings(
        &self,
        tenant: &TenantId,
    ) -> StoreResult<Option<PrivacySettings>> {
        self.get_json(Ks::PrivacySettings, tenant.as_str().as_bytes())
    }

    async fn put_purpose_grant(&self, grant: &PurposeGrant) -> StoreResult<()> {
        let g = grant.clone();
        self.write(move |tx| {
            let k = key(
                &g.tenant,
                &[g.user_id.as_str().as_bytes(), g.purpose.as_bytes()],
            );
            tx.put_json(Ks::PurposeGrants, k, &g);
            Ok(())
        })
        .await
    }

    async fn list_purpose_grants(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> StoreResult<Vec<PurposeGrant>> {
        self.scan_json(
            Ks::PurposeGrants,
            &key(tenant, &[user.as_str().as_bytes(), b""]),
        )
    }

    async fn delete_purpose_grants(&self, tenant: &TenantId, user: &UserId) -> StoreResult<()> {
        let prefix = key(tenant, &[user.as_str().as_bytes(), b""]);
        let mut keys = Vec::new();
        for kv in self.inner.ks(Ks::PurposeGrants).prefix(&prefix) {
            keys.push(kv.key().map_err(io)?.to_vec());
        }
        self.write(move |tx| {
            for k in keys {
                tx.delete(Ks::PurposeGrants, k);
            }
            Ok(())
        })
        .await
    }
}
