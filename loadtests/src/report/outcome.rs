//! What happened to one scheduled request: the [`Status`] a request
//! produces and the [`Outcome`] the runner files for it.
//!
//! This is the vocabulary the request code (`scenario`, `oauth`, `seed`)
//! speaks, so it sits at the bottom of `report` and names nothing else.

use std::time::Duration;

/// Why a request produced no usable HTTP response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Could not connect (refused, DNS, TLS handshake, ...).
    Connect,
    /// Not finished within the timeout, counted from the scheduled time.
    Timeout,
    /// A response arrived but was not what the flow needs (no `Location`,
    /// no code in the redirect, no token in the body, ...). Says what.
    Protocol(&'static str),
    /// Anything else (connection reset mid-body, protocol error, ...).
    Other,
}

/// Why a scheduled request was never sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// `--max-in-flight` requests were outstanding.
    MaxInFlight,
    /// A refresh came due while every seeded chain had a request in flight.
    NoFreeChain,
}

/// What happened to one scheduled request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// A complete HTTP response with this status code (not 503 or 429).
    Http(u16),
    /// The server shed load: 503 or 429, and whether it sent `Retry-After`.
    Overloaded { code: u16, retry_after: bool },
    /// A transport-level or protocol failure.
    Error(ErrorKind),
    /// Never started.
    Dropped(DropReason),
}

impl Status {
    /// Classify a response status: 503 and 429 are overload answers.
    pub fn from_response(code: u16, retry_after: bool) -> Self {
        match code {
            429 | 503 => Status::Overloaded { code, retry_after },
            _ => Status::Http(code),
        }
    }

    /// A 2xx response.
    pub fn is_success(self) -> bool {
        matches!(self, Status::Http(code) if (200..300).contains(&code))
    }
}

/// One scheduled request, with times measured from the start of the run.
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    /// When the request was due to start (its open-loop arrival time).
    pub scheduled: Duration,
    /// When the response (or error) was fully received.
    pub finished: Duration,
    pub status: Status,
    /// Name of the request kind (`jwks`, `login`, ...).
    pub kind: &'static str,
    /// Index of the run phase the request was scheduled in.
    pub phase: usize,
}

impl Outcome {
    /// Latency counted from the scheduled time, so queueing delay caused by
    /// an overloaded server or client is included (no coordinated omission).
    pub fn latency(&self) -> Duration {
        self.finished.saturating_sub(self.scheduled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OVERLOADED: Status = Status::Overloaded {
        code: 503,
        retry_after: true,
    };

    #[test]
    fn classifies_statuses() {
        assert_eq!(Status::from_response(200, false), Status::Http(200));
        assert_eq!(Status::from_response(503, true), OVERLOADED);
        assert_eq!(
            Status::from_response(429, false),
            Status::Overloaded {
                code: 429,
                retry_after: false
            }
        );
        assert_eq!(Status::from_response(500, true), Status::Http(500));
        assert!(Status::Http(204).is_success());
        assert!(!Status::Http(400).is_success());
        assert!(!OVERLOADED.is_success());
    }
}
