//! The operator-facing files stay true to the server: every metric the Grafana dashboard
//! and the runbook name is one the server exports.

mod common;

use common::{Browser, TestServer, login_tokens};

fn metric_names(text: &str) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("tollgate_") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
            .unwrap_or(tail.len());
        let name = &tail[..end];
        let base = ["_bucket", "_sum", "_count"]
            .iter()
            .fold(name, |n, s| n.strip_suffix(s).unwrap_or(n));
        // "tollgate_data" and the like are paths, not metrics.
        if base.ends_with("_total")
            || base.contains("_seconds")
            || base.contains("_depth")
            || base.contains("_jobs")
        {
            out.insert(base.to_owned());
        }
        rest = &tail[end..];
    }
    out
}

#[actix_web::test]
async fn dashboard_and_runbook_name_only_exported_metrics() {
    let server = TestServer::start().await;
    let t = server.tenant("acme", false, false).await;
    login_tokens(&Browser::new(&server.base), &t, "openid offline_access").await;
    let exported = reqwest::get(format!("{}/metrics", server.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let exported: std::collections::BTreeSet<String> = exported
        .lines()
        .filter(|l| l.starts_with("# TYPE "))
        .filter_map(|l| l.split(' ').nth(2).map(str::to_owned))
        .collect();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    for file in [
        "ops/grafana/tollgate-dashboard.json",
        "ops/RUNBOOK.md",
        "ops/compose/alerts.yml",
    ] {
        let text = std::fs::read_to_string(format!("{root}/{file}")).unwrap();
        let named = metric_names(&text);
        assert!(!named.is_empty(), "{file} names no metric");
        for n in named {
            assert!(
                exported.contains(&n),
                "{file} uses {n}, which the server does not export"
            );
        }
    }
}

/// Every file under ops/ is one the runbook tells an operator about (generated secrets,
/// which are never committed, excepted).
#[test]
fn the_runbook_references_every_file_under_ops() {
    let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let runbook = std::fs::read_to_string(root.join("ops/RUNBOOK.md")).unwrap();
    let mut stack = vec![root.join("ops")];
    let mut seen = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            if rel.contains("/secrets") {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else if rel != "ops/RUNBOOK.md" {
                seen += 1;
                assert!(
                    runbook.contains(&rel),
                    "ops/RUNBOOK.md never mentions {rel}"
                );
            }
        }
    }
    assert!(seen >= 20, "only {seen} files under ops/");
}
