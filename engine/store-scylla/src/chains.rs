//! [`ChainStore`]: refresh-token chains, created by a conditional batch and rotated by one
//! conditional UPDATE.

use async_trait::async_trait;

use crate::errors::unavailable;
use crate::rows::{ChainRow, bucket, chain_from_row, encode, int, reason_str, ttl_until, uint};
use crate::{LWT_ATTEMPTS, Region, ScyllaStore};
use tollgate_store::{ChainStore, Rotation, StoreError, StoreResult};
use tollgate_vocab::clock::UnixTime;
use tollgate_vocab::ids::{ChainId, TenantId, UserId};
use tollgate_vocab::model::{Chain, Hash32, RevokeReason};

impl ScyllaStore {
    async fn read_chain(
        &self,
        region: &Region,
        tenant: &TenantId,
        id: &ChainId,
        serial: bool,
    ) -> StoreResult<Option<Chain>> {
        let st = if serial {
            &region.st.chain_get_serial
        } else {
            &region.st.chain_get
        };
        match self
            .one::<ChainRow>(st, (tenant.as_str(), id.as_str()))
            .await?
        {
            Some(row) => chain_from_row(row),
            None => Ok(None),
        }
    }
}

#[async_trait]
impl ChainStore for ScyllaStore {
    async fn create_chain(&self, chain: &Chain) -> StoreResult<()> {
        let Some(ttl) = ttl_until(chain.expires_at) else {
            return Ok(());
        };
        let r = self.region_of(&chain.tenant).await?;
        let (t, id) = (chain.tenant.as_str(), chain.id.as_str());
        // The index first: an entry without its chain is harmless, a chain a move cannot
        // find is not.
        self.write(&r.st.chain_index_put, (t, bucket(id), id, ttl))
            .await?;
        self.write(&r.st.chain_user_put, (t, chain.user_id.as_str(), id, ttl))
            .await?;
        let hash = &chain.current_hash.0[..];
        let generation = int(chain.generation);
        let values = (
            (
                t,
                id,
                generation,
                hash,
                int(chain.rotated_at),
                int(chain.expires_at),
                encode(chain),
                ttl,
            ),
            (t, id, hash, generation, ttl),
        );
        if self.lwt_batch(&r.st.chain_create, values).await? {
            Ok(())
        } else {
            Err(StoreError::Conflict)
        }
    }

    async fn get_chain(&self, tenant: &TenantId, id: &ChainId) -> StoreResult<Option<Chain>> {
        let r = self.region_of(tenant).await?;
        self.read_chain(&r, tenant, id, false).await
    }

    async fn list_chains(&self, tenant: &TenantId, user: &UserId) -> StoreResult<Vec<Chain>> {
        let r = self.region_of(tenant).await?;
        let ids: Vec<(String,)> = self
            .all(&r.st.chain_user_list, (tenant.as_str(), user.as_str()))
            .await?;
        let mut out = Vec::new();
        for (id,) in ids {
            let id = ChainId::from_stored(id);
            if let Some(c) = self.read_chain(&r, tenant, &id, false).await? {
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
        let r = self.region_of(tenant).await?;
        let row: Option<(Option<i64>,)> = self
            .one(
                &r.st.chain_token_get,
                (tenant.as_str(), chain.as_str(), &hash.0[..]),
            )
            .await?;
        row.and_then(|(g,)| g).map(uint).transpose()
    }

    /// A plain read first answers Missing and Stale without Paxos (generations only grow,
    /// and revocation is final); otherwise the conditional UPDATE decides. When it does
    /// not apply or its outcome is unknown, a serial read says what the chain is now.
    async fn rotate_chain(
        &self,
        tenant: &TenantId,
        id: &ChainId,
        expected_generation: u64,
        new_hash: Hash32,
        now: UnixTime,
    ) -> StoreResult<Rotation> {
        let r = self.region_of(tenant).await?;
        let Some(chain) = self.read_chain(&r, tenant, id, false).await? else {
            return Ok(Rotation::Missing);
        };
        if chain.generation != expected_generation || chain.revoked.is_some() {
            return Ok(Rotation::Stale(chain));
        }
        let next = expected_generation + 1;
        let ttl = ttl_until(chain.expires_at).unwrap_or(1);
        let (t, cid, h) = (tenant.as_str(), id.as_str(), &new_hash.0[..]);
        let mut last_error = None;
        for _ in 0..LWT_ATTEMPTS {
            let values = (
                ttl,
                int(next),
                h,
                int(now),
                int(next),
                t,
                cid,
                h,
                int(expected_generation),
            );
            let outcome = self.lwt(&r.st.chain_rotate, values).await;
            if let Ok(true) = outcome {
                return Ok(Rotation::Rotated(Chain {
                    generation: next,
                    current_hash: new_hash,
                    rotated_at: now,
                    ..chain
                }));
            }
            let state = match self.read_chain(&r, tenant, id, true).await {
                Ok(s) => s,
                Err(e) => return Err(outcome.err().unwrap_or(e)),
            };
            match state {
                None => return Ok(Rotation::Missing),
                // This caller's rotation landed although its answer was lost.
                Some(s) if s.generation == next && s.current_hash == new_hash => {
                    return Ok(Rotation::Rotated(s));
                }
                Some(s) if s.generation != expected_generation || s.revoked.is_some() => {
                    return Ok(Rotation::Stale(s));
                }
                Some(_) => last_error = outcome.err(),
            }
        }
        Err(last_error.unwrap_or_else(|| unavailable("refresh rotation did not complete")))
    }

    async fn revoke_chain(
        &self,
        tenant: &TenantId,
        id: &ChainId,
        reason: RevokeReason,
    ) -> StoreResult<Option<Chain>> {
        let r = self.region_of(tenant).await?;
        let Some(chain) = self.read_chain(&r, tenant, id, false).await? else {
            return Ok(None);
        };
        if chain.revoked.is_some() {
            return Ok(Some(chain));
        }
        let ttl = ttl_until(chain.expires_at).unwrap_or(1);
        let (t, cid) = (tenant.as_str(), id.as_str());
        let mut last_error = None;
        for _ in 0..LWT_ATTEMPTS {
            // `expires_at = ?` never changes: it only makes sure the chain still exists.
            let values = (ttl, reason_str(reason), t, cid, int(chain.expires_at));
            let outcome = self.lwt(&r.st.chain_revoke, values).await;
            let serial = !matches!(outcome, Ok(true));
            let state = match self.read_chain(&r, tenant, id, serial).await {
                Ok(s) => s,
                Err(e) => return Err(outcome.err().unwrap_or(e)),
            };
            match state {
                None if outcome == Ok(true) => {
                    return Ok(Some(Chain {
                        revoked: Some(reason),
                        ..chain
                    }));
                }
                None => return Ok(None),
                Some(s) if s.revoked.is_some() => return Ok(Some(s)),
                Some(_) => last_error = outcome.err(),
            }
        }
        Err(last_error.unwrap_or_else(|| unavailable("revocation did not complete")))
    }
}
