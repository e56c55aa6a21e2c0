//! The WhatsApp Cloud API sender: one `POST {graph}/{version}/{phone-number-id}/messages`
//! per code, with the tenant's bearer token and an `authentication` template (the
//! request shape is [`tollgate_engine::model::messaging::template_message`], where the
//! references are cited). The answer's `messages[0].id` (a `wamid`) is what delivery
//! status webhooks name later.
//!
//! Neither the request nor Meta's answer is logged: both hold the code. An error is
//! reported by HTTP status and Meta's numeric error code only.

use serde_json::Value;
use tollgate_engine::model::messaging::template_message;
use tollgate_engine::runtime::delivery::{
    CloudRoute, DeliveryError, RouteError, Sent, TextMessage,
};

/// Sends one code through a Cloud API number.
pub async fn send(
    client: &reqwest::Client,
    route: &CloudRoute,
    msg: &TextMessage,
) -> Result<Sent, RouteError> {
    let body = template_message(&route.template, &route.language, msg.to.digits(), &msg.code);
    let failed = |why: String| RouteError::Failed(DeliveryError(why));
    let resp = client
        .post(&route.messages_url)
        .bearer_auth(&route.access_token)
        .json(&body)
        .send()
        .await
        .map_err(|e| failed(format!("WhatsApp unreachable: {}", e.without_url())))?;
    let status = resp.status();
    // Bounded: an answer is a few hundred bytes; a larger one is not Meta's.
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| failed(format!("WhatsApp answer unreadable: {}", e.without_url())))?;
    let answer: Value = if bytes.len() <= 64 * 1024 {
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    } else {
        Value::Null
    };
    if !status.is_success() {
        let code = answer
            .pointer("/error/code")
            .and_then(Value::as_i64)
            .map(|c| format!(" (error {c})"))
            .unwrap_or_default();
        return Err(failed(format!("WhatsApp answered {status}{code}")));
    }
    let id = answer
        .pointer("/messages/0/id")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty() && id.len() <= 256)
        .map(str::to_owned);
    if id.is_none() {
        // Accepted: sending it again by SMS would deliver the code twice. Without an id
        // its delivery status cannot be followed.
        tracing::warn!("WhatsApp accepted a message without an id; its status is not followed");
    }
    Ok(Sent { message_id: id })
}
