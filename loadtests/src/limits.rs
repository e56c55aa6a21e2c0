//! `tollgate-load limits`: what one core can do at most for the expensive
//! steps of Tollgate's flows, measured on the current thread (pin it with
//! `taskset -c N`): RS256 and ES256 signatures with aws-lc-rs (keys parsed
//! once, a JWT-sized signing input) and argon2id password verifications.
//!
//! These bound the server: a sign-in costs one argon2id verification and
//! a few signatures, a refresh one or two signatures.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, RSA_PKCS1_SHA256};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clap::Args;
use serde::Serialize;

use crate::seed::argon2id_hash;
use crate::vocab::positive_f64;

type Error = Box<dyn std::error::Error>;

#[derive(Args)]
pub struct LimitsArgs {
    /// Seconds to spend on each measurement.
    #[arg(long, default_value_t = 5.0, value_parser = positive_f64)]
    seconds: f64,
    /// argon2id memory cost in KiB.
    #[arg(long, default_value_t = 19_456)]
    m: u32,
    /// argon2id iterations.
    #[arg(long, default_value_t = 2)]
    t: u32,
    /// argon2id parallelism (lanes).
    #[arg(long, default_value_t = 1)]
    p: u32,
    /// Also write the results as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// One measured operation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measurement {
    pub operation: String,
    pub ops: u64,
    pub seconds: f64,
    pub per_second: f64,
    pub us_per_op: f64,
}

/// Run `op` (once to warm up, then) repeatedly for at least `budget`.
pub fn measure(operation: &str, budget: Duration, mut op: impl FnMut()) -> Measurement {
    op();
    let start = Instant::now();
    let mut ops = 0u64;
    while start.elapsed() < budget {
        op();
        ops += 1;
    }
    let seconds = start.elapsed().as_secs_f64();
    Measurement {
        operation: operation.to_owned(),
        ops,
        seconds,
        per_second: ops as f64 / seconds,
        us_per_op: seconds * 1e6 / ops.max(1) as f64,
    }
}

/// A JWT signing input (`header.payload`, base64url) of about `len` bytes,
/// shaped like an ID token's.
pub fn jwt_signing_input(len: usize) -> String {
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","typ":"JWT","kid":"k-2024-01-01"}"#);
    let mut claims = String::from(
        r#"{"iss":"http://127.0.0.1:8080/t1","sub":"0f7c2a4e-6b1d-4c55-9a3e-2d8b7f1e9c40","aud":"load","exp":1767225600,"iat":1767222000,"auth_time":1767222000,"nonce":""#,
    );
    // Grow the nonce until the encoded input reaches `len`.
    while header.len() + 1 + (claims.len() + 2) * 4 / 3 < len {
        claims.push('n');
    }
    claims.push_str("\"}");
    format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims))
}

/// Format results as an aligned table.
pub fn table(results: &[Measurement]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<40} {:>9} {:>7} {:>11} {:>10}",
        "operation (one thread)", "ops", "secs", "ops/s", "us/op"
    );
    for m in results {
        let _ = writeln!(
            s,
            "{:<40} {:>9} {:>7.2} {:>11.1} {:>10.1}",
            m.operation, m.ops, m.seconds, m.per_second, m.us_per_op
        );
    }
    s
}

/// One line on stderr for the latest measurement.
fn progress(results: &[Measurement]) {
    if let Some(m) = results.last() {
        eprintln!("  {}: {:.1}/s", m.operation, m.per_second);
    }
}

pub fn limits(args: &LimitsArgs) -> Result<(), Error> {
    let budget = Duration::from_secs_f64(args.seconds);
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    eprintln!(
        "tollgate-load limits: {} s per operation on this thread ({cores} CPU(s) allowed; \
         pin with taskset -c N)",
        args.seconds
    );
    let rng = SystemRandom::new();
    let msg = jwt_signing_input(300);
    let mut results = Vec::new();

    let rsa = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| "RSA key generation failed")?;
    let mut sig = vec![0u8; rsa.public_modulus_len()];
    results.push(measure("RS256 sign (aws-lc-rs, RSA-2048)", budget, || {
        rsa.sign(&RSA_PKCS1_SHA256, &rng, msg.as_bytes(), &mut sig)
            .expect("RSA signing works");
    }));
    progress(&results);

    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .map_err(|_| "EC key generation failed")?;
    let ec = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
        .map_err(|_| "EC key parsing failed")?;
    results.push(measure("ES256 sign (aws-lc-rs, P-256)", budget, || {
        ec.sign(&rng, msg.as_bytes()).expect("ECDSA signing works");
    }));
    progress(&results);

    let password = "load-test-password";
    let hash = argon2id_hash(password, args.m, args.t, args.p)?;
    let name = format!("argon2id verify (m={},t={},p={})", args.m, args.t, args.p);
    // The server's own verifier: parses the stored hash and reuses its working memory.
    let mut verifier = tollgate_engine::runtime::password::Verifier::default();
    results.push(measure(&name, budget, || {
        assert!(
            verifier.verify(password.as_bytes(), &hash),
            "the password matches"
        );
    }));

    println!("{}", table(&results));
    if let Some(path) = &args.json {
        let json = serde_json::json!({
            "seconds_per_operation": args.seconds,
            "cpus_allowed": cores,
            "argon2id": {"m": args.m, "t": args.t, "p": args.p},
            "signing_input_bytes": msg.len(),
            "results": results,
        });
        std::fs::write(path, serde_json::to_string_pretty(&json)? + "\n")
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
        println!("json       {}", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_input_is_jwt_shaped_and_sized() {
        let s = jwt_signing_input(300);
        assert!((295..=310).contains(&s.len()), "{}", s.len());
        let (h, p) = s.split_once('.').unwrap();
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap();
        assert_eq!(claims["aud"], "load");
        assert!(URL_SAFE_NO_PAD.decode(h).is_ok());
    }

    #[test]
    fn measures_and_tabulates() {
        let mut n = 0u64;
        let m = measure("count", Duration::from_millis(20), || n += 1);
        assert_eq!(n, m.ops + 1, "one warm-up call");
        assert!(m.seconds >= 0.02 && m.per_second > 0.0);
        let t = table(&[m]);
        assert!(t.lines().nth(1).unwrap().starts_with("count "), "{t}");
    }
}
