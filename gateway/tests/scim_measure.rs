//! Measurements of the SCIM server (issue 19): user creations per second over HTTP, and
//! filtered lists over 100,000 users. `#[ignore]`d (about a minute on 2 cores); timings
//! are printed for benches/RESULTS.md and nothing here asserts on them:
//!
//!     cargo test --release -p tollgate-gateway --test scim_measure -- --ignored --nocapture

mod common;

use std::time::Instant;

use common::*;
use serde_json::{Value, json};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// Users created through SCIM for the rate.
const CREATE: usize = 2_000;
/// Requests in flight while creating.
const CONCURRENCY: usize = 16;
/// Users in the tenant for the list timings.
const USERS: usize = 100_000;

async fn get(http: &reqwest::Client, url: &str, token: &str) -> Value {
    let r = http.get(url).bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[actix_web::test]
#[ignore = "a measurement (about a minute): run it with --release --ignored --nocapture"]
async fn scim_creations_per_second_and_filtered_lists_over_100k_users() {
    let s = TestServer::start().await;
    s.tenant("m", false, true).await;
    let t = s
        .admin("/tenants/m/scim-tokens", json!({"name": "measure"}))
        .await;
    let token = t["token"].as_str().unwrap().to_owned();
    let base = format!("{}/m/scim/v2", s.base);

    // Creations: CONCURRENCY clients posting users (no password: provisioned users sign
    // in through their company's IdP or a reset; a password costs one argon2id hash).
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..CONCURRENCY {
        let (base, token) = (base.clone(), token.clone());
        tasks.spawn(async move {
            let http = reqwest::Client::new();
            for i in (w..CREATE).step_by(CONCURRENCY) {
                let body = json!({
                    "schemas": [USER], "userName": format!("scim{i:06}@m.example"),
                    "externalId": format!("HR-{i:06}"), "name": {"givenName": "Ada", "familyName": format!("L{i}")},
                    "emails": [{"value": format!("scim{i:06}@m.example"), "type": "work", "primary": true}],
                    "title": if i % 10 == 0 { "Engineer" } else { "Analyst" },
                });
                let r = http
                    .post(format!("{base}/Users"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 201);
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "SCIM creations: {CREATE} users in {secs:.2} s = {:.0}/s ({CONCURRENCY} concurrent clients)",
        CREATE as f64 / secs
    );

    // The rest of the 100,000 through the admin import (batched), then lists.
    let started = Instant::now();
    let hash =
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";
    let mut next = CREATE;
    while next < USERS {
        let end = (next + 10_000).min(USERS);
        let users: Vec<Value> = (next..end)
            .map(|i| json!({"email": format!("imp{i:06}@m.example"), "password_hash": hash}))
            .collect();
        s.admin("/tenants/m/users/import", json!({ "users": users }))
            .await;
        next = end;
    }
    println!(
        "seeded {} more users by import in {:.1} s",
        USERS - CREATE,
        started.elapsed().as_secs_f64()
    );

    let http = reqwest::Client::new();
    for (what, filter) in [
        (
            "userName eq (the email index)",
            r#"userName eq "imp054321@m.example""#.to_owned(),
        ),
        (
            "externalId eq (the SCIM index)",
            r#"externalId eq "HR-001234""#.to_owned(),
        ),
        (
            "title eq, a walk of every user",
            r#"title eq "Engineer""#.to_owned(),
        ),
        (
            "userName sw, a walk of every user",
            r#"userName sw "imp0999""#.to_owned(),
        ),
    ] {
        let q =
            serde_urlencoded::to_string([("filter", filter.as_str()), ("count", "10")]).unwrap();
        let started = Instant::now();
        let v = get(&http, &format!("{base}/Users?{q}"), &token).await;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        println!(
            "filtered list, {what}: {} of {USERS} users matched, first page in {ms:.1} ms",
            v["totalResults"]
        );
        assert!(v["totalResults"].as_u64().unwrap() >= 1, "{v}");
    }
    let started = Instant::now();
    let v = get(
        &http,
        &format!("{base}/Users?count=100&startIndex=50001"),
        &token,
    )
    .await;
    println!(
        "unfiltered list (a page at startIndex 50001 of {}): {:.1} ms",
        v["totalResults"],
        started.elapsed().as_secs_f64() * 1000.0
    );
}
