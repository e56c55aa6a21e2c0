//! Tenant moves between regions: copy a tenant's data to the new keyspace, purge the old one.

use crate::rows::{BUCKETS, ChainTokenRow, FactorListRow, LookupRow, decode, ttl_until, uint};
use crate::{Region, ScyllaStore};
use tollgate_store::StoreResult;
use tollgate_vocab::ids::TenantId;
use tollgate_vocab::model::{Chain, LogoutDelivery, UserRecord};

impl ScyllaStore {
    /// Copies a tenant's long-lived data from one region keyspace to another. Upserts
    /// only, so an interrupted copy can simply run again.
    pub(super) async fn copy_tenant(
        &self,
        from: &Region,
        to: &Region,
        tenant: &TenantId,
    ) -> StoreResult<()> {
        let t = tenant.as_str();
        let (f, n) = (&from.st, &to.st);
        self.each(&f.client_list, (t,), |(id, rec): (String, Vec<u8>)| async move {
            self.write(&n.client_put, (t, id, rec)).await
        })
        .await?;
        self.each(&f.key_list, (t,), |(kid, rec): (String, Vec<u8>)| async move {
            self.write(&n.key_put, (t, kid, rec)).await
        })
        .await?;
        // Grievances: the tenant's partition, each ticket with its user's index row.
        self.each(
            &f.grievances_all,
            (t,),
            |(id, user, at, rec): (String, String, i64, Vec<u8>)| async move {
                self.write(&n.grievance_index_put, (t, user.as_str(), id.as_str()))
                    .await?;
                self.write(&n.grievance_put, (t, id.as_str(), user.as_str(), at, rec))
                    .await
            },
        )
        .await?;
        let privacy: Option<(Option<Vec<u8>>,)> = self.one(&f.privacy_get, (t,)).await?;
        if let Some((Some(rec),)) = privacy {
            self.write(&n.privacy_put, (t, rec)).await?;
        }
        self.each(
            &f.connector_list,
            (t,),
            |(id, rec): (String, Option<Vec<u8>>)| async move {
                match rec {
                    Some(rec) => self.write(&n.connector_put, (t, id, rec)).await,
                    None => Ok(()),
                }
            },
        )
        .await?;
        for b in 0..BUCKETS {
            self.each(
                &f.user_list,
                (t, b),
                |(id, rec): (String, Vec<u8>)| async move {
                    let user: UserRecord = decode(&rec)?;
                    if user.email_key.is_empty() {
                        // Deleted: its key is gone, so it is left behind and goes with
                        // the old copy, as if purged early.
                        return Ok(());
                    }
                    let owner: Option<(Option<String>,)> =
                        self.one(&f.email_get, (t, user.email_key.as_str())).await?;
                    // A user row whose email claim is not its own lost a sign-up race (or its
                    // claim never landed): it is invisible, and stays behind.
                    if owner.and_then(|(o,)| o).as_deref() != Some(id.as_str()) {
                        return Ok(());
                    }
                    let key: Option<(Option<Vec<u8>>,)> =
                        self.one(&f.user_key_get, (t, id.as_str())).await?;
                    if let Some(key) = key.and_then(|(k,)| k) {
                        self.write(&n.user_key_put, (t, id.as_str(), key)).await?;
                    }
                    self.write(&n.user_put, (t, b, id.as_str(), &rec)).await?;
                    self.write(&n.email_put, (t, user.email_key.as_str(), id.as_str()))
                        .await?;
                    let id = id.as_str();
                    self.each(
                        &f.consent_list,
                        (t, id),
                        |(client, rec): (String, Vec<u8>)| async move {
                            self.write(&n.consent_put, (t, id, client, rec)).await
                        },
                    )
                    .await?;
                    self.each(
                        &f.grant_list,
                        (t, id),
                        |(purpose, rec): (String, Vec<u8>)| async move {
                            self.write(&n.grant_put, (t, id, purpose, rec)).await
                        },
                    )
                    .await?;
                    self.each(&f.factor_list, (t, id), |row: FactorListRow| async move {
                        self.copy_factor(from, to, t, id, row).await
                    })
                    .await?;
                    self.each(
                        &f.verification_list,
                        (t, id),
                        |(at, vid, rec): (i64, String, Vec<u8>)| async move {
                            self.write(&n.verification_put, (t, id, at, vid, rec)).await
                        },
                    )
                    .await?;
                    self.each(
                        &f.receipt_list,
                        (t, id),
                        |(at, rid, rec): (i64, String, Vec<u8>)| async move {
                            self.write(&n.receipt_put, (t, id, at, rid, rec)).await
                        },
                    )
                    .await?;
                    // Dormancy: last activity, legal hold and the current notice.
                    let ub = crate::rows::bucket(id);
                    let act: Option<(Option<i64>, Option<Vec<u8>>)> =
                        self.one(&f.activity_get, (t, ub, id)).await?;
                    if let Some((last, hold)) = act {
                        if let Some(last) = last {
                            self.write(&n.activity_touch, (last, t, ub, id)).await?;
                        }
                        if hold.is_some() {
                            self.write(&n.activity_hold, (hold, t, ub, id)).await?;
                        }
                    }
                    let notice: Option<(Option<Vec<u8>>,)> =
                        self.one(&f.notice_get, (t, id)).await?;
                    if let Some((Some(notice),)) = notice {
                        self.lwt(&n.notice_insert, (t, id, notice)).await?;
                    }
                    // SCIM: the user's record, and its externalId index row first.
                    let scim: Option<(Vec<u8>,)> = self.one(&f.scim_user_get, (t, id)).await?;
                    if let Some((rec,)) = scim {
                        let s: tollgate_vocab::model::scim::ScimUser = decode(&rec)?;
                        if let Some(k) = &s.external_key {
                            self.write(&n.scim_external_put, (t, k.as_str(), id))
                                .await?;
                        }
                        let version = crate::rows::int(s.version);
                        self.lwt(&n.scim_user_insert, (t, id, version, rec)).await?;
                    }
                    // Linked identities: only links that are this user's (an index entry
                    // whose claim was lost stays behind).
                    self.each(
                        &f.link_user_list,
                        (t, id),
                        |(provider, key): (String, Vec<u8>)| async move {
                            let row: Option<(Option<String>, Option<Vec<u8>>)> = self
                                .one(&f.link_get, (t, provider.as_str(), key.clone()))
                                .await?;
                            let Some((Some(owner), Some(rec))) = row else {
                                return Ok(());
                            };
                            if owner != id {
                                return Ok(());
                            }
                            self.write(&n.link_user_put, (t, id, provider.as_str(), key.clone()))
                                .await?;
                            self.write(&n.link_put, (t, provider.as_str(), key, id, rec))
                                .await
                        },
                    )
                    .await
                },
            )
            .await?;
            self.each(&f.chain_index_list, (t, b), |(id,): (String,)| async move {
                self.copy_chain(from, to, tenant, b, &id).await
            })
            .await?;
            self.each(
                &f.deny_list,
                (t, b),
                |(jti, exp): (String, i64)| async move {
                    match ttl_until(uint(exp)?) {
                        Some(ttl) => self.write(&n.deny_put, (t, b, jti, exp, ttl)).await,
                        None => Ok(()),
                    }
                },
            )
            .await?;
        }
        // Logout tokens not yet delivered go with the tenant (conditional, as every
        // write of the outbox is).
        self.each(
            &f.outbox_list,
            (t, i32::MAX),
            |(next_at, attempts, rec): (i64, i32, Vec<u8>)| async move {
                let d: LogoutDelivery = decode(&rec)?;
                let values = (t, d.id.as_str(), next_at, attempts, &rec);
                self.lwt(&n.outbox_insert, values).await.map(drop)
            },
        )
        .await?;
        self.copy_orgs(from, to, tenant).await?;
        self.copy_events(from, to, tenant).await
    }

