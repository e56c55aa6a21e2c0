//! [`CodeStore`]: authorization codes, taken once with a lightweight transaction.

use async_trait::async_trait;

use crate::errors::unavailable;
use crate::rows::{decode, encode, ttl_until};
use crate::{LWT_ATTEMPTS, ScyllaStore};
use tollgate_store::{ChainFor, ChainStore, CodeStore, StoreResult};
use tollgate_vocab::crypto::random_token;
use tollgate_vocab::ids::TenantId;
use tollgate_vocab::model::{AuthCode, Chain, Hash32, RevokeReason};

#[async_trait]
impl CodeStore for ScyllaStore {
    async fn put_code(&self, code: &AuthCode) -> StoreResult<()> {
        let Some(ttl) = ttl_until(code.expires_at) else {
            return Ok(());
        };
        let r = self.region_of(&code.tenant).await?;
        let values = (code.tenant.as_str(), &code.key.0[..], encode(code), ttl);
        self.write(&r.st.code_put, values).await
    }

    async fn get_code(&self, tenant: &TenantId, key: &Hash32) -> StoreResult<Option<AuthCode>> {
        let r = self.region_of(tenant).await?;
        let row: Option<(Option<Vec<u8>>, Option<String>)> = self
            .one(&r.st.code_get, (tenant.as_str(), &key.0[..]))
            .await?;
        match row {
            Some((Some(record), None)) => Ok(Some(decode(&record)?)),
            _ => Ok(None),
        }
    }

    /// Codes and chains live in different partitions, so no conditional batch holds both.
    /// The chain is written first and the code taken after: a crash in between leaves the
    /// code untaken (the client's retry redeems it) and a chain whose token nobody ever
    /// saw; a crash after the take is a lost answer, which the client's retry turns into
    /// a reuse. A code is never consumed while its chain is lost. The loser of a race (or
    /// a take that ends in doubt) revokes the chain it wrote.
    async fn redeem_code(
        &self,
        tenant: &TenantId,
        key: &Hash32,
        chain_for: ChainFor,
    ) -> StoreResult<Option<(AuthCode, Option<Chain>)>> {
        let Some(code) = self.get_code(tenant, key).await? else {
            return Ok(None);
        };
        let chain = chain_for(&code);
        if let Some(c) = &chain {
            self.create_chain(c).await?;
        }
        let taken = self.take_code(tenant, key).await;
        match (&taken, &chain) {
            (Ok(Some(_)), _) => return Ok(Some((code, chain))),
            (_, Some(c)) => {
                if let Err(e) = self
                    .revoke_chain(tenant, &c.id, RevokeReason::Revoked)
                    .await
                {
                    tracing::warn!(error = %e, "the chain of a code lost to a race stays unrevoked");
                }
            }
            (_, None) => {}
        }
        taken.map(|_| None)
    }

    /// Marks the code taken with a random taker id (`IF taken_by = null`) rather than
    /// deleting it: after a timeout, a serial read tells whether this caller took it.
    /// A taken code stays, unusable, until its TTL ends.
    async fn take_code(&self, tenant: &TenantId, key: &Hash32) -> StoreResult<Option<AuthCode>> {
        let r = self.region_of(tenant).await?;
        let (t, k) = (tenant.as_str(), &key.0[..]);
        let row: Option<(Option<Vec<u8>>, Option<String>)> =
            self.one(&r.st.code_get, (t, k)).await?;
        let Some((Some(record), None)) = row else {
            return Ok(None);
        };
        let code: AuthCode = decode(&record)?;
        let me = random_token::<12>();
        let ttl = ttl_until(code.expires_at).unwrap_or(1);
        let mut last_error = None;
        for _ in 0..LWT_ATTEMPTS {
            let answer = self
                .lwt(&r.st.code_take, (ttl, me.as_str(), t, k, &record))
                .await;
            match answer {
                Ok(true) => return Ok(Some(code)),
                Ok(false) if last_error.is_none() => return Ok(None),
                // Not applied after a lost answer: perhaps because that attempt took it.
                Ok(false) | Err(_) => {
                    let e = match answer {
                        Err(e) => e,
                        Ok(_) => {
                            unavailable("code redemption: an earlier attempt may have applied")
                        }
                    };
                    let row: Option<(Option<Vec<u8>>, Option<String>)> =
                        match self.one(&r.st.code_get_serial, (t, k)).await {
                            Ok(row) => row,
                            Err(_) => return Err(e),
                        };
                    match row {
                        Some((Some(_), Some(taker))) if taker == me => return Ok(Some(code)),
                        Some((Some(_), None)) => last_error = Some(e),
                        _ => return Ok(None),
                    }
                }
            }
        }
        Err(last_error.unwrap_or_else(|| unavailable("code redemption did not complete")))
    }
}
