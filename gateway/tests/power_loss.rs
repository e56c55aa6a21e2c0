//! Power-loss durability. `crash.rs` kills the server with SIGKILL, but the page cache
//! outlives a killed process, so it passes whether or not the store syncs. Here the real
//! `tollgate` binary runs over an `LD_PRELOAD` shim (`tests/powercut/shim.c`) that logs
//! every write and every completed fsync/fdatasync under the data directory. The server is
//! killed at a random moment of a storm of refreshes, revocations and sign-ins; the data
//! directory is then rewritten to what a disk would hold after a power cut (every write not
//! followed by a completed sync undone), and a server started on it without the shim must
//! still honour everything a client was told: each acknowledged rotation, revocation,
//! session and new chain.
//!
//! The seed is printed; `TOLLGATE_POWERCUT_SEED=<n>` replays its cut points and choices
//! (thread timing still varies).
#![cfg(target_os = "linux")]

mod common;

use common::{
    BinaryServer, PASSWORD, TestTenant, authorize_url, hidden, pkce, query_param, redeem,
    spawn_binary, token_with,
};
use reqwest::header::LOCATION;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Power cuts per run; each starts from an empty data directory.
const ROUNDS: usize = 8;
/// Chains issued before the storm; sign-ins during the storm add more.
const CHAINS: usize = 24;
/// Workers rotating and revoking chains, besides the one signing in.
const WORKERS: usize = 6;

/// splitmix64: enough randomness for cut points, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

// ---------------------------------------------------------------------------------------
// The disk model
// ---------------------------------------------------------------------------------------

/// A file as the shim names it: inode and birth time, so that renames keep a file's state
/// and a reused inode number does not inherit a deleted file's syncs.
type FileKey = (u64, i64, u32);

fn file_key(md: &std::fs::Metadata) -> FileKey {
    // The shim writes 0 0 where the file system keeps no birth time; so does this.
    let born = md
        .created()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| (d.as_secs() as i64, d.subsec_nanos()))
        .unwrap_or((0, 0));
    (md.ino(), born.0, born.1)
}

#[derive(Default)]
struct FileLog {
    /// When an open with O_CREAT first returned it.
    created: Option<u64>,
    /// The newest completed sync: its sequence number (taken before it started) and the
    /// file's size then.
    synced: Option<(u64, u64)>,
    /// Writes that returned: (sequence number, offset, length).
    writes: Vec<(u64, u64, u64)>,
}

#[derive(Default)]
struct ShimLog {
    files: HashMap<FileKey, FileLog>,
    /// Each directory's newest completed sync (its sequence number).
    dirs: HashMap<FileKey, u64>,
    syncs: usize,
    writes: usize,
}

#[derive(Debug, Default)]
struct CutReport {
    syncs: usize,
    writes: usize,
    removed: usize,
    emptied: usize,
    bytes_undone: u64,
}

fn parse_log(text: &str) -> ShimLog {
    let mut log = ShimLog::default();
    for line in text.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let n = |i: usize| -> u64 {
            f.get(i)
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("bad shim line {line:?}"))
        };
        let key = (n(1), n(2) as i64, n(3) as u32);
        match f[0] {
            "C" => {
                let file = log.files.entry(key).or_default();
                file.created.get_or_insert(n(4));
            }
            "W" => {
                log.writes += 1;
                let file = log.files.entry(key).or_default();
                file.writes.push((n(6), n(4), n(5)));
            }
            "S" => {
                log.syncs += 1;
                let file = log.files.entry(key).or_default();
                let (seq, size) = (n(5), n(4));
                if file.synced.is_none_or(|(s, _)| s < seq) {
                    file.synced = Some((seq, size));
                }
            }
            "D" => {
                log.syncs += 1;
                let seq = log.dirs.entry(key).or_default();
                *seq = (*seq).max(n(4));
            }
            _ => panic!("bad shim line {line:?}"),
        }
    }
    log
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let t = e.file_type().unwrap();
        if t.is_dir() {
            files_under(&e.path(), out);
        } else if t.is_file() {
            out.push(e.path());
        }
    }
}

