//! JSON encoding of Tollgate's own records. Their `Serialize` is derived, with string
//! keys only, so encoding cannot fail; these say so once instead of at every call.

use serde::Serialize;

/// Encodes one of Tollgate's own records.
#[allow(
    clippy::expect_used,
    reason = "derived Serialize with string keys cannot fail"
)]
pub fn to_vec<T: Serialize + ?Sized>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("derived Serialize with string keys")
}

/// Encodes one of Tollgate's own records as a JSON value.
#[allow(
    clippy::expect_used,
    reason = "derived Serialize with string keys cannot fail"
)]
pub fn to_value<T: Serialize + ?Sized>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).expect("derived Serialize with string keys")
}