    async fn copy_chain(
        &self,
        from: &Region,
        to: &Region,
        tenant: &TenantId,
        b: i32,
        id: &str,
    ) -> StoreResult<()> {
        let t = tenant.as_str();
        let rows: Vec<ChainTokenRow> = self.all(&from.st.chain_all, (t, id)).await?;
        let Some(first) = rows.first() else {
            return Ok(());
        };
        let (_, _, generation, hash, rotated_at, expires_at, revoked, record) = first.clone();
        let (Some(expires_at), Some(record)) = (expires_at, record) else {
            return Ok(());
        };
        let Some(ttl) = ttl_until(uint(expires_at)?) else {
            return Ok(());
        };
        let n = &to.st;
        self.write(&n.chain_index_put, (t, b, id, ttl)).await?;
        let chain: Chain = decode(&record)?;
        self.write(&n.chain_user_put, (t, chain.user_id.as_str(), id, ttl))
            .await?;
        self.write(
            &n.chain_put,
            (
                t, id, generation, hash, rotated_at, expires_at, revoked, record, ttl,
            ),
        )
        .await?;
        for (token, token_generation, ..) in rows {
            self.write(&n.chain_token_put, (t, id, token, token_generation, ttl))
                .await?;
        }
        Ok(())
    }

    /// Copies one factor of a user, and its lookup claim if the claim is its own.
    async fn copy_factor(
        &self,
        from: &Region,
        to: &Region,
        t: &str,
        user: &str,
        row: FactorListRow,
    ) -> StoreResult<()> {
        let (id, lookup, version, written_by, record) = row;
        let Some(record) = record else {
            return Ok(());
        };
        let values = (
            t,
            user,
            id.as_str(),
            lookup.as_deref(),
            version,
            written_by,
            record,
        );
        self.write(&to.st.factor_put, values).await?;
        let Some(lookup) = lookup else {
            return Ok(());
        };
        let claim: Option<LookupRow> = self.one(&from.st.lookup_get, (t, lookup.as_str())).await?;
        if let Some((Some(cu), Some(cid), claim, claimed_at)) = claim
            && cu == user
            && cid == id
        {
            let values = (t, lookup.as_str(), cu, cid, claim, claimed_at);
            self.write(&to.st.lookup_put, values).await?;
        }
        Ok(())
    }

