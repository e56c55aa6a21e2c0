//! DPoP (RFC 9449) at the edge: the `DPoP` header and the `Authorization` scheme read
//! once, `DPoP-Nonce` on answers (§8), and the `WWW-Authenticate: DPoP` challenge of a
//! protected resource (§7.1). The checks themselves are the engine's.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use tollgate_engine::oauth::dpop::{ALGS, Presented, Proof};
use tollgate_engine::{EngineError, OAuthErrorCode as C};

use crate::web::error::ProtocolError;

/// The header a proof comes in.
pub const DPOP: HeaderName = HeaderName::from_static("dpop");
/// The header a nonce goes out in.
pub const DPOP_NONCE: HeaderName = HeaderName::from_static("dpop-nonce");

fn invalid_proof(desc: &'static str) -> EngineError {
    EngineError::oauth(C::InvalidDpopProof, desc)
}

/// The request's DPoP proof, if it has one: exactly one `DPoP` header (§4.3).
pub fn proof(req: &HttpRequest) -> Result<Option<Proof>, EngineError> {
    let mut values = req.headers().get_all(DPOP);
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(invalid_proof("send exactly one DPoP header"));
    }
    let jwt = first
        .to_str()
        .map_err(|_| invalid_proof("the DPoP header is not a JWT"))?;
    Ok(Some(Proof {
        jwt: jwt.trim().to_owned(),
        method: req.method().as_str().to_owned(),
    }))
}

/// The access token of a request to a protected resource: `Authorization: Bearer` or
/// `DPoP` (schemes are case-insensitive, RFC 9110 §11.1), with the proof for the latter.
pub fn presented(req: &HttpRequest) -> Result<Presented, EngineError> {
    let missing = || {
        EngineError::oauth(
            C::InvalidToken,
            "an access token is required (Authorization: Bearer or DPoP)",
        )
    };
    let auth = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(missing)?;
    let (scheme, token) = auth.trim().split_once(' ').ok_or_else(missing)?;
    let token = token.trim();
    if token.is_empty() {
        return Err(missing());
    }
    if scheme.eq_ignore_ascii_case("bearer") {
        Ok(Presented::Bearer(token.to_owned()))
    } else if scheme.eq_ignore_ascii_case("dpop") {
        Ok(Presented::Dpop {
            token: token.to_owned(),
            proof: proof(req)?,
        })
    } else {
        Err(missing())
    }
}

/// Adds a fresh `DPoP-Nonce` (§8.2: a server may send one on any answer).
pub fn add_nonce(r: &mut HttpResponse, nonce: &str) {
    if let Ok(v) = HeaderValue::from_str(nonce) {
        r.headers_mut().insert(DPOP_NONCE, v);
    }
}

/// Whether an error is one of DPoP's own (§5, §8): their answer carries a nonce.
pub fn is_dpop_error(e: &EngineError) -> bool {
    matches!(e, EngineError::OAuth(o) if matches!(o.code, C::InvalidDpopProof | C::UseDpopNonce))
}

/// A protected resource's error answer (§7.1, §9): the JSON body of [`ProtocolError`];
/// the DPoP errors as 401; a `DPoP` challenge naming the algorithms, with the error when
/// the request used the DPoP scheme (a Bearer request keeps its Bearer challenge and is
/// told DPoP is accepted too).
pub fn resource_error(
    e: EngineError,
    dpop_scheme: bool,
    nonce: impl FnOnce() -> String,
) -> HttpResponse {
    let dpop_error = is_dpop_error(&e);
    let code = match &e {
        EngineError::OAuth(o) => Some((o.code.as_str(), o.description.to_string())),
        _ => None,
    };
    let mut r = ProtocolError(e).error_response();
    if dpop_error {
        *r.status_mut() = StatusCode::UNAUTHORIZED;
    }
    let algs = format!("algs=\"{}\"", ALGS.join(" "));
    let challenge = match code {
        Some((code, desc)) if dpop_scheme || dpop_error => format!(
            "DPoP error=\"{code}\", error_description=\"{}\", {algs}",
            desc.replace(['"', '\\'], "'")
        ),
        _ => format!("DPoP {algs}"),
    };
    if r.status() != StatusCode::UNAUTHORIZED {
    } else if let Ok(v) = HeaderValue::from_str(&challenge) {
        if dpop_scheme || dpop_error {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        } else {
            r.headers_mut().append(header::WWW_AUTHENTICATE, v);
        }
    }
    if dpop_scheme || dpop_error {
        add_nonce(&mut r, &nonce());
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn code(e: EngineError) -> &'static str {
        match e {
            EngineError::OAuth(o) => o.code.as_str(),
            other => panic!("not an OAuth error: {other:?}"),
        }
    }

    #[test]
    fn schemes_are_case_insensitive_and_a_dpop_scheme_brings_its_proof() {
        let req = TestRequest::get()
            .insert_header(("Authorization", "bearer abc"))
            .to_http_request();
        assert!(matches!(presented(&req), Ok(Presented::Bearer(t)) if t == "abc"));
        let req = TestRequest::post()
            .insert_header(("Authorization", "DPoP abc"))
            .insert_header(("DPoP", "a.b.c"))
            .to_http_request();
        match presented(&req) {
            Ok(Presented::Dpop {
                token,
                proof: Some(p),
            }) => {
                assert_eq!((token.as_str(), p.jwt.as_str()), ("abc", "a.b.c"));
                assert_eq!(p.method, "POST");
            }
            other => panic!("{other:?}"),
        }
        for auth in ["Basic abc", "DPoP ", "abc"] {
            let req = TestRequest::get()
                .insert_header(("Authorization", auth))
                .to_http_request();
            assert_eq!(
                code(presented(&req).unwrap_err()),
                "invalid_token",
                "{auth}"
            );
        }
    }

    #[test]
    fn two_proofs_are_refused() {
        let req = TestRequest::post()
            .append_header(("DPoP", "a.b.c"))
            .append_header(("DPoP", "d.e.f"))
            .to_http_request();
        assert_eq!(code(proof(&req).unwrap_err()), "invalid_dpop_proof");
    }

    #[test]
    fn a_resource_answers_dpop_errors_with_401_a_dpop_challenge_and_a_nonce() {
        let e = EngineError::oauth(C::UseDpopNonce, "a nonce is required");
        let r = resource_error(e, true, || "n0nce".into());
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let challenge = r.headers().get(header::WWW_AUTHENTICATE).unwrap();
        assert!(
            challenge
                .to_str()
                .unwrap()
                .starts_with("DPoP error=\"use_dpop_nonce\"")
        );
        assert_eq!(r.headers().get(DPOP_NONCE).unwrap(), "n0nce");
        // A Bearer request keeps its Bearer challenge, is told DPoP is accepted, and gets
        // no nonce.
        let e = EngineError::oauth(C::InvalidToken, "expired");
        let r = resource_error(e, false, || unreachable!("no nonce for a Bearer request"));
        let all: Vec<_> = r.headers().get_all(header::WWW_AUTHENTICATE).collect();
        assert!(all[0].to_str().unwrap().starts_with("Bearer error="));
        assert_eq!(all[1], "DPoP algs=\"ES256 EdDSA Ed25519 RS256\"");
        assert!(r.headers().get(DPOP_NONCE).is_none());
    }
}
