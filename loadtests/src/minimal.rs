//! `tollgate-load minimal-server`: the fastest server this stack can be,
//! for calibration. An actix-web server with one worker that answers every
//! GET with the same ~1.5 KB JSON body (shaped like a JWKS) and does
//! nothing else. Measure it with `run --scenario raw --url ...` under the
//! same pinning as Tollgate: the gap between the two is what Tollgate's own
//! work costs, and its rate is a ceiling for Tollgate's cheapest endpoints.

use std::net::SocketAddr;

use actix_web::http::Method;
use actix_web::web::{self, Bytes};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer};
use clap::Args;

#[derive(Args)]
pub struct MinimalArgs {
    /// Address to listen on (loopback).
    #[arg(long, default_value = "127.0.0.1:18400")]
    listen: SocketAddr,
    /// Size of the response body in bytes (approximately).
    #[arg(long, default_value_t = 1536)]
    body_bytes: usize,
}

/// A JWKS-like JSON document of at least `len` bytes: RSA public keys with
/// made-up (deterministic) moduli.
pub fn fake_jwks(len: usize) -> String {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut keys = Vec::new();
    let mut doc = String::new();
    let mut i = 0usize;
    while doc.len() < len {
        // 342 characters: the base64url of a 2048-bit modulus.
        let n: String = (0..342)
            .map(|j| B64[(j * 7 + i * 13) % B64.len()] as char)
            .collect();
        keys.push(format!(
            r#"{{"kty":"RSA","use":"sig","alg":"RS256","kid":"k{i}","n":"{n}","e":"AQAB"}}"#
        ));
        doc = format!(r#"{{"keys":[{}]}}"#, keys.join(","));
        i += 1;
    }
    doc
}

pub fn serve(args: &MinimalArgs) -> std::io::Result<()> {
    let body = Bytes::from(fake_jwks(args.body_bytes));
    let size = body.len();
    actix_web::rt::System::new().block_on(async move {
        let server = HttpServer::new(move || {
            let body = body.clone();
            App::new().default_service(web::to(move |req: HttpRequest| {
                let body = body.clone();
                async move {
                    if req.method() == Method::GET {
                        HttpResponse::Ok()
                            .content_type("application/json")
                            .body(body)
                    } else {
                        HttpResponse::MethodNotAllowed().finish()
                    }
                }
            }))
        })
        .workers(1)
        .shutdown_timeout(1)
        .bind(args.listen)?;
        for addr in server.addrs() {
            println!("LISTEN={addr}");
        }
        eprintln!("minimal-server: one worker, every GET answers {size} bytes; Ctrl-C stops");
        server.run().await
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_is_jwks_shaped_json_of_the_asked_size() {
        let doc = fake_jwks(1536);
        assert!((1536..2400).contains(&doc.len()), "{}", doc.len());
        let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
        let keys = v["keys"].as_array().unwrap();
        assert!(keys.len() >= 2);
        assert_eq!(keys[0]["n"].as_str().unwrap().len(), 342);
        assert_eq!(fake_jwks(1536), doc, "deterministic");
    }
}
