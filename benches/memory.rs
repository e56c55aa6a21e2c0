//! Resident memory per cached refresh chain: fills the shards' chain caches (as the
//! engine builds them) with `TOLLGATE_BENCH_CHAINS` chains (default 1,000,000) shaped like
//! real ones, and reports the growth of resident memory divided by the count.
//!
//! `cargo bench -p tollgate-benches --bench memory`

use tollgate_engine::ids::{ChainId, ClientId, TenantId, UserId};
use tollgate_engine::model::{AuthContext, Chain, Hash32};
use tollgate_engine::runtime::shard::chain_cache;

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("Linux /proc");
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let n: u64 = std::env::var("TOLLGATE_BENCH_CHAINS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let shards = 32u64;
    let tenant = TenantId::parse("acme").unwrap();
    let client = ClientId::parse("web-app").unwrap();
    let caches: Vec<_> = (0..shards).map(|_| chain_cache(n / shards * 2)).collect();
    let before = rss_bytes();
    for i in 0..n {
        let id = ChainId::generate();
        let chain = Chain {
            tenant: tenant.clone(),
            id: id.clone(),
            client_id: client.clone(),
            user_id: UserId::generate(),
            scope: "openid email profile offline_access".into(),
            auth: AuthContext {
                auth_time: 1_700_000_000 + i,
                amr: vec!["pwd".into()],
                org: None,
            },
            sid: Some(tollgate_engine::crypto::random_token::<16>()),
            generation: 3,
            current_hash: Hash32::of(&i.to_be_bytes()),
            created_at: 1_700_000_000,
            rotated_at: 1_700_000_000 + i,
            expires_at: 1_702_592_000,
            resource: None,
            dpop_jkt: None,
            revoked: None,
        };
        caches[(i % shards) as usize].insert(id, chain);
    }
    for c in &caches {
        c.run_pending_tasks();
    }
    let after = rss_bytes();
    let entries: u64 = caches.iter().map(|c| c.entry_count()).sum();
    let per = (after - before) as f64 / entries as f64;
    println!("cached chains: {entries}");
    println!(
        "resident memory: {:.1} MiB before, {:.1} MiB after",
        before as f64 / 1048576.0,
        after as f64 / 1048576.0
    );
    println!("per cached chain: {per:.0} bytes (target: at most 1024)");
}