/// Rewrites `dir` to what the disk would hold had the power gone when the server died.
///
/// - A synced file keeps its size at its last sync; every write that returned after that
///   sync began is undone. Undone bytes become zeros: the store's files are written once,
///   front to back, into fresh space (new files, or a journal preallocated with
///   `set_len`, which reads as zeros), so zeros are what was there before.
/// - A file never synced keeps no data. Its name survives if its directory was synced
///   after the file was created; otherwise it may or may not (on ext4 any fsync commits
///   the whole journal transaction, other files' names included), so the seed picks,
///   per file, removed or empty.
/// - Renames, deletions and the names of synced files are taken as done. The store syncs
///   its directories after each of those; this model does not test that.
fn power_cut(dir: &Path, log: &Path, rng: &mut Rng) -> CutReport {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let log = parse_log(&text);
    let mut report = CutReport {
        syncs: log.syncs,
        writes: log.writes,
        ..CutReport::default()
    };
    let mut paths = Vec::new();
    files_under(dir, &mut paths);
    let never = FileLog::default();
    for path in paths {
        let md = std::fs::symlink_metadata(&path).unwrap();
        let len = md.len();
        let file = log.files.get(&file_key(&md)).unwrap_or(&never);
        let Some((since, size)) = file.synced else {
            report.bytes_undone += len;
            let parent = std::fs::symlink_metadata(path.parent().unwrap()).unwrap();
            let named = file.created.is_some_and(|created| {
                log.dirs
                    .get(&file_key(&parent))
                    .is_some_and(|&synced| synced > created)
            });
            if named || rng.below(2) == 0 {
                let f = std::fs::File::options().write(true).open(&path).unwrap();
                f.set_len(0).unwrap();
                report.emptied += 1;
            } else {
                std::fs::remove_file(&path).unwrap();
                report.removed += 1;
            }
            continue;
        };
        let keep = len.min(size);
        let f = std::fs::File::options().write(true).open(&path).unwrap();
        for &(seq, off, n) in &file.writes {
            let end = (off + n).min(keep);
            if seq > since && off < end {
                f.write_all_at(&vec![0; (end - off) as usize], off).unwrap();
                report.bytes_undone += end - off;
            }
        }
        if keep < len {
            f.set_len(keep).unwrap();
            report.bytes_undone += len - keep;
        }
    }
    report
}

/// Compiles the shim with the system C compiler (the one Rust links with).
fn build_shim(out: &Path) -> PathBuf {
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/powercut/shim.c");
    let lib = out.join("powercut.so");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let built = std::process::Command::new(&cc)
        .args(["-shared", "-fPIC", "-O2", "-Wall", "-o"])
        .arg(&lib)
        .arg(src)
        .arg("-ldl")
        .output()
        .unwrap_or_else(|e| panic!("cannot run the C compiler {cc:?}: {e}"));
    assert!(
        built.status.success(),
        "the power-cut shim does not compile:\n{}",
        String::from_utf8_lossy(&built.stderr)
    );
    lib
}

// ---------------------------------------------------------------------------------------
// What the clients were told
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq)]
enum Told {
    /// `latest` is the chain's token, as far as any answer said.
    Live,
    /// A revocation of `latest` was answered 200.
    Revoked,
    /// `latest` was presented (to rotate or revoke) and no answer came back.
    Unanswered,
}

#[derive(Clone)]
struct Chain {
    latest: String,
    told: Told,
    busy: bool,
}

/// A browser whose sign-in was answered: its session must survive.
struct Session {
    http: reqwest::Client,
}

struct Storm {
    chains: Mutex<Vec<Chain>>,
    sessions: Mutex<Vec<Session>>,
    /// Answers the storm could not explain (a server that is alive answering neither
    /// success nor a dropped connection); any one fails the round.
    odd: Mutex<Vec<String>>,
    acknowledged: AtomicUsize,
    rotations: AtomicUsize,
    revocations: AtomicUsize,
    sign_ins: AtomicUsize,
}

fn browser_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// (status, Location, body), or None when the server did not answer.
async fn get(http: &reqwest::Client, url: &str) -> Option<(u16, Option<String>, String)> {
    let r = http.get(url).send().await.ok()?;
    let status = r.status().as_u16();
    let loc = r
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Some((status, loc, r.text().await.ok()?))
}

