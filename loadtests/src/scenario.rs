//! What a single request of a scenario looks like.
//!
//! A scenario is one enum variant plus one arm in [`Scenario::path`] and
//! [`Scenario::request`]. Scenarios that need per-request state (login,
//! refresh) will grow their own arm in `request`.

use clap::ValueEnum;
use reqwest::{Client, RequestBuilder};

/// The server and tenant a run is aimed at.
#[derive(Debug, Clone)]
pub struct Target {
    /// Base URL without a trailing slash, e.g. `http://127.0.0.1:8080`.
    pub base_url: String,
    /// Tenant slug, the first path segment of every tenant route.
    pub tenant: String,
}

impl Target {
    pub fn new(base_url: &str, tenant: &str) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            tenant: tenant.trim_matches('/').to_owned(),
        }
    }
}

/// The kinds of traffic the generator can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// `GET {base}/{tenant}/jwks.json`
    Jwks,
    /// `GET {base}/{tenant}/.well-known/openid-configuration`
    Discovery,
}

impl Scenario {
    /// Lower-case name as accepted on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Jwks => "jwks",
            Scenario::Discovery => "discovery",
        }
    }

    /// Path below the tenant prefix that this scenario hits.
    fn path(self) -> &'static str {
        match self {
            Scenario::Jwks => "jwks.json",
            Scenario::Discovery => ".well-known/openid-configuration",
        }
    }

    /// Full URL of the endpoint for `target`.
    pub fn url(self, target: &Target) -> String {
        format!("{}/{}/{}", target.base_url, target.tenant, self.path())
    }

    /// Build one request of this scenario against `url` (from [`Scenario::url`]).
    pub fn request(self, client: &Client, url: &str) -> RequestBuilder {
        match self {
            Scenario::Jwks | Scenario::Discovery => client.get(url),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_follow_tenant_routes() {
        let t = Target::new("http://127.0.0.1:8080/", "demo");
        assert_eq!(
            Scenario::Jwks.url(&t),
            "http://127.0.0.1:8080/demo/jwks.json"
        );
        assert_eq!(
            Scenario::Discovery.url(&t),
            "http://127.0.0.1:8080/demo/.well-known/openid-configuration"
        );
    }
}
