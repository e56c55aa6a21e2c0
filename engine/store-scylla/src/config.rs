//! Configuration and connection: `[store.scylla]`, the keyspaces it resolves to, the session.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use ::scylla::client::execution_profile::{ExecutionProfile, ExecutionProfileHandle};
use ::scylla::client::session::Session as CqlSession;
use ::scylla::client::session_builder::SessionBuilder;
use ::scylla::policies::load_balancing::DefaultPolicy;
use ::scylla::statement::{Consistency, SerialConsistency};
use serde::{Deserialize, Serialize};

use crate::errors::short;
use tollgate_store::{RegionConfig, StoreError, StoreResult};
use tollgate_vocab::model::DEFAULT_REGION;

/// How Tollgate reaches its ScyllaDB cluster (`[store.scylla]`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScyllaConfig {
    /// Contact points, `host:port`; the driver discovers the rest of the cluster.
    pub nodes: Vec<String>,
    /// The datacenter this node runs in: token-aware routing prefers its replicas.
    pub local_dc: Option<String>,
    /// Consistency of reads and writes: one, two, three, quorum, all, local_quorum,
    /// each_quorum or local_one.
    pub consistency: String,
    /// Consistency of the Paxos rounds of lightweight transactions in region keyspaces:
    /// local_serial, or serial when one region spans several datacenters that all write.
    pub serial_consistency: String,
    /// The global keyspace (migration ledger and tenant directory).
    pub keyspace: String,
    /// Datacenter -> replication factor of the global keyspace.
    pub global_replication: BTreeMap<String, u32>,
    /// Client-side limit on each request, in milliseconds. It must exceed the server's
    /// own write timeout (`write_request_timeout_in_ms`, 2 s by default) and CAS contention
    /// timeout (1 s), or the client gives up on writes the server may still apply, and
    /// every such write becomes an outcome the store has to settle with a serial read.
    pub request_timeout_ms: u64,
    /// User name, if the cluster authenticates.
    pub username: Option<String>,
    /// Password (prefer `password_file`). Never serialised, never in `Debug`.
    #[serde(skip_serializing)]
    pub password: Option<String>,
    /// File holding the password (trailing newline ignored); used when `password` is unset.
    pub password_file: Option<PathBuf>,
    /// The residency regions this deployment serves (filled from the top-level `[regions]`).
    pub regions: BTreeMap<String, RegionConfig>,
}

impl Default for ScyllaConfig {
    fn default() -> Self {
        Self {
            nodes: vec!["127.0.0.1:9042".into()],
            local_dc: None,
            consistency: "local_quorum".into(),
            serial_consistency: "local_serial".into(),
            keyspace: "tollgate".into(),
            global_replication: BTreeMap::from([("datacenter1".into(), 1)]),
            request_timeout_ms: 5_000,
            username: None,
            password: None,
            password_file: None,
            regions: BTreeMap::from([(
                DEFAULT_REGION.into(),
                RegionConfig {
                    datacenters: BTreeMap::from([("datacenter1".into(), 1)]),
                    keyspace: None,
                },
            )]),
        }
    }
}

impl fmt::Debug for ScyllaConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScyllaConfig")
            .field("nodes", &self.nodes)
            .field("local_dc", &self.local_dc)
            .field("consistency", &self.consistency)
            .field("serial_consistency", &self.serial_consistency)
            .field("keyspace", &self.keyspace)
            .field("global_replication", &self.global_replication)
            .field("request_timeout_ms", &self.request_timeout_ms)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field("password_file", &self.password_file)
            .field("regions", &self.regions)
            .finish()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Scope {
    Global,
    Region,
}

/// What a configuration resolves to: checked names and the keyspaces to serve.
pub(super) struct Plan {
    pub(super) global: String,
    global_replication: String,
    pub(super) regions: Vec<RegionPlan>,
    consistency: Consistency,
    pub(super) serial: SerialConsistency,
    timeout: Duration,
}

