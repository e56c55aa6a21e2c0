//! [`ChallengeStore`]: single-use challenges.

use async_trait::async_trait;

use crate::EmbeddedStore;
use crate::keyspaces::{Ks, key};
use tollgate_store::{ChallengeStore, StoreError, StoreResult};
use tollgate_vocab::ids::TenantId;
use tollgate_vocab::model::{Challenge, Hash32};

#[async_trait]
impl ChallengeStore for EmbeddedStore {
    async fn put_challenge(&self, challenge: &Challenge) -> StoreResult<()> {
        let c = challenge.clone();
        self.write(move |tx| {
            let k = key(&c.tenant, &[&c.key.0]);
            if tx.get(Ks::Challenges, &k)?.is_some() {
                return Err(StoreError::Conflict);
            }
            tx.put_expiring(Ks::Challenges, k, &c, c.expires_at);
            Ok(())
        })
        .await
    }

    async fn replace_challenge(&self, challenge: &Challenge) -> StoreResult<()> {
        let c = challenge.clone();
        self.write(move |tx| {
            // The old row's expiry entry stays behind; the sweep skips rows whose own
            // expiry is later than the entry's.
            tx.put_expiring(
                Ks::Challenges,
                key(&c.tenant, &[&c.key.0]),
                &c,
                c.expires_at,
            );
            Ok(())
        })
        .await
    }

    async fn get_challenge(&self, tenant: &TenantId, k: &Hash32) -> StoreResult<Option<Challenge>> {
        self.get_json(Ks::Challenges, &key(tenant, &[&k.0]))
    }

    async fn take_challenge(
        &self,
        tenant: &TenantId,
        k: &Hash32,
    ) -> StoreResult<Option<Challenge>> {
        let k = key(tenant, &[&k.0]);
        self.write(move |tx| {
            let c: Option<Challenge> = tx.get_json(Ks::Challenges, &k)?;
            if c.is_some() {
                tx.delete(Ks::Challenges, k);
            }
            Ok(c)
        })
        .await
    }

    async fn spend_try(&self, tenant: &TenantId, k: &Hash32) -> StoreResult<Option<Challenge>> {
        let k = key(tenant, &[&k.0]);
        self.write(move |tx| {
            let Some(c) = tx.get_json::<Challenge>(Ks::Challenges, &k)? else {
                return Ok(None);
            };
            if c.tries_left == 0 {
                return Ok(None);
            }
            let mut spent = c.clone();
            spent.tries_left -= 1;
            // The expiry index entry already exists (expires_at is unchanged).
            tx.put_json(Ks::Challenges, k, &spent);
            Ok(Some(c))
        })
        .await
    }
}
