//! The CQL of every statement on a region keyspace, prepared once per keyspace.
//!
//! The list below is the region half of the statement catalogue ([`crate::catalogue`]):
//! the same entries are prepared at start-up and checked without a server by
//! `tests/cql_check.rs`, so what is checked is what runs.

/// The columns of a chain's state (static columns of its partition).
const CHAIN_COLS: &str = "generation, current_hash, rotated_at, expires_at, revoked, record";
/// The columns of a factor besides its key.
const FACTOR_COLS: &str = "lookup, version, written_by, record";
/// The columns of a lookup claim besides its key.
const LOOKUP_COLS: &str = "user_id, id, claim, claimed_at";
/// The columns of a challenge besides its key.
const CHALLENGE_COLS: &str = "record, tries_left, taken_by, spent_by";

crate::statements::statement_set! {
    /// Statements on one region keyspace.
    RegionStatements on k {
        client_insert: Lwt => "INSERT INTO {k}.clients (tenant, client_id, record) VALUES (?, ?, ?) IF NOT EXISTS",
        client_put: Write => "INSERT INTO {k}.clients (tenant, client_id, record) VALUES (?, ?, ?)",
        client_get: Read => "SELECT record FROM {k}.clients WHERE tenant = ? AND client_id = ?",
        client_get_serial: SerialRead => "SELECT record FROM {k}.clients WHERE tenant = ? AND client_id = ?",
        client_list: Read => "SELECT client_id, record FROM {k}.clients WHERE tenant = ?",
        client_update: Lwt => "UPDATE {k}.clients SET record = ? WHERE tenant = ? AND client_id = ? IF EXISTS",
        client_remove: Lwt => "DELETE FROM {k}.clients WHERE tenant = ? AND client_id = ? IF EXISTS",
        clients_delete: Write => "DELETE FROM {k}.clients WHERE tenant = ?",
        user_insert: Lwt => "INSERT INTO {k}.users (tenant, bucket, user_id, record) VALUES (?, ?, ?, ?) IF NOT EXISTS",
        user_put: Write => "INSERT INTO {k}.users (tenant, bucket, user_id, record) VALUES (?, ?, ?, ?)",
        user_get: Read => "SELECT record FROM {k}.users WHERE tenant = ? AND bucket = ? AND user_id = ?",
        user_remove: Lwt => "DELETE FROM {k}.users WHERE tenant = ? AND bucket = ? AND user_id = ? IF EXISTS",
        user_list: Read => "SELECT user_id, record FROM {k}.users WHERE tenant = ? AND bucket = ?",
        /// `user_id > ?`, ascending, at most `LIMIT`: a walk of a bucket (`list_users`).
        user_after: Read => "SELECT user_id, record FROM {k}.users \
            WHERE tenant = ? AND bucket = ? AND user_id > ? LIMIT ?",
        users_delete: Write => "DELETE FROM {k}.users WHERE tenant = ? AND bucket = ?",
        email_claim: Lwt => "INSERT INTO {k}.user_emails (tenant, email, user_id) VALUES (?, ?, ?) IF NOT EXISTS",
        email_put: Write => "INSERT INTO {k}.user_emails (tenant, email, user_id) VALUES (?, ?, ?)",
        email_get: Read => "SELECT user_id FROM {k}.user_emails WHERE tenant = ? AND email = ?",
        email_get_serial: SerialRead => "SELECT user_id FROM {k}.user_emails WHERE tenant = ? AND email = ?",
        /// Conditional, as every write of a claim row is: a plain delete racing a claim
        /// could hide it behind a tombstone from a coordinator whose clock is ahead.
        email_delete: Lwt => "DELETE FROM {k}.user_emails WHERE tenant = ? AND email = ? IF user_id = ?",
        user_update_if: Lwt => "UPDATE {k}.users SET record = ? WHERE tenant = ? AND bucket = ? AND user_id = ? IF record = ?",
        user_key_insert: Lwt => "INSERT INTO {k}.user_keys (tenant, user_id, key) VALUES (?, ?, ?) IF NOT EXISTS",
        user_key_put: Write => "INSERT INTO {k}.user_keys (tenant, user_id, key) VALUES (?, ?, ?)",
        user_key_get: Read => "SELECT key FROM {k}.user_keys WHERE tenant = ? AND user_id = ?",
        user_key_get_serial: SerialRead => "SELECT key FROM {k}.user_keys WHERE tenant = ? AND user_id = ?",
        user_key_delete: Write => "DELETE FROM {k}.user_keys WHERE tenant = ? AND user_id = ?",
        /// Crypto-shredding: conditional like the key's creation, so a coordinator whose
        /// clock is behind cannot write a tombstone older than the key it should delete.
        user_key_remove: Lwt => "DELETE FROM {k}.user_keys WHERE tenant = ? AND user_id = ? IF EXISTS",
        /// The purge queue: one partition per tenant per hour of deletion (`rows::hour`).
        deletion_hour_put: Write => "INSERT INTO {k}.user_deletion_hours (tenant, hour) VALUES (?, ?)",
        /// `hour <= ?`, oldest first: where the purge starts reading.
        deletion_hours: Read => "SELECT hour FROM {k}.user_deletion_hours WHERE tenant = ? AND hour <= ? LIMIT ?",
        deletion_hour_delete: Write => "DELETE FROM {k}.user_deletion_hours WHERE tenant = ? AND hour = ?",
        deletion_hours_delete: Write => "DELETE FROM {k}.user_deletion_hours WHERE tenant = ?",
        deletion_put: Write => "INSERT INTO {k}.user_deletions (tenant, hour, deleted_at, user_id) VALUES (?, ?, ?, ?)",
        /// `deleted_at < ?`, oldest first, at most `LIMIT` entries of one hour.
        deletion_list: Read => "SELECT deleted_at, user_id FROM {k}.user_deletions \
            WHERE tenant = ? AND hour = ? AND deleted_at < ? LIMIT ?",
        deletion_delete: Write => "DELETE FROM {k}.user_deletions WHERE tenant = ? AND hour = ? AND deleted_at = ? AND user_id = ?",
        /// A drained hour, or a tenant move's cleanup: one hour's partition at once.
        deletions_delete: Write => "DELETE FROM {k}.user_deletions WHERE tenant = ? AND hour = ?",
        session_put: Write => "INSERT INTO {k}.sessions (tenant, key, record) VALUES (?, ?, ?) USING TTL ?",
        session_get: Read => "SELECT record FROM {k}.sessions WHERE tenant = ? AND key = ?",
        session_get_serial: SerialRead => "SELECT record FROM {k}.sessions WHERE tenant = ? AND key = ?",
        /// A change to a live session: only over the record read, so an ended session is
        /// not written back and concurrent changes do not overwrite each other.
        session_update: Lwt => "UPDATE {k}.sessions USING TTL ? SET record = ? WHERE tenant = ? AND key = ? IF record = ?",
        /// Conditional, like every later change of a session row: a plain delete could lose
        /// to a conditional update on write timestamps and leave an ended session live.
        session_delete: Lwt => "DELETE FROM {k}.sessions WHERE tenant = ? AND key = ? IF EXISTS",
        session_user_put: Write => "INSERT INTO {k}.sessions_by_user (tenant, user_id, key) VALUES (?, ?, ?) USING TTL ?",
        session_user_list: Read => "SELECT key FROM {k}.sessions_by_user WHERE tenant = ? AND user_id = ?",
        session_user_delete: Write => "DELETE FROM {k}.sessions_by_user WHERE tenant = ? AND user_id = ? AND key = ?",
        chain_user_put: Write => "INSERT INTO {k}.chains_by_user (tenant, user_id, chain_id) VALUES (?, ?, ?) USING TTL ?",
        chain_user_list: Read => "SELECT chain_id FROM {k}.chains_by_user WHERE tenant = ? AND user_id = ?",
        code_put: Write => "INSERT INTO {k}.codes (tenant, key, record) VALUES (?, ?, ?) USING TTL ?",
        code_get: Read => "SELECT record, taken_by FROM {k}.codes WHERE tenant = ? AND key = ?",
        code_get_serial: SerialRead => "SELECT record, taken_by FROM {k}.codes WHERE tenant = ? AND key = ?",
        code_take: Lwt => "UPDATE {k}.codes USING TTL ? SET taken_by = ? WHERE tenant = ? AND key = ? \
            IF taken_by = null AND record = ?",
        chain_get: Read => "SELECT {CHAIN_COLS} FROM {k}.chains WHERE tenant = ? AND chain_id = ? LIMIT 1",
        chain_get_serial: SerialRead => "SELECT {CHAIN_COLS} FROM {k}.chains WHERE tenant = ? AND chain_id = ? LIMIT 1",
        chain_all: Read => "SELECT token_hash, token_generation, {CHAIN_COLS} FROM {k}.chains WHERE tenant = ? AND chain_id = ?",
        chain_token_get: Read => "SELECT token_generation FROM {k}.chains WHERE tenant = ? AND chain_id = ? AND token_hash = ?",
        chain_revoke: Lwt => "UPDATE {k}.chains USING TTL ? SET revoked = ? WHERE tenant = ? AND chain_id = ? \
            IF revoked = null AND expires_at = ?",
        chain_put: Write => "INSERT INTO {k}.chains (tenant, chain_id, generation, current_hash, rotated_at, expires_at, revoked, record) \
            VALUES (?, ?, ?, ?, ?, ?, ?, ?) USING TTL ?",
        /// The chain's state, created with its first token (`chain_create`).
        #[expect(dead_code, reason = "run only inside the chain_create batch")]
        chain_create_state: Lwt => "INSERT INTO {k}.chains (tenant, chain_id, generation, current_hash, rotated_at, expires_at, record) \
            VALUES (?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS USING TTL ?",
        /// A rotation: one conditional UPDATE of one row of the chain's partition sets the
        /// state (static columns, the condition's subject) and writes the new token's row.
        /// A single statement, not a batch, so the driver routes it as an LWT (to the
        /// partition's replicas in order: fewer Paxos contentions and timeouts).
        chain_rotate: Lwt => "UPDATE {k}.chains USING TTL ? SET generation = ?, current_hash = ?, rotated_at = ?, \
            token_generation = ? WHERE tenant = ? AND chain_id = ? AND token_hash = ? \
            IF generation = ? AND revoked = null",
        chain_token_put: Write => "INSERT INTO {k}.chains (tenant, chain_id, token_hash, token_generation) \
            VALUES (?, ?, ?, ?) USING TTL ?",
        chain_delete: Write => "DELETE FROM {k}.chains WHERE tenant = ? AND chain_id = ?",
        chain_index_put: Write => "INSERT INTO {k}.chain_index (tenant, bucket, chain_id) VALUES (?, ?, ?) USING TTL ?",
        chain_index_list: Read => "SELECT chain_id FROM {k}.chain_index WHERE tenant = ? AND bucket = ?",
        chain_index_delete: Write => "DELETE FROM {k}.chain_index WHERE tenant = ? AND bucket = ?",
        key_put: Write => "INSERT INTO {k}.keys (tenant, kid, record) VALUES (?, ?, ?)",
        key_list: Read => "SELECT kid, record FROM {k}.keys WHERE tenant = ?",
        keys_delete: Write => "DELETE FROM {k}.keys WHERE tenant = ?",
        consent_put: Write => "INSERT INTO {k}.consents (tenant, user_id, client_id, record) VALUES (?, ?, ?, ?)",
        consent_get: Read => "SELECT record FROM {k}.consents WHERE tenant = ? AND user_id = ? AND client_id = ?",
        consent_delete: Write => "DELETE FROM {k}.consents WHERE tenant = ? AND user_id = ? AND client_id = ?",
        consent_list: Read => "SELECT client_id, record FROM {k}.consents WHERE tenant = ? AND user_id = ?",
        consents_delete: Write => "DELETE FROM {k}.consents WHERE tenant = ? AND user_id = ?",
        privacy_put: Write => "INSERT INTO {k}.privacy_settings (tenant, record) VALUES (?, ?)",
        privacy_get: Read => "SELECT record FROM {k}.privacy_settings WHERE tenant = ?",
        privacy_delete: Write => "DELETE FROM {k}.privacy_settings WHERE tenant = ?",
        grant_put: Write => "INSERT INTO {k}.purpose_grants (tenant, user_id, purpose, record) VALUES (?, ?, ?, ?)",
        grant_list: Read => "SELECT purpose, record FROM {k}.purpose_grants WHERE tenant = ? AND user_id = ?",
        grants_delete: Write => "DELETE FROM {k}.purpose_grants WHERE tenant = ? AND user_id = ?",
        deny_put: Write => "INSERT INTO {k}.denied (tenant, bucket, jti, expires_at) VALUES (?, ?, ?, ?) USING TTL ?",
        deny_get: Read => "SELECT expires_at FROM {k}.denied WHERE tenant = ? AND bucket = ? AND jti = ?",
        deny_list: Read => "SELECT jti, expires_at FROM {k}.denied WHERE tenant = ? AND bucket = ?",
        deny_delete: Write => "DELETE FROM {k}.denied WHERE tenant = ? AND bucket = ?",
        event_put: Write => "INSERT INTO {k}.events (tenant, hour, bucket, at, id, record) VALUES (?, ?, ?, ?, ?, ?)",
        event_hour_put: Write => "INSERT INTO {k}.event_hours (tenant, hour) VALUES (?, ?)",
        /// `hour < ?`, newest first: where a read of the trail starts.
        event_hours: Read => "SELECT hour FROM {k}.event_hours WHERE tenant = ? AND hour < ? LIMIT ?",
        /// `at < ?`, newest first, in pages: one bucket of one hour.
        events_of_hour: Read => "SELECT record FROM {k}.events WHERE tenant = ? AND hour = ? AND bucket = ? AND at < ? LIMIT ?",
        events_delete: Write => "DELETE FROM {k}.events WHERE tenant = ? AND hour = ? AND bucket = ?",
        event_hours_delete: Write => "DELETE FROM {k}.event_hours WHERE tenant = ?",
        user_event_put: Write => "INSERT INTO {k}.events_by_user (tenant, user_id, month, at, id, record) VALUES (?, ?, ?, ?, ?, ?)",
        user_event_month_put: Write => "INSERT INTO {k}.event_user_months (tenant, user_id, month) VALUES (?, ?, ?)",
        /// `month < ?`, newest first: where a read of a user's events starts.
        user_event_months: Read => "SELECT month FROM {k}.event_user_months WHERE tenant = ? AND user_id = ? AND month < ? LIMIT ?",
        /// `at < ?`, newest first, in pages: one month of one user.
        user_events_of_month: Read => "SELECT record FROM {k}.events_by_user WHERE tenant = ? AND user_id = ? AND month = ? AND at < ? LIMIT ?",
        user_events_delete: Write => "DELETE FROM {k}.events_by_user WHERE tenant = ? AND user_id = ? AND month = ?",
        user_event_months_delete: Write => "DELETE FROM {k}.event_user_months WHERE tenant = ? AND user_id = ?",
        factor_insert: Lwt => "INSERT INTO {k}.factors (tenant, user_id, id, lookup, version, written_by, record) \
            VALUES (?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS",
        factor_put: Write => "INSERT INTO {k}.factors (tenant, user_id, id, lookup, version, written_by, record) \
            VALUES (?, ?, ?, ?, ?, ?, ?)",
        factor_get: Read => "SELECT {FACTOR_COLS} FROM {k}.factors WHERE tenant = ? AND user_id = ? AND id = ?",
        factor_get_serial: SerialRead => "SELECT {FACTOR_COLS} FROM {k}.factors WHERE tenant = ? AND user_id = ? AND id = ?",
        factor_list: Read => "SELECT id, {FACTOR_COLS} FROM {k}.factors WHERE tenant = ? AND user_id = ?",
        /// `IF version = ? AND lookup = ?`, for factors with a lookup key.
        factor_update: Lwt => "UPDATE {k}.factors SET version = ?, written_by = ?, record = ? \
            WHERE tenant = ? AND user_id = ? AND id = ? IF version = ? AND lookup = ?",
        /// `IF version = ? AND lookup = null`, for factors without one.
        factor_update_unkeyed: Lwt => "UPDATE {k}.factors SET version = ?, written_by = ?, record = ? \
            WHERE tenant = ? AND user_id = ? AND id = ? IF version = ? AND lookup = null",
        factor_remove: Lwt => "DELETE FROM {k}.factors WHERE tenant = ? AND user_id = ? AND id = ? IF version = ?",
        factors_delete: Write => "DELETE FROM {k}.factors WHERE tenant = ? AND user_id = ?",
        lookup_claim: Lwt => "INSERT INTO {k}.factor_lookup (tenant, lookup, {LOOKUP_COLS}) \
            VALUES (?, ?, ?, ?, ?, ?) IF NOT EXISTS",
        lookup_put: Write => "INSERT INTO {k}.factor_lookup (tenant, lookup, {LOOKUP_COLS}) VALUES (?, ?, ?, ?, ?, ?)",
        lookup_get: Read => "SELECT {LOOKUP_COLS} FROM {k}.factor_lookup WHERE tenant = ? AND lookup = ?",
        lookup_get_serial: SerialRead => "SELECT {LOOKUP_COLS} FROM {k}.factor_lookup WHERE tenant = ? AND lookup = ?",
        /// `IF claim = ?`: a creation gives back its own claim.
        lookup_release: Lwt => "DELETE FROM {k}.factor_lookup WHERE tenant = ? AND lookup = ? IF claim = ?",
        /// `IF user_id = ? AND id = ?`: a deletion removes its factor's claim.
        lookup_remove: Lwt => "DELETE FROM {k}.factor_lookup WHERE tenant = ? AND lookup = ? IF user_id = ? AND id = ?",
        lookup_delete: Write => "DELETE FROM {k}.factor_lookup WHERE tenant = ? AND lookup = ?",
        challenge_insert: Lwt => "INSERT INTO {k}.challenges (tenant, key, record, tries_left) VALUES (?, ?, ?, ?) \
            IF NOT EXISTS USING TTL ?",
        challenge_replace: Lwt => "UPDATE {k}.challenges USING TTL ? SET record = ?, tries_left = ?, \
            taken_by = null, spent_by = null WHERE tenant = ? AND key = ? IF EXISTS",
        challenge_get: Read => "SELECT {CHALLENGE_COLS} FROM {k}.challenges WHERE tenant = ? AND key = ?",
        challenge_get_serial: SerialRead => "SELECT {CHALLENGE_COLS} FROM {k}.challenges WHERE tenant = ? AND key = ?",
        challenge_spend: Lwt => "UPDATE {k}.challenges USING TTL ? SET tries_left = ?, spent_by = spent_by + ? \
            WHERE tenant = ? AND key = ? IF taken_by = null AND tries_left = ?",
        challenge_take: Lwt => "UPDATE {k}.challenges USING TTL ? SET taken_by = ? \
            WHERE tenant = ? AND key = ? IF taken_by = null AND tries_left = ?",
        connector_put: Write => "INSERT INTO {k}.connectors (tenant, id, record) VALUES (?, ?, ?)",
        connector_get: Read => "SELECT record FROM {k}.connectors WHERE tenant = ? AND id = ?",
        connector_list: Read => "SELECT id, record FROM {k}.connectors WHERE tenant = ?",
        connector_delete: Write => "DELETE FROM {k}.connectors WHERE tenant = ? AND id = ?",
        link_insert: Lwt => "INSERT INTO {k}.links (tenant, provider, key, user_id, record) \
            VALUES (?, ?, ?, ?, ?) IF NOT EXISTS",
        link_get: Read => "SELECT user_id, record FROM {k}.links WHERE tenant = ? AND provider = ? AND key = ?",
        link_get_serial: SerialRead => "SELECT user_id, record FROM {k}.links WHERE tenant = ? AND provider = ? AND key = ?",
        /// `IF user_id = ?`: only the owner's link is rewritten.
        link_update: Lwt => "UPDATE {k}.links SET record = ? WHERE tenant = ? AND provider = ? AND key = ? \
            IF user_id = ?",
        /// `IF user_id = ?`: only the owner's link is removed.
        link_remove: Lwt => "DELETE FROM {k}.links WHERE tenant = ? AND provider = ? AND key = ? IF user_id = ?",
        link_user_put: Write => "INSERT INTO {k}.links_by_user (tenant, user_id, provider, key) VALUES (?, ?, ?, ?)",
        link_user_list: Read => "SELECT provider, key FROM {k}.links_by_user WHERE tenant = ? AND user_id = ?",
        link_user_delete: Write => "DELETE FROM {k}.links_by_user WHERE tenant = ? AND user_id = ? AND provider = ? AND key = ?",
        /// Tenant moves: plain copies and partition deletes.
        connectors_delete: Write => "DELETE FROM {k}.connectors WHERE tenant = ?",
        link_put: Write => "INSERT INTO {k}.links (tenant, provider, key, user_id, record) VALUES (?, ?, ?, ?, ?)",
        link_delete: Write => "DELETE FROM {k}.links WHERE tenant = ? AND provider = ? AND key = ?",
        links_of_user_delete: Write => "DELETE FROM {k}.links_by_user WHERE tenant = ? AND user_id = ?",
        /// The logout outbox (0008): every write conditional, so a claim is a lease.
        outbox_insert: Lwt => "INSERT INTO {k}.logout_outbox (tenant, id, next_at, attempts, record) \
            VALUES (?, ?, ?, ?, ?) IF NOT EXISTS",
        outbox_list: Read => "SELECT next_at, attempts, record FROM {k}.logout_outbox WHERE tenant = ? LIMIT ?",
        /// `IF next_at = ?` (what the node read): of two nodes, one gets the lease.
        outbox_claim: Lwt => "UPDATE {k}.logout_outbox SET next_at = ? WHERE tenant = ? AND id = ? IF next_at = ?",
        /// `IF next_at = ?` (the lease): only the holder of the lease reschedules.
        outbox_reschedule: Lwt => "UPDATE {k}.logout_outbox SET next_at = ?, attempts = ? \
            WHERE tenant = ? AND id = ? IF next_at = ?",
        outbox_remove: Lwt => "DELETE FROM {k}.logout_outbox WHERE tenant = ? AND id = ? IF EXISTS",
        /// Identity verifications (0009): plain writes, each a fresh id.
        verification_put: Write => "INSERT INTO {k}.verifications (tenant, user_id, created_at, id, record) \
            VALUES (?, ?, ?, ?, ?)",
        verification_list: Read => "SELECT created_at, id, record FROM {k}.verifications \
            WHERE tenant = ? AND user_id = ?",
        verifications_delete: Write => "DELETE FROM {k}.verifications WHERE tenant = ? AND user_id = ?",
        /// Grievances (0010): a new ticket is a plain write (its id is fresh and random);
        /// its next state a compare-and-set on the record the engine read.
        domain_claim: Lwt => "INSERT INTO {k}.org_domains (tenant, domain, org_id, record) VALUES (?, ?, ?, ?) IF NOT EXISTS",
        domain_get: Read => "SELECT record FROM {k}.org_domains WHERE tenant = ? AND domain = ?",
        domain_update: Lwt => "UPDATE {k}.org_domains SET record = ? WHERE tenant = ? AND domain = ? IF org_id = ?",
        domain_remove: Lwt => "DELETE FROM {k}.org_domains WHERE tenant = ? AND domain = ? IF org_id = ?",
        domain_index_put: Write => "INSERT INTO {k}.org_domains_by_org (tenant, org_id, domain) VALUES (?, ?, ?)",
        domain_index_delete: Write => "DELETE FROM {k}.org_domains_by_org WHERE tenant = ? AND org_id = ? AND domain = ?",
        domain_index_list: Read => "SELECT domain FROM {k}.org_domains_by_org WHERE tenant = ? AND org_id = ?",
        grievance_put: Write => "INSERT INTO {k}.grievances (tenant, id, user_id, created_at, record) \
            VALUES (?, ?, ?, ?, ?)",
        grievance_update_if: Lwt => "UPDATE {k}.grievances SET record = ? WHERE tenant = ? AND id = ? IF record = ?",
        grievance_get: Read => "SELECT record FROM {k}.grievances WHERE tenant = ? AND id = ?",
        grievance_list: Read => "SELECT record FROM {k}.grievances WHERE tenant = ? LIMIT ?",
        /// Conditional: an erasure must not race an admin's conditional answer.
        grievance_delete: Lwt => "DELETE FROM {k}.grievances WHERE tenant = ? AND id = ? IF EXISTS",
        grievance_index_put: Write => "INSERT INTO {k}.grievances_by_user (tenant, user_id, id) VALUES (?, ?, ?)",
        grievance_user_list: Read => "SELECT id FROM {k}.grievances_by_user WHERE tenant = ? AND user_id = ?",
        grievance_user_delete: Write => "DELETE FROM {k}.grievances_by_user WHERE tenant = ? AND user_id = ?",
        /// A tenant move: every ticket copied, then the old region's partition removed.
        grievances_all: Read => "SELECT id, user_id, created_at, record FROM {k}.grievances WHERE tenant = ?",
        grievances_delete_all: Write => "DELETE FROM {k}.grievances WHERE tenant = ?",
        /// Retention (0011): users' last activity and legal holds (plain writes), the
        /// dormancy notices (every write conditional), the purge of old events.
        activity_get: Read => "SELECT last_active, hold FROM {k}.user_activity \
            WHERE tenant = ? AND bucket = ? AND user_id = ?",
        activity_touch: Write => "UPDATE {k}.user_activity SET last_active = ? \
            WHERE tenant = ? AND bucket = ? AND user_id = ?",
        activity_hold: Write => "UPDATE {k}.user_activity SET hold = ? \
            WHERE tenant = ? AND bucket = ? AND user_id = ?",
        activity_delete: Write => "DELETE FROM {k}.user_activity WHERE tenant = ? AND bucket = ? AND user_id = ?",
        /// `user_id > ?`, ascending, at most `LIMIT`: the dormancy job's walk of a bucket.
        activity_after: Read => "SELECT user_id, last_active, hold FROM {k}.user_activity \
            WHERE tenant = ? AND bucket = ? AND user_id > ? LIMIT ?",
        notice_get: Read => "SELECT notice FROM {k}.dormancy_notices WHERE tenant = ? AND user_id = ?",
        notice_insert: Lwt => "INSERT INTO {k}.dormancy_notices (tenant, user_id, notice) VALUES (?, ?, ?) IF NOT EXISTS",
        notice_update: Lwt => "UPDATE {k}.dormancy_notices SET notice = ? WHERE tenant = ? AND user_id = ? IF notice = ?",
        notice_remove: Lwt => "DELETE FROM {k}.dormancy_notices WHERE tenant = ? AND user_id = ? IF notice = ?",
        notice_delete: Lwt => "DELETE FROM {k}.dormancy_notices WHERE tenant = ? AND user_id = ? IF EXISTS",
        event_hour_delete: Write => "DELETE FROM {k}.event_hours WHERE tenant = ? AND hour = ?",
        user_event_delete: Write => "DELETE FROM {k}.events_by_user \
            WHERE tenant = ? AND user_id = ? AND month = ? AND at = ? AND id = ?",
        user_event_month_delete: Write => "DELETE FROM {k}.event_user_months WHERE tenant = ? AND user_id = ? AND month = ?",
        /// Consent receipts (0012): plain writes, each a fresh id, never updated.
        receipt_put: Write => "INSERT INTO {k}.consent_receipts (tenant, user_id, at, id, record) \
            VALUES (?, ?, ?, ?, ?)",
        receipt_list: Read => "SELECT at, id, record FROM {k}.consent_receipts \
            WHERE tenant = ? AND user_id = ?",
        receipts_delete: Write => "DELETE FROM {k}.consent_receipts WHERE tenant = ? AND user_id = ?",
        /// Children (0013): the record written once with its new account, then changed
        /// only from the record read; the pending index is plain writes.
        child_put: Write => "INSERT INTO {k}.children (tenant, user_id, record) VALUES (?, ?, ?)",
        child_get: Read => "SELECT record FROM {k}.children WHERE tenant = ? AND user_id = ?",
        child_update_if: Lwt => "UPDATE {k}.children SET record = ? WHERE tenant = ? AND user_id = ? IF record = ?",
        child_remove: Lwt => "DELETE FROM {k}.children WHERE tenant = ? AND user_id = ? IF EXISTS",
        child_pending_put: Write => "INSERT INTO {k}.children_pending (tenant, expires_at, user_id) VALUES (?, ?, ?)",
        child_pending_delete: Write => "DELETE FROM {k}.children_pending WHERE tenant = ? AND expires_at = ? AND user_id = ?",
        /// Soonest expiry first, at most `LIMIT`: the expiry job's walk.
        child_pending_list: Read => "SELECT expires_at, user_id FROM {k}.children_pending WHERE tenant = ? LIMIT ?",
        /// Breaches (0014): an incident created once, then changed only from the record
        /// read; its notices written pending, then each change a compare-and-set.
        breach_insert: Lwt => "INSERT INTO {k}.breach_incidents (tenant, id, declared_at, record) \
            VALUES (?, ?, ?, ?) IF NOT EXISTS",
        breach_get: Read => "SELECT record FROM {k}.breach_incidents WHERE tenant = ? AND id = ?",
        breach_get_serial: SerialRead => "SELECT record FROM {k}.breach_incidents WHERE tenant = ? AND id = ?",
        breach_list: Read => "SELECT record FROM {k}.breach_incidents WHERE tenant = ?",
        breach_update_if: Lwt => "UPDATE {k}.breach_incidents SET record = ? WHERE tenant = ? AND id = ? IF record = ?",
        /// Conditional like every other write of a notice: a plain insert from a
        /// coordinator whose clock is ahead could hide a later claim.
        breach_notice_put: Lwt => "INSERT INTO {k}.breach_notices (tenant, incident, bucket, user_id, record) \
            VALUES (?, ?, ?, ?, ?) IF NOT EXISTS",
        /// `user_id > ?`, ascending, at most `LIMIT`: the job's walk of one bucket.
        breach_notices_after: Read => "SELECT user_id, record FROM {k}.breach_notices \
            WHERE tenant = ? AND incident = ? AND bucket = ? AND user_id > ? LIMIT ?",
        breach_notice_update_if: Lwt => "UPDATE {k}.breach_notices SET record = ? \
            WHERE tenant = ? AND incident = ? AND bucket = ? AND user_id = ? IF record = ?",

        /// Organisations (0015): names claimed before an organisation is created or
        /// renamed; records changed only from the record read; memberships and the role
        /// index plain writes; invitations taken once.
        org_insert: Lwt => "INSERT INTO {k}.orgs (tenant, org_id, record) VALUES (?, ?, ?) IF NOT EXISTS",
        org_get: Read => "SELECT record FROM {k}.orgs WHERE tenant = ? AND org_id = ?",
        /// Whether an organisation still exists, before something joins it.
        org_get_serial: SerialRead => "SELECT record FROM {k}.orgs WHERE tenant = ? AND org_id = ?",
        org_list: Read => "SELECT record FROM {k}.orgs WHERE tenant = ? LIMIT ?",
        /// `org_id > ?`, ascending, at most `LIMIT`: the admin's pages.
        org_list_after: Read => "SELECT record FROM {k}.orgs WHERE tenant = ? AND org_id > ? LIMIT ?",
        org_update_if: Lwt => "UPDATE {k}.orgs SET record = ? WHERE tenant = ? AND org_id = ? IF record = ?",
        org_remove: Lwt => "DELETE FROM {k}.orgs WHERE tenant = ? AND org_id = ? IF EXISTS",
        org_name_claim: Lwt => "INSERT INTO {k}.org_names (tenant, name, org_id) VALUES (?, ?, ?) IF NOT EXISTS",
        org_name_get: Read => "SELECT org_id FROM {k}.org_names WHERE tenant = ? AND name = ?",
        org_name_release: Lwt => "DELETE FROM {k}.org_names WHERE tenant = ? AND name = ? IF org_id = ?",
        /// Every write of a membership is conditional: a role given and another taken at
        /// once both land, and a member removed stays removed.
        member_insert: Lwt => "INSERT INTO {k}.org_members (tenant, org_id, user_id, record) \
            VALUES (?, ?, ?, ?) IF NOT EXISTS",
        member_update_if: Lwt => "UPDATE {k}.org_members SET record = ? \
            WHERE tenant = ? AND org_id = ? AND user_id = ? IF record = ?",
        member_get: Read => "SELECT record FROM {k}.org_members WHERE tenant = ? AND org_id = ? AND user_id = ?",
        member_remove: Lwt => "DELETE FROM {k}.org_members WHERE tenant = ? AND org_id = ? AND user_id = ? IF EXISTS",
        member_list: Read => "SELECT record FROM {k}.org_members WHERE tenant = ? AND org_id = ? LIMIT ?",
        /// `user_id > ?`, ascending, at most `LIMIT`: the admin's and SCIM's pages.
        member_list_after: Read => "SELECT record FROM {k}.org_members \
            WHERE tenant = ? AND org_id = ? AND user_id > ? LIMIT ?",
        members_all: Read => "SELECT record FROM {k}.org_members WHERE tenant = ? AND org_id = ?",
        user_org_put: Write => "INSERT INTO {k}.user_orgs (tenant, user_id, org_id) VALUES (?, ?, ?)",
        user_org_delete: Write => "DELETE FROM {k}.user_orgs WHERE tenant = ? AND user_id = ? AND org_id = ?",
        user_org_list: Read => "SELECT org_id FROM {k}.user_orgs WHERE tenant = ? AND user_id = ?",
        role_put: Write => "INSERT INTO {k}.roles (tenant, role_id, record) VALUES (?, ?, ?)",
        role_get: Read => "SELECT record FROM {k}.roles WHERE tenant = ? AND role_id = ?",
        role_list: Read => "SELECT record FROM {k}.roles WHERE tenant = ?",
        role_delete: Write => "DELETE FROM {k}.roles WHERE tenant = ? AND role_id = ?",
        holder_put: Write => "INSERT INTO {k}.role_holders (tenant, role_id, scope, user_id) VALUES (?, ?, ?, ?)",
        holder_delete: Write => "DELETE FROM {k}.role_holders \
            WHERE tenant = ? AND role_id = ? AND scope = ? AND user_id = ?",
        holder_list: Read => "SELECT user_id FROM {k}.role_holders \
            WHERE tenant = ? AND role_id = ? AND scope = ? LIMIT ?",
        /// `user_id > ?` in one scope, ascending, at most `LIMIT`: SCIM's Group pages.
        holder_list_after: Read => "SELECT user_id FROM {k}.role_holders \
            WHERE tenant = ? AND role_id = ? AND scope = ? AND user_id > ? LIMIT ?",
        holders_all: Read => "SELECT scope, user_id FROM {k}.role_holders WHERE tenant = ? AND role_id = ?",
        holders_delete: Write => "DELETE FROM {k}.role_holders WHERE tenant = ? AND role_id = ?",
        user_role_put: Write => "INSERT INTO {k}.user_roles (tenant, user_id, role_id) VALUES (?, ?, ?)",
        user_role_get: Read => "SELECT role_id FROM {k}.user_roles WHERE tenant = ? AND user_id = ? AND role_id = ?",
        user_role_delete: Write => "DELETE FROM {k}.user_roles WHERE tenant = ? AND user_id = ? AND role_id = ?",
        user_role_list: Read => "SELECT role_id FROM {k}.user_roles WHERE tenant = ? AND user_id = ?",
        user_roles_delete: Write => "DELETE FROM {k}.user_roles WHERE tenant = ? AND user_id = ?",
        invitation_put: Write => "INSERT INTO {k}.org_invitations (tenant, token_hash, record) \
            VALUES (?, ?, ?) USING TTL ?",
        invitation_get: Read => "SELECT record FROM {k}.org_invitations WHERE tenant = ? AND token_hash = ?",
        /// Of two acceptances at once, one deletes it.
        invitation_take: Lwt => "DELETE FROM {k}.org_invitations WHERE tenant = ? AND token_hash = ? IF record = ?",
        invitation_remove: Lwt => "DELETE FROM {k}.org_invitations WHERE tenant = ? AND token_hash = ? IF EXISTS",
        invitation_id_put: Write => "INSERT INTO {k}.org_invitation_ids (tenant, org_id, id, token_hash) \
            VALUES (?, ?, ?, ?) USING TTL ?",
        invitation_id_get: Read => "SELECT token_hash FROM {k}.org_invitation_ids \
            WHERE tenant = ? AND org_id = ? AND id = ?",
        invitation_id_list: Read => "SELECT token_hash FROM {k}.org_invitation_ids WHERE tenant = ? AND org_id = ?",
        invitation_id_delete: Write => "DELETE FROM {k}.org_invitation_ids WHERE tenant = ? AND org_id = ? AND id = ?",
        invitation_ids_delete: Write => "DELETE FROM {k}.org_invitation_ids WHERE tenant = ? AND org_id = ?",
        /// A tenant move (0015): every organisation, member, role, holder and open
        /// invitation copied, then the old region's partitions removed.
        org_put: Write => "INSERT INTO {k}.orgs (tenant, org_id, record) VALUES (?, ?, ?)",
        org_name_put: Write => "INSERT INTO {k}.org_names (tenant, name, org_id) VALUES (?, ?, ?)",
        orgs_delete: Write => "DELETE FROM {k}.orgs WHERE tenant = ?",
        org_names_delete: Write => "DELETE FROM {k}.org_names WHERE tenant = ?",
        member_put: Write => "INSERT INTO {k}.org_members (tenant, org_id, user_id, record) VALUES (?, ?, ?, ?)",
        members_delete: Write => "DELETE FROM {k}.org_members WHERE tenant = ? AND org_id = ?",
        user_orgs_delete: Write => "DELETE FROM {k}.user_orgs WHERE tenant = ? AND user_id = ?",
        roles_delete: Write => "DELETE FROM {k}.roles WHERE tenant = ?",
        invitations_all: Read => "SELECT record FROM {k}.org_invitations WHERE tenant = ?",
        invitations_delete: Write => "DELETE FROM {k}.org_invitations WHERE tenant = ?",
        /// A user's first SCIM write.
        scim_user_insert: Lwt => "INSERT INTO {k}.scim_users (tenant, user_id, version, record) \
            VALUES (?, ?, ?, ?) IF NOT EXISTS",
        /// Every later one: compare-and-set on the version the writer read.
        scim_user_update: Lwt => "UPDATE {k}.scim_users SET version = ?, record = ? \
            WHERE tenant = ? AND user_id = ? IF version = ?",
        scim_user_get: Read => "SELECT record FROM {k}.scim_users WHERE tenant = ? AND user_id = ?",
        scim_user_delete: Lwt => "DELETE FROM {k}.scim_users WHERE tenant = ? AND user_id = ? IF EXISTS",
        scim_external_put: Write => "INSERT INTO {k}.scim_external (tenant, external_key, user_id) VALUES (?, ?, ?)",
        scim_external_delete: Write => "DELETE FROM {k}.scim_external \
            WHERE tenant = ? AND external_key = ? AND user_id = ?",
        scim_external_list: Read => "SELECT user_id FROM {k}.scim_external WHERE tenant = ? AND external_key = ?",
    }
    batches {
        /// `[create the chain's state IF NOT EXISTS, its first token]`: one partition.
        chain_create = [chain_create_state, chain_token_put],
    }
}