/// One password sign-in in a fresh browser, then the code's redemption. The session
/// counts once the sign-in form was answered with the redirect to the client; the chain
/// once the redemption was answered with its refresh token.
async fn sign_in(storm: &Storm, t: &TestTenant, base: &str) -> Option<()> {
    let http = browser_client();
    let (verifier, challenge) = pkce();
    let url = authorize_url(t, "openid offline_access", &challenge, &[]);
    let (s, loc, _) = get(&http, &url).await?;
    let login = match (s, loc) {
        (303, Some(l)) if l.starts_with('/') && l.contains("/login?") => format!("{base}{l}"),
        (303, Some(l)) if l.contains("/login?") => l,
        (s, l) => return odd(storm, format!("authorize answered {s} {l:?}")),
    };
    let (_, _, page) = get(&http, &login).await?;
    let (Some(tx), Some(csrf)) = (hidden(&page, "tx"), hidden(&page, "csrf")) else {
        return odd(storm, format!("login page without tx/csrf: {page}"));
    };
    let r = http
        .post(format!("{}/login", t.issuer))
        .form(&[
            ("email", t.email.as_str()),
            ("password", PASSWORD),
            ("tx", &tx),
            ("csrf", &csrf),
        ])
        .send()
        .await
        .ok()?;
    let (s, back) = (
        r.status().as_u16(),
        r.headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    );
    let code = match (s, back.as_deref().and_then(|b| query_param(b, "code"))) {
        (303, Some(code)) => code,
        (s, _) => return odd(storm, format!("sign-in answered {s} {back:?}")),
    };
    storm.sessions.lock().unwrap().push(Session { http });
    storm.acknowledged.fetch_add(1, Ordering::SeqCst);
    storm.sign_ins.fetch_add(1, Ordering::SeqCst);
    match redeem(&reqwest::Client::new(), t, &code, &verifier).await {
        (200, v) => {
            let latest = v["refresh_token"].as_str()?.to_owned();
            storm.chains.lock().unwrap().push(Chain {
                latest,
                told: Told::Live,
                busy: false,
            });
            storm.acknowledged.fetch_add(1, Ordering::SeqCst);
            Some(())
        }
        (0, _) => None,
        (s, v) => odd(storm, format!("redemption answered {s} {v}")),
    }
}

fn odd(storm: &Storm, what: String) -> Option<()> {
    storm.odd.lock().unwrap().push(what);
    None
}

/// Rotates (mostly) or revokes (sometimes) chains until the server stops answering.
async fn churn(storm: Arc<Storm>, t: TestTenant, mut rng: Rng, deadline: Instant) {
    let http = reqwest::Client::new();
    while Instant::now() < deadline {
        let revoke = rng.below(10) == 0 && storm.revocations.load(Ordering::SeqCst) < CHAINS / 3;
        let picked = {
            let mut chains = storm.chains.lock().unwrap();
            let i = rng.below(chains.len());
            let c = &mut chains[i];
            let free = !c.busy && c.told == Told::Live;
            c.busy |= free;
            free.then(|| (i, c.latest.clone()))
        };
        let Some((i, token)) = picked else {
            tokio::task::yield_now().await;
            continue;
        };
        let answer = if revoke {
            let mut form = vec![
                ("token", token.as_str()),
                ("token_type_hint", "refresh_token"),
                ("client_id", &t.client_id),
            ];
            if let Some(s) = &t.client_secret {
                form.push(("client_secret", s));
            }
            match http
                .post(format!("{}/revoke", t.issuer))
                .form(&form)
                .send()
                .await
            {
                Ok(r) => (r.status().as_u16(), r.text().await.ok().map(Value::String)),
                Err(_) => (0, None),
            }
        } else {
            match token_with(
                &http,
                &t,
                &[("grant_type", "refresh_token"), ("refresh_token", &token)],
            )
            .await
            {
                (0, _) => (0, None),
                (s, v) => (s, Some(v)),
            }
        };
        let mut chains = storm.chains.lock().unwrap();
        let c = &mut chains[i];
        c.busy = false;
        match (answer, revoke) {
            ((200, Some(_)), true) => {
                c.told = Told::Revoked;
                storm.revocations.fetch_add(1, Ordering::SeqCst);
            }
            ((200, Some(v)), false) if v["refresh_token"].is_string() => {
                c.latest = v["refresh_token"].as_str().unwrap_or_default().to_owned();
                storm.rotations.fetch_add(1, Ordering::SeqCst);
            }
            // No (whole) answer: the server died under this request.
            ((0, _), _) | ((200, _), _) => {
                c.told = Told::Unanswered;
                return;
            }
            ((s, v), _) => {
                c.told = Told::Unanswered;
                storm.odd.lock().unwrap().push(format!(
                    "{} answered {s} {v:?}",
                    if revoke { "revocation" } else { "rotation" }
                ));
                return;
            }
        }
        storm.acknowledged.fetch_add(1, Ordering::SeqCst);
    }
}