    /// Deletes a tenant's data from a region keyspace (all but sessions, codes and
    /// challenges, which cannot be listed by tenant and expire by themselves).
    pub(super) async fn purge_tenant(&self, from: &Region, tenant: &TenantId) -> StoreResult<()> {
        let t = tenant.as_str();
        let f = &from.st;
        self.write(&f.clients_delete, (t,)).await?;
        self.write(&f.grievances_delete_all, (t,)).await?;
        self.write(&f.keys_delete, (t,)).await?;
        // The purge queue, hour by hour (the hours are its partitions), then its hours.
        let hours: Vec<(i32,)> = self.all(&f.deletion_hours, (t, i32::MAX, i32::MAX)).await?;
        for (h,) in hours {
            self.write(&f.deletions_delete, (t, h)).await?;
        }
        self.write(&f.deletion_hours_delete, (t,)).await?;
        self.write(&f.privacy_delete, (t,)).await?;
        self.write(&f.connectors_delete, (t,)).await?;
        for b in 0..BUCKETS {
            self.each(
                &f.user_list,
                (t, b),
                |(id, rec): (String, Vec<u8>)| async move {
                    let user: UserRecord = decode(&rec)?;
                    if !user.email_key.is_empty() {
                        self.lwt(&f.email_delete, (t, user.email_key.as_str(), id.as_str()))
                            .await?;
                    }
                    self.write(&f.user_key_delete, (t, id.as_str())).await?;
                    self.write(&f.consents_delete, (t, id.as_str())).await?;
                    self.write(&f.grants_delete, (t, id.as_str())).await?;
                    self.write(&f.verifications_delete, (t, id.as_str()))
                        .await?;
                    self.write(
                        &f.activity_delete,
                        (t, crate::rows::bucket(id.as_str()), id.as_str()),
                    )
                    .await?;
                    self.lwt(&f.notice_delete, (t, id.as_str())).await?;
                    self.write(&f.grievance_user_delete, (t, id.as_str()))
                        .await?;
                    self.write(&f.receipts_delete, (t, id.as_str())).await?;
                    let scim: Option<(Vec<u8>,)> =
                        self.one(&f.scim_user_get, (t, id.as_str())).await?;
                    if let Some((rec,)) = scim {
                        let s: tollgate_vocab::model::scim::ScimUser = decode(&rec)?;
                        self.lwt(&f.scim_user_delete, (t, id.as_str())).await?;
                        if let Some(k) = &s.external_key {
                            self.write(&f.scim_external_delete, (t, k.as_str(), id.as_str()))
                                .await?;
                        }
                    }
                    self.each(
                        &f.link_user_list,
                        (t, id.as_str()),
                        |(provider, key): (String, Vec<u8>)| async move {
                            self.write(&f.link_delete, (t, provider, key)).await
                        },
                    )
                    .await?;
                    self.write(&f.links_of_user_delete, (t, id.as_str()))
                        .await?;
                    self.each(
                        &f.factor_list,
                        (t, id.as_str()),
                        |(_, lookup, ..): FactorListRow| async move {
                            match lookup {
                                Some(l) => self.write(&f.lookup_delete, (t, l)).await,
                                None => Ok(()),
                            }
                        },
                    )
                    .await?;
                    self.write(&f.factors_delete, (t, id)).await
                },
            )
            .await?;
            self.write(&f.users_delete, (t, b)).await?;
            self.each(&f.chain_index_list, (t, b), |(id,): (String,)| async move {
                self.write(&f.chain_delete, (t, id)).await
            })
            .await?;
            self.write(&f.chain_index_delete, (t, b)).await?;
            self.write(&f.deny_delete, (t, b)).await?;
        }
        self.each(
            &f.outbox_list,
            (t, i32::MAX),
            |(_, _, rec): (i64, i32, Vec<u8>)| async move {
                let d: LogoutDelivery = decode(&rec)?;
                self.lwt(&f.outbox_remove, (t, d.id.as_str()))
                    .await
                    .map(drop)
            },
        )
        .await?;
        self.purge_orgs(from, tenant).await?;
        self.purge_events(from, tenant).await
    }
}
