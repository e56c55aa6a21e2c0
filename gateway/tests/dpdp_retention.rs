//! Retention under the DPDP Rules 2025 (Rules 6 and 8, Third Schedule), over HTTP with a
//! `ManualClock`: the dormancy notice at least 48 hours before the erasure, a sign-in that
//! keeps the account, the erasure, legal holds, no second notice across runs or a
//! restart, and the audit-trail purge that keeps a year.

mod common;

use common::*;
use serde_json::{Value, json};
use std::sync::Arc;
use tollgate_engine::clock::{Clock, ManualClock, SystemClock};

const DAY: u64 = 86_400;
const HOUR: u64 = 3_600;

async fn start() -> (TestServer, ManualClock) {
    let clock = ManualClock::new(SystemClock.now());
    let s = TestServer::start_with_clock(Arc::new(clock.clone())).await;
    (s, clock)
}

/// A PUT or DELETE on the admin API: status and body.
async fn admin_send(s: &TestServer, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let url = format!("{}/admin/v1{path}", s.base);
    let req = match method {
        "PUT" => s.http.put(url),
        "DELETE" => s.http.delete(url),
        _ => s.http.post(url),
    }
    .bearer_auth(&s.admin_token);
    let req = match body {
        Some(b) => req.json(&b),
        None => req,
    };
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// One run of the retention jobs, through the admin API.
async fn run_jobs(s: &TestServer) -> Value {
    let (status, v) = admin_send(s, "POST", "/retention/run", None).await;
    assert_eq!(status, 200, "{v}");
    v
}

async fn new_user(s: &TestServer, tenant: &str, email: &str) -> String {
    let u = s
        .admin(
            &format!("/tenants/{tenant}/users"),
            json!({"email": email, "password": PASSWORD, "email_verified": true}),
        )
        .await;
    u["id"].as_str().unwrap().to_owned()
}

/// The dormancy notices in the outbox to `to` (the raw messages), in English.
fn notices_to(s: &TestServer, to: &str) -> Vec<String> {
    notices_saying(s, to, "will be deleted on or after")
}

/// The mails in the outbox to `to` whose text says `says`.
fn notices_saying(s: &TestServer, to: &str, says: &str) -> Vec<String> {
    std::fs::read_dir(s.dir.path().join("outbox"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .filter(|m| m.contains(&format!("To: {to}")) && mail_text(m).contains(says))
        .collect()
}

#[actix_web::test]
async fn dormant_accounts_get_a_notice_then_go_unless_used_or_held() {
    let (s, clock) = start().await;
    let t = s.tenant("dorm", false, true).await;

    // The Rules' limits are refused with the reason.
    for (bad, says) in [
        (json!({"dormancy": {"after_days": 29}}), "at least 30"),
        (
            json!({"dormancy": {"after_days": 365, "notice_hours": 47}}),
            "at least 48",
        ),
        (json!({"event_days": 364}), "at least 365"),
    ] {
        let (status, v) = admin_send(&s, "PUT", "/tenants/dorm/retention", Some(bad)).await;
        assert_eq!(status, 400, "{v}");
        assert_eq!(v["error"], "invalid_request");
        assert!(
            v["error_description"].as_str().unwrap().contains(says),
            "{v}"
        );
    }
    let (status, v) = admin_send(
        &s,
        "PUT",
        "/tenants/dorm/retention",
        Some(json!({"dormancy": {"after_days": 365}})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["dormancy"],
        json!({"after_days": 365, "notice_hours": 48})
    );
    assert_eq!(s.admin_get("/tenants/dorm/retention").await, v);

    // The tenant's own user (who will sign in), one who never comes back, one on hold.
    let bob = new_user(&s, "dorm", "bob@dorm.example").await;
    let carol = new_user(&s, "dorm", "carol@dorm.example").await;
    let (status, v) = admin_send(
        &s,
        "PUT",
        &format!("/tenants/dorm/users/{carol}/legal-hold"),
        Some(json!({"reason": "   "})),
    )
    .await;
    assert_eq!(
        (status, v["error"].as_str()),
        (400, Some("invalid_request"))
    );
    let (status, v) = admin_send(
        &s,
        "PUT",
        &format!("/tenants/dorm/users/{carol}/legal-hold"),
        Some(json!({"reason": "court order 17/2026"})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["hold"]["reason"], "court order 17/2026");

    // Not yet due: nothing happens.
    clock.advance(300 * DAY);
    let r = run_jobs(&s).await;
    assert_eq!(r["dormancy"]["notices"], 0, "{r}");

    // 47 hours before the year is up: the notices go out (not to the held account).
    clock.advance(65 * DAY - 47 * HOUR);
    let r = run_jobs(&s).await;
    assert_eq!(r["dormancy"]["notices"], 2, "{r}");
    assert_eq!(r["dormancy"]["held"], 1, "{r}");
    assert_eq!(r["dormancy"]["erased"], 0, "{r}");
    let bob_mail = notices_to(&s, "bob@dorm.example");
    assert_eq!(bob_mail.len(), 1);
    let text = mail_text(&bob_mail[0]);
    assert!(text.contains("sign in before then"), "{text}");
    assert!(text.contains("Tenant dorm"), "{text}");
    assert_eq!(notices_to(&s, &t.email).len(), 1);
    assert!(notices_to(&s, "carol@dorm.example").is_empty());
    let d = s
        .admin_get(&format!("/tenants/dorm/users/{bob}/dormancy"))
        .await;
    let sent_at = d["notice"]["sent_at"].as_u64().unwrap();
    assert_eq!(d["notice"]["channel"], "email");
    // Announced for no earlier than 48 hours after the notice.
    assert!(d["notice"]["erase_after"].as_u64().unwrap() >= sent_at + 48 * HOUR);

    // A second run is no second notice.
    let r = run_jobs(&s).await;
    assert_eq!(r["dormancy"]["notices"], 0, "{r}");
    assert_eq!(notices_to(&s, "bob@dorm.example").len(), 1);

    // Past the year but not 48 hours after the notice: still no erasure.
    clock.advance(47 * HOUR - 60);
    let r = run_jobs(&s).await;
    assert_eq!(r["dormancy"]["erased"], 0, "{r}");

    // The tenant's user signs in: the account is kept, the notice withdrawn.
    let b = s.browser();
    login_tokens(&b, &t, "openid").await;
    let kept = s.events("dorm", "kind=dormancy.kept").await;
    assert_eq!(kept.len(), 1, "{kept:?}");

    // 48 hours after the notice: Bob's account goes; the saved one and the held one stay.
    clock.advance(2 * HOUR);
    let r = run_jobs(&s).await;
    assert_eq!(r["dormancy"]["erased"], 1, "{r}");
    assert_eq!(r["dormancy"]["held"], 1, "{r}");
    let gone = s
        .http
        .get(format!(
            "{}/admin/v1/tenants/dorm/users/{bob}/export",
            s.base
        ))
        .bearer_auth(&s.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status().as_u16(), 404, "Bob's account is gone");
    let erased = s.events("dorm", "kind=dormancy.erased").await;
    assert_eq!(erased.len(), 1);
    assert_eq!(erased[0]["subject"], bob.as_str());
    let deleted = s.events("dorm", "kind=user.deleted").await;
    assert_eq!(deleted[0]["actor"], "system");
    // Bob's events stay, kind and time, with their personal details shredded.
    let his = s.events("dorm", &format!("user={bob}")).await;
    let notice = his
        .iter()
        .find(|e| e["kind"] == "dormancy.notice_sent")
        .expect("the notice event stays");
    assert!(notice["at_ms"].as_u64().is_some());
    assert_eq!(notice["erased"], true, "{notice}");
    assert!(
        notice["detail"].is_null() && notice["ip"].is_null(),
        "{notice}"
    );
    // The saved account and the held one are there.
    let b2 = s.browser();
    login_tokens(&b2, &t, "openid").await;
    let d = s
        .admin_get(&format!("/tenants/dorm/users/{carol}/dormancy"))
        .await;
    assert!(d["notice"].is_null(), "{d}");

    // The hold lifted, Carol is told at the next run, and only once.
    let (status, v) = admin_send(
        &s,
        "DELETE",
        &format!("/tenants/dorm/users/{carol}/legal-hold"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert!(v["hold"].is_null());
    let r = run_jobs(&s).await;
    assert_eq!(r["dormancy"]["notices"], 1, "{r}");
    let r = run_jobs(&s).await;
    assert_eq!(r["dormancy"]["notices"], 0, "{r}");
    assert_eq!(notices_to(&s, "carol@dorm.example").len(), 1);
    let mut kinds: Vec<String> = s
        .events("dorm", &format!("kind=dormancy.&user={carol}"))
        .await
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    // One millisecond on the manual clock: compared as a set.
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "dormancy.hold_cleared",
            "dormancy.hold_set",
            "dormancy.notice_sent"
        ]
    );

    // Held again past the erasure date, then released: a notice sent before a hold does
    // not count after it; Carol is told again, and goes 48 hours after that.
    let (status, v) = admin_send(
        &s,
        "PUT",
        &format!("/tenants/dorm/users/{carol}/legal-hold"),
        Some(json!({"reason": "appeal pending"})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    clock.advance(10 * DAY);
    let r = run_jobs(&s).await;
    assert_eq!(
        (
            r["dormancy"]["erased"].as_u64(),
            r["dormancy"]["held"].as_u64()
        ),
        (Some(0), Some(1)),
        "{r}"
    );
    let (status, v) = admin_send(
        &s,
        "DELETE",
        &format!("/tenants/dorm/users/{carol}/legal-hold"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert!(v["notice"].is_null(), "the old notice is withdrawn: {v}");
    let r = run_jobs(&s).await;
    assert_eq!(
        (
            r["dormancy"]["notices"].as_u64(),
            r["dormancy"]["erased"].as_u64()
        ),
        (Some(1), Some(0)),
        "{r}"
    );
    assert_eq!(notices_to(&s, "carol@dorm.example").len(), 2);
    clock.advance(48 * HOUR);
    let r = run_jobs(&s).await;
    assert_eq!(r["dormancy"]["erased"], 1, "{r}");
}

#[actix_web::test]
async fn the_event_purge_keeps_a_year() {
    let (s, clock) = start().await;
    let t = s.tenant("logs", false, true).await;
    let b = s.browser();
    login_tokens(&b, &t, "openid").await;
    let first = s.events("logs", "kind=login.").await;
    assert!(!first.is_empty());

    // Nothing is purged while the tenant keeps everything.
    clock.advance(200 * DAY);
    let b = s.browser();
    login_tokens(&b, &t, "openid").await;
    let (status, v) = admin_send(
        &s,
        "PUT",
        "/tenants/logs/retention",
        Some(json!({"event_days": 365})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let r = run_jobs(&s).await;
    assert_eq!(r["events_purged"], 0, "{r}");

    // A year and a day after the first sign-in, its events go; the later ones stay.
    clock.advance(166 * DAY);
    let r = run_jobs(&s).await;
    assert!(
        r["events_purged"].as_u64().unwrap() >= first.len() as u64,
        "{r}"
    );
    let logins = s.events("logs", "kind=login.").await;
    let cut_ms = (clock.now() - 365 * DAY) * 1000;
    assert!(!logins.is_empty(), "the later sign-in's events stay");
    for e in &logins {
        assert!(e["at_ms"].as_u64().unwrap() >= cut_ms, "{e}");
    }
    for e in &first {
        assert!(!logins.iter().any(|l| l["id"] == e["id"]), "purged: {e}");
    }
    let purged = s.events("logs", "kind=events.purged").await;
    assert_eq!(purged.len(), 1);
    assert_eq!(purged[0]["actor"], "system");
    // Again: nothing more to purge.
    let r = run_jobs(&s).await;
    assert_eq!(r["events_purged"], 0, "{r}");
}

#[actix_web::test]
async fn a_restart_sends_no_second_notice_and_the_first_still_counts() {
    let (s, clock) = start().await;
    let t = s.tenant("again", false, true).await;
    let (status, v) = admin_send(
        &s,
        "PUT",
        "/tenants/again/retention",
        Some(json!({"dormancy": {"after_days": 30, "notice_hours": 72}})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    // A tenant whose pages and mails are in Hindi by default.
    let (status, v) = admin_send(
        &s,
        "PUT",
        "/tenants/again/branding/default-language",
        Some(json!({"default_language": "hi"})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    clock.advance(30 * DAY - 71 * HOUR);
    let r = run_jobs(&s).await;
    assert_eq!(r["dormancy"]["notices"], 1, "{r}");
    let hindi = notices_saying(&s, &t.email, "हटा दिया जाएगा");
    assert_eq!(hindi.len(), 1, "the notice is in Hindi");
    assert!(mail_text(&hindi[0]).contains("साइन इन करें"));

    // Stop the server and start another on the same data directory.
    let TestServer { running, dir, .. } = s;
    running.handle.stop(true).await;
    let _ = running.done.await;
    drop(running.engine);
    let path = dir.path().to_path_buf();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let running = loop {
        let mut cfg = config(&path);
        cfg.log = "warn".into();
        match tollgate_gateway::server::start_with_clock(cfg, Arc::new(clock.clone())).await {
            Ok(r) => break r,
            Err(e) => {
                assert!(
                    std::time::Instant::now() < deadline,
                    "no restart on the data directory: {e}"
                );
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    };
    let s = TestServer {
        base: format!("http://{}", running.addr),
        tls_ca: None,
        admin_token: running.admin_token.clone(),
        running,
        dir,
        http: reqwest::Client::new(),
    };
    let r = run_jobs(&s).await;
    assert_eq!(r["dormancy"]["notices"], 0, "{r}");
    assert_eq!(notices_saying(&s, &t.email, "हटा दिया जाएगा").len(), 1);
    // The notice sent before the restart is the one the erasure waits for: 72 hours.
    clock.advance(71 * HOUR);
    let r = run_jobs(&s).await;
    assert_eq!(r["dormancy"]["erased"], 0, "{r}");
    clock.advance(HOUR);
    let r = run_jobs(&s).await;
    assert_eq!(r["dormancy"]["erased"], 1, "{r}");
    assert_eq!(
        notices_saying(&s, &t.email, "हटा दिया जाएगा").len(),
        1,
        "one notice in all"
    );
}

#[actix_web::test]
async fn the_cli_sets_retention_and_holds() {
    let (s, _clock) = start().await;
    s.tenant("clit", false, true).await;
    let user = new_user(&s, "clit", "dora@clit.example").await;
    let (base, token) = (s.base.clone(), s.admin_token.clone());
    let cli = move |extra: Vec<String>| {
        let (base, token) = (base.clone(), token.clone());
        async move {
            tokio::task::spawn_blocking(move || {
                let mut args = vec![
                    "admin".to_owned(),
                    "--url".into(),
                    base,
                    "--token".into(),
                    token,
                ];
                args.extend(extra);
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                tollgate(&args, &[])
            })
            .await
            .unwrap()
        }
    };
    let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let (ok, _, err) = cli(words(&["retention", "set", "clit", "--dormant-days", "20"])).await;
    assert!(!ok && err.contains("at least 30"), "{err}");
    let (ok, out, err) = cli(words(&[
        "retention",
        "set",
        "clit",
        "--dormant-days",
        "1095",
        "--notice-hours",
        "72",
        "--event-days",
        "400",
    ]))
    .await;
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v,
        json!({"dormancy": {"after_days": 1095, "notice_hours": 72}, "event_days": 400})
    );
    let (ok, out, err) = cli(words(&["retention", "show", "clit"])).await;
    assert!(ok, "{err}");
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap(), v);
    let (ok, out, err) = cli(words(&[
        "retention",
        "hold",
        "clit",
        &user,
        "--reason",
        "tax audit",
    ]))
    .await;
    assert!(ok, "{err}");
    assert!(out.contains("tax audit"), "{out}");
    let (ok, out, err) = cli(words(&["retention", "user", "clit", &user])).await;
    assert!(ok && out.contains("tax audit"), "{out}{err}");
    let (ok, out, err) = cli(words(&["retention", "release", "clit", &user])).await;
    assert!(ok && !out.contains("tax audit"), "{out}{err}");
    let (ok, out, err) = cli(words(&["retention", "run"])).await;
    assert!(ok, "{err}");
    let r: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["dormancy"]["notices"], 0, "{r}");
}

#[actix_web::test]
async fn a_notice_that_cannot_be_sent_is_tried_again_and_nothing_is_erased_meanwhile() {
    let (s, clock) = start().await;
    let t = s.tenant("flaky", false, true).await;
    let (status, v) = admin_send(
        &s,
        "PUT",
        "/tenants/flaky/retention",
        Some(json!({"dormancy": {"after_days": 30}})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    // The mail system refuses everything: the outbox is a file, not a folder.
    let outbox = s.dir.path().join("outbox");
    let parked = s.dir.path().join("outbox.parked");
    std::fs::rename(&outbox, &parked).unwrap();
    std::fs::write(&outbox, b"not a folder").unwrap();

    clock.advance(30 * DAY - 47 * HOUR);
    let r = run_jobs(&s).await;
    assert_eq!(
        (
            r["dormancy"]["notices"].as_u64(),
            r["dormancy"]["failed"].as_u64()
        ),
        (Some(0), Some(1)),
        "{r}"
    );
    let failed = s.events("flaky", "kind=dormancy.notice_failed").await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    // Long past the period: still no notice, so no erasure.
    clock.advance(10 * DAY);
    let r = run_jobs(&s).await;
    assert_eq!(
        (
            r["dormancy"]["failed"].as_u64(),
            r["dormancy"]["erased"].as_u64()
        ),
        (Some(1), Some(0)),
        "{r}"
    );

    // Mail works again: the notice goes, and the erasure waits its 48 hours from it.
    std::fs::remove_file(&outbox).unwrap();
    std::fs::rename(&parked, &outbox).unwrap();
    let r = run_jobs(&s).await;
    assert_eq!(
        (
            r["dormancy"]["notices"].as_u64(),
            r["dormancy"]["erased"].as_u64()
        ),
        (Some(1), Some(0)),
        "{r}"
    );
    assert_eq!(notices_to(&s, &t.email).len(), 1);
    clock.advance(47 * HOUR);
    let r = run_jobs(&s).await;
    assert_eq!(r["dormancy"]["erased"], 0, "{r}");
    clock.advance(HOUR);
    let r = run_jobs(&s).await;
    assert_eq!(r["dormancy"]["erased"], 1, "{r}");
}

/// Accounts that reach the dormancy job by other roads than a sign-up: an import starts
/// the clock, an account older than the feature gets one from the audit trail the first
/// time the job runs for its tenant, and a refresh counts as activity.
#[actix_web::test]
async fn imported_and_older_accounts_are_clocked_and_a_refresh_counts_as_use() {
    let (s, clock) = start().await;
    let t = s.tenant("clocks", false, true).await;
    let tid = tollgate_engine::ids::TenantId::parse("clocks").unwrap();
    let hash = s
        .running
        .engine
        .admin()
        .create_user(
            &tid,
            "hash-source@clocks.example",
            "imported password 1",
            None,
            false,
        )
        .await
        .unwrap()
        .password_hash
        .unwrap();
    let report = s
        .admin(
            "/tenants/clocks/users/import",
            json!({"users": [{"email": "imported@clocks.example", "password_hash": hash, "email_verified": true}]}),
        )
        .await;
    assert_eq!(report["created"], 1, "{report}");
    let old = new_user(&s, "clocks", "old@clocks.example").await;
    // An account from before the feature: no activity record at all.
    let old_id = tollgate_engine::ids::UserId::from_stored(old.clone());
    s.running
        .engine
        .store()
        .delete_activity(&tid, &old_id)
        .await
        .unwrap();
    let started = clock.now();

    // The tenant's own user keeps a refresh token and uses it well into the year.
    let b = s.browser();
    let tokens = login_tokens(&b, &t, "openid offline_access").await;
    let rt = tokens["refresh_token"].as_str().unwrap().to_owned();
    let (status, v) = admin_send(
        &s,
        "PUT",
        "/tenants/clocks/retention",
        Some(json!({"dormancy": {"after_days": 30}})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert!(v.get("activity_backfilled_at").is_none(), "{v}");

    // Twenty days in (inside the refresh token's 30-day life), one refresh.
    clock.advance(20 * DAY);
    let (status, v) = refresh(&t, &rt).await;
    assert_eq!(status, 200, "{v}");
    // The refresh's activity write is off the answer's path: wait for it, bounded.
    let me = jwt_claims(tokens["id_token"].as_str().unwrap())["sub"]
        .as_str()
        .unwrap()
        .to_owned();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let d = s
            .admin_get(&format!("/tenants/clocks/users/{me}/dormancy"))
            .await;
        if d["last_active"].as_u64() == Some(clock.now()) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "refresh not recorded: {d}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    // 47 hours before 30 days since the import and the old account's creation are up.
    clock.advance(10 * DAY - 47 * HOUR);
    let r = run_jobs(&s).await;
    // The imported account, the old one and the account the hash came from.
    assert_eq!(r["dormancy"]["notices"], 3, "{r}");
    assert_eq!(notices_to(&s, "imported@clocks.example").len(), 1);
    assert_eq!(notices_to(&s, "old@clocks.example").len(), 1);
    assert!(
        notices_to(&s, &t.email).is_empty(),
        "the refresh kept the tenant's user in use"
    );
    // The old account's clock came from its newest event (its creation), not from today.
    let d = s
        .admin_get(&format!("/tenants/clocks/users/{old}/dormancy"))
        .await;
    let last = d["last_active"].as_u64().unwrap();
    assert!(last >= started.saturating_sub(60) && last <= started, "{d}");
    let settings = s.admin_get("/tenants/clocks/retention").await;
    assert!(
        settings["activity_backfilled_at"].as_u64().is_some(),
        "{settings}"
    );
    let backfilled = s.events("clocks", "kind=tenant.activity_backfilled").await;
    assert_eq!(backfilled.len(), 1, "{backfilled:?}");
    // An admin's later change keeps the job's mark: no second walk.
    let (status, v) = admin_send(
        &s,
        "PUT",
        "/tenants/clocks/retention",
        Some(json!({"dormancy": {"after_days": 40}})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["activity_backfilled_at"],
        settings["activity_backfilled_at"]
    );
    run_jobs(&s).await;
    assert_eq!(
        s.events("clocks", "kind=tenant.activity_backfilled")
            .await
            .len(),
        1
    );
}