// ---------------------------------------------------------------------------------------
// One round: set up, storm, cut, check
// ---------------------------------------------------------------------------------------

async fn admin(server: &BinaryServer, token: &str, path: &str, body: Value) -> Value {
    let r = reqwest::Client::new()
        .post(format!("{}/admin/v1{path}", server.base))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.unwrap()
}

fn kill(mut server: BinaryServer) {
    server.child.kill().expect("SIGKILL"); // std sends SIGKILL on Unix
    server.child.wait().unwrap();
}

/// Runs one storm over the shim, cuts the power after `cut_after` acknowledged operations
/// and returns what the restarted server got wrong.
async fn round(shim: &Path, rng: &mut Rng, cut_after: usize) -> Vec<String> {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().canonicalize().unwrap().join("data");
    std::fs::create_dir(&data).unwrap();
    let log = root.path().join("powercut.log");
    let server = spawn_binary(
        &data,
        &[
            ("LD_PRELOAD", shim.to_str().unwrap()),
            ("TOLLGATE_POWERCUT_DIR", data.to_str().unwrap()),
            ("TOLLGATE_POWERCUT_LOG", log.to_str().unwrap()),
        ],
    );
    let admin_token = std::fs::read_to_string(data.join("admin.token")).unwrap();
    admin(&server, &admin_token, "/tenants", json!({"id": "pl"})).await;
    let c = admin(
        &server,
        &admin_token,
        "/tenants/pl/clients",
        json!({"name": "App", "redirect_uris": ["http://127.0.0.1:9/cb"], "first_party": true}),
    )
    .await;
    admin(
        &server,
        &admin_token,
        "/tenants/pl/users",
        json!({"email": "u@pl.example", "password": PASSWORD}),
    )
    .await;
    let mut t = TestTenant {
        id: "pl".into(),
        issuer: format!("{}/pl", server.base),
        client_id: c["client_id"].as_str().unwrap().into(),
        client_secret: c["client_secret"].as_str().map(str::to_owned),
        redirect_uri: "http://127.0.0.1:9/cb".into(),
        email: "u@pl.example".into(),
    };

    let storm = Arc::new(Storm {
        chains: Mutex::new(Vec::new()),
        sessions: Mutex::new(Vec::new()),
        odd: Mutex::new(Vec::new()),
        acknowledged: AtomicUsize::new(0),
        rotations: AtomicUsize::new(0),
        revocations: AtomicUsize::new(0),
        sign_ins: AtomicUsize::new(0),
    });
    // Chains before the storm: one session, one code each.
    let first = sign_in(&storm, &t, &server.base).await;
    assert!(first.is_some(), "{:?}", storm.odd.lock().unwrap());
    {
        let http = storm.sessions.lock().unwrap()[0].http.clone();
        for _ in 1..CHAINS {
            let (verifier, challenge) = pkce();
            let url = authorize_url(&t, "openid offline_access", &challenge, &[]);
            let (_, back, _) = get(&http, &url).await.unwrap();
            let code = back.as_deref().and_then(|b| query_param(b, "code"));
            let (s, v) = redeem(&http, &t, &code.expect("code"), &verifier).await;
            assert_eq!(s, 200, "{v}");
            storm.chains.lock().unwrap().push(Chain {
                latest: v["refresh_token"].as_str().unwrap().into(),
                told: Told::Live,
                busy: false,
            });
        }
    }

    let deadline = Instant::now() + Duration::from_secs(15);
    let mut tasks: Vec<_> = (0..WORKERS)
        .map(|_| {
            let worker_rng = Rng(rng.next());
            tokio::spawn(churn(storm.clone(), t.clone(), worker_rng, deadline))
        })
        .collect();
    tasks.push(tokio::spawn({
        let (storm, t, base) = (storm.clone(), t.clone(), server.base.clone());
        async move {
            while Instant::now() < deadline && sign_in(&storm, &t, &base).await.is_some() {}
        }
    }));
    while storm.acknowledged.load(Ordering::SeqCst) < cut_after && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let acknowledged = storm.acknowledged.load(Ordering::SeqCst);
    kill(server);
    for task in tasks {
        task.await.expect("a storm worker panicked");
    }
    assert!(
        acknowledged >= cut_after,
        "the storm reached only {acknowledged} of {cut_after} operations in 15 s"
    );
    let odd = storm.odd.lock().unwrap().clone();
    assert!(odd.is_empty(), "the live server answered oddly: {odd:?}");

    let cut = power_cut(&data, &log, rng);
    assert!(
        cut.syncs > 0 && cut.writes > 0,
        "the shim saw no syncs or writes: LD_PRELOAD had no effect ({cut:?})"
    );

    // Power back: a server without the shim on what the disk kept.
    let server = spawn_binary(&data, &[]);
    t.issuer = format!("{}/pl", server.base);
    let http = reqwest::Client::new();
    let mut wrong = Vec::new();
    let present = |token: String| {
        let (http, t) = (http.clone(), t.clone());
        async move {
            token_with(
                &http,
                &t,
                &[("grant_type", "refresh_token"), ("refresh_token", &token)],
            )
            .await
        }
    };
    let chains = storm.chains.lock().unwrap().clone();
    for (i, c) in chains.into_iter().enumerate() {
        let (s, v) = present(c.latest.clone()).await;
        let refused = s == 400 && v["error"] == "invalid_grant";
        match c.told {
            Told::Live if s != 200 => wrong.push(format!(
                "chain {i}: its acknowledged token was lost: {s} {v}"
            )),
            Told::Live => {
                let (s, v) = present(c.latest).await;
                if !(s == 400 && v["error"] == "invalid_grant") {
                    wrong.push(format!("chain {i}: a token rotated twice: {s} {v}"));
                }
            }
            Told::Revoked if !refused => wrong.push(format!(
                "chain {i}: its acknowledged revocation was lost: {s} {v}"
            )),
            Told::Unanswered if s != 200 && !refused => {
                wrong.push(format!("chain {i}: unanswered token: {s} {v}"))
            }
            Told::Revoked | Told::Unanswered => {}
        }
    }
    let sessions = std::mem::take(&mut *storm.sessions.lock().unwrap());
    for (i, b) in sessions.iter().enumerate() {
        let (verifier, challenge) = pkce();
        let url = authorize_url(
            &t,
            "openid offline_access",
            &challenge,
            &[("prompt", "none")],
        );
        let answer = get(&b.http, &url).await;
        let code = answer
            .as_ref()
            .and_then(|(_, back, _)| query_param(back.as_deref()?, "code"));
        let Some(code) = code else {
            wrong.push(format!(
                "session {i}: lost: prompt=none answered {answer:?}"
            ));
            continue;
        };
        let (s, v) = redeem(&http, &t, &code, &verifier).await;
        if s != 200 {
            wrong.push(format!("session {i}: its code does not redeem: {s} {v}"));
        }
    }
    kill(server);
    eprintln!(
        "power_loss: cut after {acknowledged} acknowledged ({} rotations, {} revocations, \
         {} sign-ins); {} syncs, {} writes seen; {} bytes undone, {} files removed, {} emptied",
        storm.rotations.load(Ordering::SeqCst),
        storm.revocations.load(Ordering::SeqCst),
        storm.sign_ins.load(Ordering::SeqCst),
        cut.syncs,
        cut.writes,
        cut.bytes_undone,
        cut.removed,
        cut.emptied,
    );
    wrong
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn power_cuts_during_a_refresh_storm_lose_nothing_acknowledged() {
    let seed = std::env::var("TOLLGATE_POWERCUT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("power_loss: seed {seed} (TOLLGATE_POWERCUT_SEED={seed} replays it)");
    let tools = tempfile::tempdir().unwrap();
    let shim = build_shim(tools.path());
    let mut rng = Rng(seed);
    for r in 0..ROUNDS {
        // Early cuts land among the first sign-in and chains, late ones deep in the storm.
        let cut_after = 1 + rng.below(150);
        let wrong = round(&shim, &mut rng, cut_after).await;
        assert!(
            wrong.is_empty(),
            "seed {seed}, round {r}: {} acknowledged facts lost in a power cut:\n{}",
            wrong.len(),
            wrong.join("\n")
        );
    }
}