pub(super) struct RegionPlan {
    pub(super) name: String,
    pub(super) keyspace: String,
    replication: String,
    /// Where this region's statements are coordinated: `local_dc` if the region has
    /// replicas there, else the region's first datacenter. LOCAL_* consistency levels
    /// count replicas in the coordinator's datacenter, which must hold the region's data.
    pub(super) prefer_dc: Option<String>,
}

fn valid_keyspace(s: &str) -> bool {
    s.len() <= 48
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn replication(what: &str, dcs: &BTreeMap<String, u32>) -> StoreResult<String> {
    if dcs.is_empty() {
        return Err(StoreError::Unavailable(format!(
            "{what} names no datacenters"
        )));
    }
    let mut s = String::from("{'class': 'NetworkTopologyStrategy'");
    for (dc, rf) in dcs {
        s.push_str(&format!(", '{}': {rf}", dc.replace('\'', "''")));
    }
    s.push('}');
    Ok(s)
}

fn parse_consistency(s: &str) -> StoreResult<Consistency> {
    Ok(match s.to_ascii_lowercase().as_str() {
        "one" => Consistency::One,
        "two" => Consistency::Two,
        "three" => Consistency::Three,
        "quorum" => Consistency::Quorum,
        "all" => Consistency::All,
        "local_quorum" => Consistency::LocalQuorum,
        "each_quorum" => Consistency::EachQuorum,
        "local_one" => Consistency::LocalOne,
        _ => {
            return Err(StoreError::Unavailable(format!(
                "store.scylla.consistency `{s}` is not one of one, two, three, quorum, all, local_quorum, each_quorum, local_one"
            )));
        }
    })
}

fn parse_serial(s: &str) -> StoreResult<SerialConsistency> {
    match s.to_ascii_lowercase().as_str() {
        "serial" => Ok(SerialConsistency::Serial),
        "local_serial" => Ok(SerialConsistency::LocalSerial),
        _ => Err(StoreError::Unavailable(format!(
            "store.scylla.serial_consistency `{s}` is not serial or local_serial"
        ))),
    }
}

/// A read that takes part in Paxos, for the given serial consistency.
pub(super) fn serial_read(s: SerialConsistency) -> Consistency {
    match s {
        SerialConsistency::Serial => Consistency::Serial,
        SerialConsistency::LocalSerial => Consistency::LocalSerial,
    }
}

impl Plan {
    pub(super) fn new(cfg: &ScyllaConfig) -> StoreResult<Self> {
        if !valid_keyspace(&cfg.keyspace) {
            return Err(StoreError::Unavailable(format!(
                "store.scylla.keyspace `{}` must be 1-48 characters of a-z, 0-9 and _, starting with a letter",
                cfg.keyspace
            )));
        }
        if cfg.nodes.is_empty() {
            return Err(StoreError::Unavailable(
                "store.scylla.nodes names no node".into(),
            ));
        }
        let mut regions = Vec::new();
        for (name, rc) in &cfg.regions {
            let keyspace = rc
                .keyspace
                .clone()
                .unwrap_or_else(|| format!("{}_{name}", cfg.keyspace));
            if !valid_keyspace(&keyspace) || keyspace == cfg.keyspace {
                return Err(StoreError::Unavailable(format!(
                    "region `{name}`: keyspace `{keyspace}` must be 1-48 characters of a-z, 0-9 and _, starting with a letter, and differ from the global keyspace"
                )));
            }
            let prefer_dc = match &cfg.local_dc {
                Some(dc) if rc.datacenters.contains_key(dc) => Some(dc.clone()),
                _ => rc.datacenters.keys().next().cloned(),
            };
            regions.push(RegionPlan {
                name: name.clone(),
                replication: replication(&format!("region `{name}`"), &rc.datacenters)?,
                keyspace,
                prefer_dc,
            });
        }
        if cfg.request_timeout_ms <= 2_000 {
            return Err(StoreError::Unavailable(format!(
                "store.scylla.request_timeout_ms = {} would give up before ScyllaDB's own write \
                 timeout (2000 ms by default) and leave writes in doubt: set it above that \
                 (5000 is the default), and above write_request_timeout_in_ms if your cluster \
                 raised it",
                cfg.request_timeout_ms
            )));
        }
        if let Some(dc) = &cfg.local_dc
            && !cfg.global_replication.contains_key(dc)
        {
            return Err(StoreError::Unavailable(format!(
                "store.scylla.local_dc `{dc}` holds no replica of the global keyspace \
                 (store.scylla.global_replication names {}): every tenant lookup would leave \
                 the datacenter, and local_quorum there could never be met; add `{dc}` to \
                 global_replication or name a datacenter it has",
                cfg.global_replication
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let serial = parse_serial(&cfg.serial_consistency)?;
        // Under local_serial, two datacenters of one region each run their own Paxos:
        // both could win the rotation of one refresh token.
        if matches!(serial, SerialConsistency::LocalSerial)
            && let Some((name, rc)) = cfg.regions.iter().find(|(_, rc)| rc.datacenters.len() > 1)
        {
            return Err(StoreError::Unavailable(format!(
                "region `{name}` is replicated to {} datacenters ({}): with \
                 serial_consistency = \"local_serial\" each could accept a rotation of the same \
                 refresh token; set store.scylla.serial_consistency = \"serial\"",
                rc.datacenters.len(),
                rc.datacenters
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let mut seen = HashSet::new();
        if let Some(r) = regions.iter().find(|r| !seen.insert(r.keyspace.clone())) {
            return Err(StoreError::Unavailable(format!(
                "two regions share the keyspace `{}`",
                r.keyspace
            )));
        }
        Ok(Self {
            global: cfg.keyspace.clone(),
            global_replication: replication(
                "store.scylla.global_replication",
                &cfg.global_replication,
            )?,
            regions,
            consistency: parse_consistency(&cfg.consistency)?,
            serial,
            timeout: Duration::from_millis(cfg.request_timeout_ms.max(1)),
        })
    }

    /// The keyspaces and the scope of migrations each one gets, global first.
    pub(super) fn targets(&self) -> Vec<(&str, &str, Scope)> {
        let mut t = vec![(
            self.global.as_str(),
            self.global_replication.as_str(),
            Scope::Global,
        )];
        for r in &self.regions {
            t.push((r.keyspace.as_str(), r.replication.as_str(), Scope::Region));
        }
        t
    }

    pub(super) fn profile(
        &self,
        prefer_dc: Option<&str>,
        serial: SerialConsistency,
    ) -> ExecutionProfileHandle {
        let mut lb = DefaultPolicy::builder().token_aware(true);
        if let Some(dc) = prefer_dc {
            lb = lb.prefer_datacenter(dc.to_owned());
        }
        ExecutionProfile::builder()
            .consistency(self.consistency)
            .serial_consistency(Some(serial))
            .request_timeout(Some(self.timeout))
            .load_balancing_policy(lb.build())
            .build()
            .into_handle()
    }
}

fn credentials(cfg: &ScyllaConfig) -> StoreResult<Option<(String, String)>> {
    let Some(user) = &cfg.username else {
        return Ok(None);
    };
    let password = match (&cfg.password, &cfg.password_file) {
        (Some(p), _) => p.clone(),
        (None, Some(file)) => std::fs::read_to_string(file)
            .map_err(|e| {
                StoreError::Unavailable(format!(
                    "cannot read store.scylla.password_file {}: {e}",
                    file.display()
                ))
            })?
            .trim_end_matches(['\r', '\n'])
            .to_owned(),
        (None, None) => {
            return Err(StoreError::Unavailable(
                "store.scylla.username is set without password or password_file".into(),
            ));
        }
    };
    Ok(Some((user.clone(), password)))
}

pub(super) async fn open_session(cfg: &ScyllaConfig, plan: &Plan) -> StoreResult<CqlSession> {
    let mut b = SessionBuilder::new()
        .known_nodes(&cfg.nodes)
        .connection_timeout(plan.timeout.max(Duration::from_secs(5)))
        // The default profile serves the global keyspace and migrations; directory writes
        // are linearizable across every datacenter holding it.
        .default_execution_profile_handle(
            plan.profile(cfg.local_dc.as_deref(), SerialConsistency::Serial),
        );
    if let Some(dc) = &cfg.local_dc {
        b = b.prefer_datacenter(dc.clone());
    }
    if let Some((user, password)) = credentials(cfg)? {
        b = b.user(user, password);
    }
    b.build().await.map_err(|e| {
        StoreError::Unavailable(short(format!(
            "cannot connect to ScyllaDB at {}: {e}",
            cfg.nodes.join(", ")
        )))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_replication_are_checked() {
        let mut cfg = ScyllaConfig::default();
        let plan = Plan::new(&cfg).unwrap();
        assert_eq!(plan.regions[0].keyspace, "tollgate_default");
        assert_eq!(
            plan.global_replication,
            "{'class': 'NetworkTopologyStrategy', 'datacenter1': 1}"
        );
        cfg.keyspace = "x; DROP".into();
        assert!(Plan::new(&cfg).is_err());
        let mut cfg = ScyllaConfig::default();
        cfg.regions
            .get_mut(DEFAULT_REGION)
            .unwrap()
            .datacenters
            .clear();
        assert!(Plan::new(&cfg).is_err());
        let cfg = ScyllaConfig {
            consistency: "most".into(),
            ..ScyllaConfig::default()
        };
        assert!(Plan::new(&cfg).is_err());
    }

    #[test]
    fn the_client_waits_longer_than_the_server() {
        let cfg = ScyllaConfig {
            request_timeout_ms: 2_000,
            ..ScyllaConfig::default()
        };
        let Err(e) = Plan::new(&cfg) else {
            panic!("a client timeout no longer than the server's was accepted")
        };
        assert!(e.to_string().contains("request_timeout_ms = 2000"), "{e}");
        Plan::new(&ScyllaConfig::default()).unwrap();
    }

    #[test]
    fn the_local_datacenter_must_hold_the_global_keyspace() {
        let cfg = ScyllaConfig {
            local_dc: Some("mumbai".into()),
            ..ScyllaConfig::default()
        };
        let Err(e) = Plan::new(&cfg) else {
            panic!("a local_dc without a replica of the global keyspace was accepted")
        };
        assert!(e.to_string().contains("local_dc `mumbai`"), "{e}");
        let cfg = ScyllaConfig {
            local_dc: Some("datacenter1".into()),
            ..ScyllaConfig::default()
        };
        Plan::new(&cfg).unwrap();
    }

    #[test]
    fn a_region_across_datacenters_needs_serial() {
        let mut cfg = ScyllaConfig::default();
        cfg.regions
            .get_mut(DEFAULT_REGION)
            .unwrap()
            .datacenters
            .insert("datacenter2".into(), 3);
        let Err(e) = Plan::new(&cfg) else {
            panic!("local_serial accepted for a region across two datacenters")
        };
        assert!(
            e.to_string().contains("serial_consistency = \"serial\""),
            "{e}"
        );
        cfg.serial_consistency = "serial".into();
        assert!(Plan::new(&cfg).is_ok());
    }

    #[test]
    fn debug_hides_the_password() {
        let cfg = ScyllaConfig {
            password: Some("hunter2".into()),
            ..ScyllaConfig::default()
        };
        assert!(!format!("{cfg:?}").contains("hunter2"));
        assert!(!serde_json::to_string(&cfg).unwrap().contains("hunter2"));
    }
}
