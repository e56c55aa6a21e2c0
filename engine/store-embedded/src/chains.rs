//! Authorization codes and refresh chains: [`CodeStore`] and [`ChainStore`].

use async_trait::async_trait;

use crate::EmbeddedStore;
use crate::keyspaces::{Ks, chain_user_key, key, token_key};
use tollgate_store::{ChainFor, ChainStore, CodeStore, Rotation, StoreError, StoreResult};
use tollgate_vocab::clock::UnixTime;
use tollgate_vocab::ids::{ChainId, TenantId, UserId};
use tollgate_vocab::model::{AuthCode, Chain, Hash32, RevokeReason};

#[async_trait]
impl CodeStore for EmbeddedStore {
    async fn put_code(&self, code: &AuthCode) -> StoreResult<()> {
        let c = code.clone();
        self.write(move |tx| {
            tx.put_expiring(Ks::Codes, key(&c.tenant, &[&c.key.0]), &c, c.expires_at);
            Ok(())
        })
        .await
    }

    async fn get_code(&self, tenant: &TenantId, k: &Hash32) -> StoreResult<Option<AuthCode>> {
        self.get_json(Ks::Codes, &key(tenant, &[&k.0]))
    }

    async fn take_code(&self, tenant: &TenantId, k: &Hash32) -> StoreResult<Option<AuthCode>> {
        let k = key(tenant, &[&k.0]);
        self.write(move |tx| {
            let code: Option<AuthCode> = tx.get_json(Ks::Codes, &k)?;
            if code.is_some() {
                tx.delete(Ks::Codes, k);
            }
            Ok(code)
        })
        .await
    }

    async fn redeem_code(
        &self,
        tenant: &TenantId,
        k: &Hash32,
        chain_for: ChainFor,
    ) -> StoreResult<Option<(AuthCode, Option<Chain>)>> {
        let k = key(tenant, &[&k.0]);
        // One job on the writer thread: the code's removal and its chain commit together.
        self.write(move |tx| {
            let Some(code) = tx.get_json::<AuthCode>(Ks::Codes, &k)? else {
                return Ok(None);
            };
            tx.delete(Ks::Codes, k);
            let chain = chain_for(&code);
            if let Some(c) = &chain {
                let ck = key(&c.tenant, &[c.id.as_str().as_bytes()]);
                if tx.get(Ks::Chains, &ck)?.is_some() {
                    return Err(StoreError::Conflict);
                }
                let tk = token_key(&c.tenant, &c.id, &c.current_hash);
                tx.put_expiring(Ks::Tokens, tk, &c.generation, c.expires_at);
                tx.put_expiring(Ks::ChainsByUser, chain_user_key(c), &c.id, c.expires_at);
                tx.put_expiring(Ks::Chains, ck, c, c.expires_at);
            }
            Ok(Some((code, chain)))
        })
        .await
    }
}

#[async_trait]
impl ChainStore for EmbeddedStore {
    async fn create_chain(&self, chain: &Chain) -> StoreResult<()> {
        let c = chain.clone();
        self.write(move |tx| {
            let k = key(&c.tenant, &[c.id.as_str().as_bytes()]);
            if tx.get(Ks::Chains, &k)?.is_some() {
                return Err(StoreError::Conflict);
            }
            let tk = token_key(&c.tenant, &c.id, &c.current_hash);
            tx.put_expiring(Ks::Tokens, tk, &c.generation, c.expires_at);
            tx.put_expiring(Ks::ChainsByUser, chain_user_key(&c), &c.id, c.expires_at);
            tx.put_expiring(Ks::Chains, k, &c, c.expires_at);
            Ok(())
        })
        .await
    }

    async fn get_chain(&self, tenant: &TenantId, id: &ChainId) -> StoreResult<Option<Chain>> {
        self.get_json(Ks::Chains, &key(tenant, &[id.as_str().as_bytes()]))
    }

    async fn list_chains(&self, tenant: &TenantId, user: &UserId) -> StoreResult<Vec<Chain>> {
        let ids: Vec<ChainId> = self.scan_json(
            Ks::ChainsByUser,
            &key(tenant, &[user.as_str().as_bytes(), b""]),
        )?;
        let mut out = Vec::new();
        for id in ids {
            if let Some(c) =
                self.get_json::<Chain>(Ks::Chains, &key(tenant, &[id.as_str().as_bytes()]))?
            {
                out.push(c);
            }
        }
        Ok(out)
    }

    async fn token_generation(
        &self,
        tenant: &TenantId,
        chain: &ChainId,
        hash: &Hash32,
    ) -> StoreResult<Option<u64>> {
        self.get_json(Ks::Tokens, &token_key(tenant, chain, hash))
    }

    async fn rotate_chain(
        &self,
        tenant: &TenantId,
        id: &ChainId,
        expected_generation: u64,
        new_hash: Hash32,
        now: UnixTime,
    ) -> StoreResult<Rotation> {
        let k = key(tenant, &[id.as_str().as_bytes()]);
        self.write(move |tx| {
            let Some(mut chain) = tx.get_json::<Chain>(Ks::Chains, &k)? else {
                return Ok(Rotation::Missing);
            };
            if chain.generation != expected_generation || chain.revoked.is_some() {
                return Ok(Rotation::Stale(chain));
            }
            chain.generation += 1;
            chain.current_hash = new_hash;
            chain.rotated_at = now;
            let tk = token_key(&chain.tenant, &chain.id, &new_hash);
            // The chain's expiry index entry already exists (expires_at is unchanged).
            tx.put_expiring(Ks::Tokens, tk, &chain.generation, chain.expires_at);
            tx.put_json(Ks::Chains, k, &chain);
            Ok(Rotation::Rotated(chain))
        })
        .await
    }

    async fn revoke_chain(
        &self,
        tenant: &TenantId,
        id: &ChainId,
        reason: RevokeReason,
    ) -> StoreResult<Option<Chain>> {
        let k = key(tenant, &[id.as_str().as_bytes()]);
        self.write(move |tx| {
            let Some(mut chain) = tx.get_json::<Chain>(Ks::Chains, &k)? else {
                return Ok(None);
            };
            if chain.revoked.is_none() {
                chain.revoked = Some(reason);
                tx.put_json(Ks::Chains, k, &chain);
            }
            Ok(Some(chain))
        })
        .await
    }
}
