//! Children's accounts (DPDP Act s. 9): the sign-up page's age fields and the page a
//! child's pending account shows.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use tollgate_engine::EngineError;
use tollgate_engine::account::children::CHILD_PENDING;
use tollgate_engine::model::Tenant;
use tollgate_engine::model::children::ChildrenPolicy;

use crate::web::view::{Value, View, context};

/// The sign-up page's age fields where the tenant asks (none where its policy is off):
/// the date of birth, and a parent's address where children may sign up with a parent's
/// consent.
pub fn age_fields(tenant: &Tenant, birthdate: &str, parent_email: &str) -> Value {
    match tenant.children.policy {
        ChildrenPolicy::Off => Value::from(()),
        p => context! {
            birthdate,
            parent_email,
            parental => p == ChildrenPolicy::ParentalConsent,
            age => tenant.children.age_of_majority,
        },
    }
}

/// Whether an engine error is a child's sign-up (or sign-in) stopped to wait for a
/// parent.
pub fn is_pending(e: &EngineError) -> bool {
    matches!(e, EngineError::Invalid(m) if m == CHILD_PENDING)
}

/// The page a child sees once their account waits for a parent (and at each sign-in
/// until a parent consents).
pub fn pending_page(v: &View) -> HttpResponse {
    let body = v.render("children_pending.html", context! {});
    v.page(StatusCode::ACCEPTED, "child-pending-title", body)
}
