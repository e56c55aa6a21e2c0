//! The CQL of every statement on a region keyspace, prepared once per keyspace.

use ::scylla::statement::batch::{Batch, BatchType};
use ::scylla::statement::prepared::PreparedStatement;

use crate::statements::{Kind, Preparer, RegionStatements};
use tollgate_store::StoreResult;

impl RegionStatements {
    pub(super) async fn prepare(p: &Preparer<'_>, k: &str) -> StoreResult<Self> {
        use Kind::*;
        let chain_create_state = p
            .prep(
                format!(
                    "INSERT INTO {k}.chains (tenant, chain_id, generation, current_hash, rotated_at, expires_at, record) \
                     VALUES (?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS USING TTL ?"
                ),
                Lwt,
            )
            .await?;
        let chain_token_put = p
            .prep(
                format!(
                    "INSERT INTO {k}.chains (tenant, chain_id, token_hash, token_generation) \
                     VALUES (?, ?, ?, ?) USING TTL ?"
                ),
                Write,
            )
            .await?;
        let chain_rotate_state = p
            .prep(
                format!(
                    "UPDATE {k}.chains USING TTL ? SET generation = ?, current_hash = ?, rotated_at = ? \
                     WHERE tenant = ? AND chain_id = ? IF generation = ? AND revoked = null"
                ),
                Lwt,
            )
            .await?;
        let batch = |first: &PreparedStatement| {
            // A logged batch on one partition runs as an unlogged one; conditional batches
            // must stay in one partition, and these do.
            let mut b = Batch::new(BatchType::Logged);
            b.append_statement(first.clone());
            b.append_statement(chain_token_put.clone());
            b.set_execution_profile_handle(Some(p.profile.clone()));
            b
        };
        let chain_create = batch(&chain_create_state);
        let chain_rotate = batch(&chain_rotate_state);
        let chain_cols = "generation, current_hash, rotated_at, expires_at, revoked, record";
        let factor_cols = "lookup, version, written_by, record";
        let lookup_cols = "user_id, id, claim, claimed_at";
        let challenge_cols = "record, tries_left, taken_by, spent_by";
        let factor_update = |condition: &str| {
            format!(
                "UPDATE {k}.factors SET version = ?, written_by = ?, record = ? \
                 WHERE tenant = ? AND user_id = ? AND id = ? IF version = ? AND {condition}"
            )
        };
        Ok(Self {
            client_insert: p
                .prep(
                    format!("INSERT INTO {k}.clients (tenant, client_id, record) VALUES (?, ?, ?) IF NOT EXISTS"),
                    Lwt,
                )
                .await?,
            client_put: p
                .prep(
                    format!("INSERT INTO {k}.clients (tenant, client_id, record) VALUES (?, ?, ?)"),
                    Write,
                )
                .await?,
            client_get: p
                .prep(
                    format!("SELECT record FROM {k}.clients WHERE tenant = ? AND client_id = ?"),
                    Read,
                )
                .await?,
            client_list: p
                .prep(
                    format!("SELECT client_id, record FROM {k}.clients WHERE tenant = ?"),
                    Read,
                )
                .await?,
            clients_delete: p
                .prep(format!("DELETE FROM {k}.clients WHERE tenant = ?"), Write)
                .await?,
            user_insert: p
                .prep(
                    format!("INSERT INTO {k}.users (tenant, bucket, user_id, record) VALUES (?, ?, ?, ?) IF NOT EXISTS"),
                    Lwt,
                )
                .await?,
            user_put: p
                .prep(
                    format!("INSERT INTO {k}.users (tenant, bucket, user_id, record) VALUES (?, ?, ?, ?)"),
                    Write,
                )
                .await?,
            user_get: p
                .prep(
                    format!("SELECT record FROM {k}.users WHERE tenant = ? AND bucket = ? AND user_id = ?"),
                    Read,
                )
                .await?,
            user_remove: p
                .prep(
                    format!("DELETE FROM {k}.users WHERE tenant = ? AND bucket = ? AND user_id = ? IF EXISTS"),
                    Lwt,
                )
                .await?,
            user_list: p
                .prep(
                    format!("SELECT user_id, record FROM {k}.users WHERE tenant = ? AND bucket = ?"),
                    Read,
                )
                .await?,
            users_delete: p
                .prep(
                    format!("DELETE FROM {k}.users WHERE tenant = ? AND bucket = ?"),
                    Write,
                )
                .await?,
            email_claim: p
                .prep(
                    format!("INSERT INTO {k}.user_emails (tenant, email, user_id) VALUES (?, ?, ?) IF NOT EXISTS"),
                    Lwt,
                )
                .await?,
            email_put: p
                .prep(
                    format!("INSERT INTO {k}.user_emails (tenant, email, user_id) VALUES (?, ?, ?)"),
                    Write,
                )
                .await?,
            email_get: p
                .prep(
                    format!("SELECT user_id FROM {k}.user_emails WHERE tenant = ? AND email = ?"),
                    Read,
                )
                .await?,
            email_get_serial: p
                .prep(
                    format!("SELECT user_id FROM {k}.user_emails WHERE tenant = ? AND email = ?"),
                    SerialRead,
                )
                .await?,
            email_delete: p
                .prep(
                    format!("DELETE FROM {k}.user_emails WHERE tenant = ? AND email = ?"),
                    Write,
                )
                .await?,
            user_update_if: p
                .prep(
                    format!("UPDATE {k}.users SET record = ? WHERE tenant = ? AND bucket = ? AND user_id = ? IF record = ?"),
                    Lwt,
                )
                .await?,
            user_delete: p
                .prep(
                    format!("DELETE FROM {k}.users WHERE tenant = ? AND bucket = ? AND user_id = ?"),
                    Write,
                )
                .await?,
            user_key_insert: p
                .prep(
                    format!("INSERT INTO {k}.user_keys (tenant, user_id, key) VALUES (?, ?, ?) IF NOT EXISTS"),
                    Lwt,
                )
                .await?,
            user_key_put: p
                .prep(
                    format!("INSERT INTO {k}.user_keys (tenant, user_id, key) VALUES (?, ?, ?)"),
                    Write,
                )
                .await?,
            user_key_get: p
                .prep(
                    format!("SELECT key FROM {k}.user_keys WHERE tenant = ? AND user_id = ?"),
                    Read,
                )
                .await?,
            user_key_delete: p
                .prep(
                    format!("DELETE FROM {k}.user_keys WHERE tenant = ? AND user_id = ?"),
                    Write,
                )
                .await?,
            deletion_put: p
                .prep(
                    format!("INSERT INTO {k}.user_deletions (tenant, deleted_at, user_id) VALUES (?, ?, ?)"),
                    Write,
                )
                .await?,
            deletion_list: p
                .prep(
                    format!("SELECT user_id FROM {k}.user_deletions WHERE tenant = ? AND deleted_at < ? LIMIT ?"),
                    Read,
                )
                .await?,
            deletion_delete: p
                .prep(
                    format!("DELETE FROM {k}.user_deletions WHERE tenant = ? AND deleted_at = ? AND user_id = ?"),
                    Write,
                )
                .await?,
            deletions_delete: p
                .prep(
                    format!("DELETE FROM {k}.user_deletions WHERE tenant = ?"),
                    Write,
                )
                .await?,
            session_put: p
                .prep(
                    format!("INSERT INTO {k}.sessions (tenant, key, record) VALUES (?, ?, ?) USING TTL ?"),
                    Write,
                )
                .await?,
            session_get: p
                .prep(
                    format!("SELECT record FROM {k}.sessions WHERE tenant = ? AND key = ?"),
                    Read,
                )
                .await?,
            session_delete: p
                .prep(
                    format!("DELETE FROM {k}.sessions WHERE tenant = ? AND key = ?"),
                    Write,
                )
                .await?,
            session_user_put: p
                .prep(
                    format!("INSERT INTO {k}.sessions_by_user (tenant, user_id, key) VALUES (?, ?, ?) USING TTL ?"),
                    Write,
                )
                .await?,
            session_user_list: p
                .prep(
                    format!("SELECT key FROM {k}.sessions_by_user WHERE tenant = ? AND user_id = ?"),
                    Read,
                )
                .await?,
            session_user_delete: p
                .prep(
                    format!("DELETE FROM {k}.sessions_by_user WHERE tenant = ? AND user_id = ? AND key = ?"),
                    Write,
                )
                .await?,
            chain_user_put: p
                .prep(
                    format!("INSERT INTO {k}.chains_by_user (tenant, user_id, chain_id) VALUES (?, ?, ?) USING TTL ?"),
                    Write,
                )
                .await?,
            chain_user_list: p
                .prep(
                    format!("SELECT chain_id FROM {k}.chains_by_user WHERE tenant = ? AND user_id = ?"),
                    Read,
                )
                .await?,
            code_put: p
                .prep(
                    format!("INSERT INTO {k}.codes (tenant, key, record) VALUES (?, ?, ?) USING TTL ?"),
                    Write,
                )
                .await?,
            code_get: p
                .prep(
                    format!("SELECT record, taken_by FROM {k}.codes WHERE tenant = ? AND key = ?"),
                    Read,
                )
                .await?,
            code_get_serial: p
                .prep(
                    format!("SELECT record, taken_by FROM {k}.codes WHERE tenant = ? AND key = ?"),
                    SerialRead,
                )
                .await?,
            code_take: p
                .prep(
                    format!(
                        "UPDATE {k}.codes USING TTL ? SET taken_by = ? WHERE tenant = ? AND key = ? \
                         IF taken_by = null AND record = ?"
                    ),
                    Lwt,
                )
                .await?,
            chain_get: p
                .prep(
                    format!("SELECT {chain_cols} FROM {k}.chains WHERE tenant = ? AND chain_id = ? LIMIT 1"),
                    Read,
                )
                .await?,
            chain_get_serial: p
                .prep(
                    format!("SELECT {chain_cols} FROM {k}.chains WHERE tenant = ? AND chain_id = ? LIMIT 1"),
                    SerialRead,
                )
                .await?,
            chain_all: p
                .prep(
                    format!("SELECT token_hash, token_generation, {chain_cols} FROM {k}.chains WHERE tenant = ? AND chain_id = ?"),
                    Read,
                )
                .await?,
            chain_token_get: p
                .prep(
                    format!("SELECT token_generation FROM {k}.chains WHERE tenant = ? AND chain_id = ? AND token_hash = ?"),
                    Read,
                )
                .await?,
            chain_revoke: p
                .prep(
                    format!(
                        "UPDATE {k}.chains USING TTL ? SET revoked = ? WHERE tenant = ? AND chain_id = ? \
                         IF revoked = null AND expires_at = ?"
                    ),
                    Lwt,
                )
                .await?,
            chain_put: p
                .prep(
                    format!(
                        "INSERT INTO {k}.chains (tenant, chain_id, generation, current_hash, rotated_at, expires_at, revoked, record) \
                         VALUES (?, ?, ?, ?, ?, ?, ?, ?) USING TTL ?"
                    ),
                    Write,
                )
                .await?,
            chain_token_put,
            chain_delete: p
                .prep(
                    format!("DELETE FROM {k}.chains WHERE tenant = ? AND chain_id = ?"),
                    Write,
                )
                .await?,
            chain_index_put: p
                .prep(
                    format!("INSERT INTO {k}.chain_index (tenant, bucket, chain_id) VALUES (?, ?, ?) USING TTL ?"),
                    Write,
                )
                .await?,
            chain_index_list: p
                .prep(
                    format!("SELECT chain_id FROM {k}.chain_index WHERE tenant = ? AND bucket = ?"),
                    Read,
                )
                .await?,
            chain_index_delete: p
                .prep(
                    format!("DELETE FROM {k}.chain_index WHERE tenant = ? AND bucket = ?"),
                    Write,
                )
                .await?,
            key_put: p
                .prep(
                    format!("INSERT INTO {k}.keys (tenant, kid, record) VALUES (?, ?, ?)"),
                    Write,
                )
                .await?,
            key_list: p
                .prep(
                    format!("SELECT kid, record FROM {k}.keys WHERE tenant = ?"),
                    Read,
                )
                .await?,
            keys_delete: p
                .prep(format!("DELETE FROM {k}.keys WHERE tenant = ?"), Write)
                .await?,
            consent_put: p
                .prep(
                    format!("INSERT INTO {k}.consents (tenant, user_id, client_id, record) VALUES (?, ?, ?, ?)"),
                    Write,
                )
                .await?,
            consent_get: p
                .prep(
                    format!("SELECT record FROM {k}.consents WHERE tenant = ? AND user_id = ? AND client_id = ?"),
                    Read,
                )
                .await?,
            consent_delete: p
                .prep(
                    format!("DELETE FROM {k}.consents WHERE tenant = ? AND user_id = ? AND client_id = ?"),
                    Write,
                )
                .await?,
            consent_list: p
                .prep(
                    format!("SELECT client_id, record FROM {k}.consents WHERE tenant = ? AND user_id = ?"),
                    Read,
                )
                .await?,
            consents_delete: p
                .prep(
                    format!("DELETE FROM {k}.consents WHERE tenant = ? AND user_id = ?"),
                    Write,
                )
                .await?,
            privacy_put: p
                .prep(
                    format!("INSERT INTO {k}.privacy_settings (tenant, record) VALUES (?, ?)"),
                    Write,
                )
                .await?,
            privacy_get: p
                .prep(
                    format!("SELECT record FROM {k}.privacy_settings WHERE tenant = ?"),
                    Read,
                )
                .await?,
            privacy_delete: p
                .prep(
                    format!("DELETE FROM {k}.privacy_settings WHERE tenant = ?"),
                    Write,
                )
                .await?,
            grant_put: p
                .prep(
                    format!("INSERT INTO {k}.purpose_grants (tenant, user_id, purpose, record) VALUES (?, ?, ?, ?)"),
                    Write,
                )
                .await?,
            grant_list: p
                .prep(
                    format!("SELECT purpose, record FROM {k}.purpose_grants WHERE tenant = ? AND user_id = ?"),
                    Read,
                )
                .await?,
            grants_delete: p
                .prep(
                    format!("DELETE FROM {k}.purpose_grants WHERE tenant = ? AND user_id = ?"),
                    Write,
                )
                .await?,
            deny_put: p
                .prep(
                    format!("INSERT INTO {k}.denied (tenant, bucket, jti, expires_at) VALUES (?, ?, ?, ?) USING TTL ?"),
                    Write,
                )
                .await?,
            deny_get: p
                .prep(
                    format!("SELECT expires_at FROM {k}.denied WHERE tenant = ? AND bucket = ? AND jti = ?"),
                    Read,
                )
                .await?,
            deny_list: p
                .prep(
                    format!("SELECT jti, expires_at FROM {k}.denied WHERE tenant = ? AND bucket = ?"),
                    Read,
                )
                .await?,
            deny_delete: p
                .prep(
                    format!("DELETE FROM {k}.denied WHERE tenant = ? AND bucket = ?"),
                    Write,
                )
                .await?,
            event_put: p
                .prep(
                    format!("INSERT INTO {k}.events (tenant, day, at, id, record) VALUES (?, ?, ?, ?, ?)"),
                    Write,
                )
                .await?,
            event_day_put: p
                .prep(
                    format!("INSERT INTO {k}.event_days (tenant, day) VALUES (?, ?)"),
                    Write,
                )
                .await?,
            event_days: p
                .prep(
                    format!("SELECT day FROM {k}.event_days WHERE tenant = ?"),
                    Read,
                )
                .await?,
            events_of_day: p
                .prep(
                    format!("SELECT record FROM {k}.events WHERE tenant = ? AND day = ? LIMIT ?"),
                    Read,
                )
                .await?,
            events_all_of_day: p
                .prep(
                    format!("SELECT at, id, record FROM {k}.events WHERE tenant = ? AND day = ?"),
                    Read,
                )
                .await?,
            events_delete: p
                .prep(
                    format!("DELETE FROM {k}.events WHERE tenant = ? AND day = ?"),
                    Write,
                )
                .await?,
            event_days_delete: p
                .prep(format!("DELETE FROM {k}.event_days WHERE tenant = ?"), Write)
                .await?,
            factor_insert: p
                .prep(
                    format!(
                        "INSERT INTO {k}.factors (tenant, user_id, id, lookup, version, written_by, record) \
                         VALUES (?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS"
                    ),
                    Lwt,
                )
                .await?,
            factor_put: p
                .prep(
                    format!(
                        "INSERT INTO {k}.factors (tenant, user_id, id, lookup, version, written_by, record) \
                         VALUES (?, ?, ?, ?, ?, ?, ?)"
                    ),
                    Write,
                )
                .await?,
            factor_get: p
                .prep(
                    format!("SELECT {factor_cols} FROM {k}.factors WHERE tenant = ? AND user_id = ? AND id = ?"),
                    Read,
                )
                .await?,
            factor_get_serial: p
                .prep(
                    format!("SELECT {factor_cols} FROM {k}.factors WHERE tenant = ? AND user_id = ? AND id = ?"),
                    SerialRead,
                )
                .await?,
            factor_list: p
                .prep(
                    format!("SELECT id, {factor_cols} FROM {k}.factors WHERE tenant = ? AND user_id = ?"),
                    Read,
                )
                .await?,
            factor_update: p.prep(factor_update("lookup = ?"), Lwt).await?,
            factor_update_unkeyed: p.prep(factor_update("lookup = null"), Lwt).await?,
            factor_remove: p
                .prep(
                    format!("DELETE FROM {k}.factors WHERE tenant = ? AND user_id = ? AND id = ? IF version = ?"),
                    Lwt,
                )
                .await?,
            factors_delete: p
                .prep(
                    format!("DELETE FROM {k}.factors WHERE tenant = ? AND user_id = ?"),
                    Write,
                )
                .await?,
            lookup_claim: p
                .prep(
                    format!(
                        "INSERT INTO {k}.factor_lookup (tenant, lookup, {lookup_cols}) \
                         VALUES (?, ?, ?, ?, ?, ?) IF NOT EXISTS"
                    ),
                    Lwt,
                )
                .await?,
            lookup_put: p
                .prep(
                    format!(
                        "INSERT INTO {k}.factor_lookup (tenant, lookup, {lookup_cols}) VALUES (?, ?, ?, ?, ?, ?)"
                    ),
                    Write,
                )
                .await?,
            lookup_get: p
                .prep(
                    format!("SELECT {lookup_cols} FROM {k}.factor_lookup WHERE tenant = ? AND lookup = ?"),
                    Read,
                )
                .await?,
            lookup_get_serial: p
                .prep(
                    format!("SELECT {lookup_cols} FROM {k}.factor_lookup WHERE tenant = ? AND lookup = ?"),
                    SerialRead,
                )
                .await?,
            lookup_release: p
                .prep(
                    format!("DELETE FROM {k}.factor_lookup WHERE tenant = ? AND lookup = ? IF claim = ?"),
                    Lwt,
                )
                .await?,
            lookup_remove: p
                .prep(
                    format!(
                        "DELETE FROM {k}.factor_lookup WHERE tenant = ? AND lookup = ? IF user_id = ? AND id = ?"
                    ),
                    Lwt,
                )
                .await?,
            lookup_delete: p
                .prep(
                    format!("DELETE FROM {k}.factor_lookup WHERE tenant = ? AND lookup = ?"),
                    Write,
                )
                .await?,
            challenge_insert: p
                .prep(
                    format!(
                        "INSERT INTO {k}.challenges (tenant, key, record, tries_left) VALUES (?, ?, ?, ?) \
                         IF NOT EXISTS USING TTL ?"
                    ),
                    Lwt,
                )
                .await?,
            challenge_replace: p
                .prep(
                    format!(
                        "UPDATE {k}.challenges USING TTL ? SET record = ?, tries_left = ?, \
                         taken_by = null, spent_by = null WHERE tenant = ? AND key = ? IF EXISTS"
                    ),
                    Lwt,
                )
                .await?,
            challenge_get: p
                .prep(
                    format!("SELECT {challenge_cols} FROM {k}.challenges WHERE tenant = ? AND key = ?"),
                    Read,
                )
                .await?,
            challenge_get_serial: p
                .prep(
                    format!("SELECT {challenge_cols} FROM {k}.challenges WHERE tenant = ? AND key = ?"),
                    SerialRead,
                )
                .await?,
            challenge_spend: p
                .prep(
                    format!(
                        "UPDATE {k}.challenges USING TTL ? SET tries_left = ?, spent_by = spent_by + ? \
                         WHERE tenant = ? AND key = ? IF taken_by = null AND tries_left = ?"
                    ),
                    Lwt,
                )
                .await?,
            challenge_take: p
                .prep(
                    format!(
                        "UPDATE {k}.challenges USING TTL ? SET taken_by = ? \
                         WHERE tenant = ? AND key = ? IF taken_by = null AND tries_left = ?"
                    ),
                    Lwt,
                )
                .await?,
            connector_put: p
                .prep(
                    format!("INSERT INTO {k}.connectors (tenant, id, record) VALUES (?, ?, ?)"),
                    Write,
                )
                .await?,
            connector_get: p
                .prep(
                    format!("SELECT record FROM {k}.connectors WHERE tenant = ? AND id = ?"),
                    Read,
                )
                .await?,
            connector_list: p
                .prep(
                    format!("SELECT id, record FROM {k}.connectors WHERE tenant = ?"),
                    Read,
                )
                .await?,
            connector_delete: p
                .prep(
                    format!("DELETE FROM {k}.connectors WHERE tenant = ? AND id = ?"),
                    Write,
                )
                .await?,
            link_insert: p
                .prep(
                    format!(
                        "INSERT INTO {k}.links (tenant, provider, key, user_id, record) \
                         VALUES (?, ?, ?, ?, ?) IF NOT EXISTS"
                    ),
                    Lwt,
                )
                .await?,
            link_get: p
                .prep(
                    format!(
                        "SELECT user_id, record FROM {k}.links WHERE tenant = ? AND provider = ? AND key = ?"
                    ),
                    Read,
                )
                .await?,
            link_update: p
                .prep(
                    format!(
                        "UPDATE {k}.links SET record = ? WHERE tenant = ? AND provider = ? AND key = ? \
                         IF user_id = ?"
                    ),
                    Lwt,
                )
                .await?,
            link_remove: p
                .prep(
                    format!(
                        "DELETE FROM {k}.links WHERE tenant = ? AND provider = ? AND key = ? IF user_id = ?"
                    ),
                    Lwt,
                )
                .await?,
            link_user_put: p
                .prep(
                    format!(
                        "INSERT INTO {k}.links_by_user (tenant, user_id, provider, key) VALUES (?, ?, ?, ?)"
                    ),
                    Write,
                )
                .await?,
            link_user_list: p
                .prep(
                    format!(
                        "SELECT provider, key FROM {k}.links_by_user WHERE tenant = ? AND user_id = ?"
                    ),
                    Read,
                )
                .await?,
            link_user_delete: p
                .prep(
                    format!(
                        "DELETE FROM {k}.links_by_user WHERE tenant = ? AND user_id = ? AND provider = ? AND key = ?"
                    ),
                    Write,
                )
                .await?,
            connectors_delete: p
                .prep(format!("DELETE FROM {k}.connectors WHERE tenant = ?"), Write)
                .await?,
            link_put: p
                .prep(
                    format!(
                        "INSERT INTO {k}.links (tenant, provider, key, user_id, record) VALUES (?, ?, ?, ?, ?)"
                    ),
                    Write,
                )
                .await?,
            link_delete: p
                .prep(
                    format!("DELETE FROM {k}.links WHERE tenant = ? AND provider = ? AND key = ?"),
                    Write,
                )
                .await?,
            links_of_user_delete: p
                .prep(
                    format!("DELETE FROM {k}.links_by_user WHERE tenant = ? AND user_id = ?"),
                    Write,
                )
                .await?,
            chain_create,
            chain_rotate,
        })
    }
}
