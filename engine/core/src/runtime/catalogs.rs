//! The words of what the engine sends (mails, SMS and WhatsApp texts): each tenant's
//! message catalogue, the shipped one with the tenant's own messages on top, built once
//! per branding revision on this node; and the language a recipient is written to in.

use moka::sync::Cache;
use std::sync::Arc;
use tollgate_i18n::{Catalog, FALLBACK};

use crate::ids::TenantId;
use crate::model::Tenant;

/// A tenant's catalogue as built from one revision of its branding.
struct Built {
    revision: u64,
    catalog: Arc<Catalog>,
}

/// Tenants' catalogues, built on first use and again only when the branding changes
/// (its `revision`): parsing Fluent per mail would cost more than sending it.
pub(crate) struct Catalogs {
    built: Cache<TenantId, Arc<Built>>,
}

impl Catalogs {
    pub(crate) fn new() -> Self {
        Self {
            built: Cache::new(10_000),
        }
    }

    /// The catalogue of `t`: the shipped one for a tenant that changed no message.
    /// Messages are checked before they are stored, so building fails only if the rules
    /// tightened since: the tenant then writes with the shipped words (and the log says
    /// so) rather than sends nothing.
    pub(crate) fn of(&self, t: &Tenant) -> Arc<Catalog> {
        let b = &t.branding;
        if b.messages.is_empty() && b.default_language.is_none() {
            return Catalog::shipped();
        }
        if let Some(built) = self.built.get(&t.id)
            && built.revision == b.revision
        {
            return built.catalog.clone();
        }
        let default = b.default_language.as_deref().unwrap_or(FALLBACK);
        let catalog = match Catalog::with_overrides(&b.messages, default) {
            Ok(c) => Arc::new(c),
            Err(e) => {
                tracing::warn!(tenant = %t.id, error = %e, "stored messages do not build; shipped ones used");
                Catalog::shipped()
            }
        };
        self.built.insert(
            t.id.clone(),
            Arc::new(Built {
                revision: b.revision,
                catalog: catalog.clone(),
            }),
        );
        catalog
    }
}

/// The language to write to someone in: the language they saved (their `locale`
/// profile field), else the language of the page they asked from, else the tenant's
/// default; each only if the catalogue has it (or a form of it: `hi-IN` is written in `hi`).
pub fn recipient_language<'c>(
    catalog: &'c Catalog,
    saved: Option<&str>,
    page: Option<&str>,
) -> &'c str {
    tollgate_i18n::negotiate::best(saved.into_iter().chain(page), catalog.languages())
        .unwrap_or_else(|| catalog.default_language())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn saved_then_page_then_the_tenant_default() {
        let shipped = Catalog::shipped();
        assert_eq!(recipient_language(&shipped, Some("hi"), Some("en")), "hi");
        assert_eq!(recipient_language(&shipped, None, Some("hi")), "hi");
        assert_eq!(recipient_language(&shipped, Some("hi-IN"), None), "hi");
        // A saved language the tenant has no words for gives way to the page's.
        assert_eq!(recipient_language(&shipped, Some("ta"), Some("hi")), "hi");
        assert_eq!(recipient_language(&shipped, Some("ta"), Some("fr")), "en");
        assert_eq!(recipient_language(&shipped, None, None), "en");
        let mut o = BTreeMap::new();
        o.insert("ta".to_owned(), "sms-code = { $code } தமிழ்\n".to_owned());
        let tamil_first = Catalog::with_overrides(&o, "ta").unwrap();
        assert_eq!(recipient_language(&tamil_first, None, Some("fr")), "ta");
        assert_eq!(
            recipient_language(&tamil_first, Some("ta"), Some("en")),
            "ta"
        );
    }

    #[test]
    fn a_catalogue_is_built_once_per_revision() {
        let cache = Catalogs::new();
        let mut t = Tenant::new(TenantId::parse("shop").unwrap(), "Shop".into(), 0);
        assert!(Arc::ptr_eq(&cache.of(&t), &Catalog::shipped()));
        t.branding.revision = 1;
        t.branding
            .messages
            .insert("en".into(), "sms-code = { $code } for the shop\n".into());
        let first = cache.of(&t);
        assert!(
            Arc::ptr_eq(&first, &cache.of(&t)),
            "rebuilt without a change"
        );
        let code = |c: &Catalog| c.messages("en").get("sms-code", &[("code", "1".into())]);
        assert_eq!(code(&first), "1 for the shop");
        t.branding.revision = 2;
        t.branding
            .messages
            .insert("en".into(), "sms-code = { $code } from the shop\n".into());
        assert_eq!(code(&cache.of(&t)), "1 from the shop");
        // A catalogue that no longer builds (here: a default language without one)
        // falls back to the shipped words.
        t.branding.revision = 3;
        t.branding.default_language = Some("ta".into());
        assert!(Arc::ptr_eq(&cache.of(&t), &Catalog::shipped()));
    }
}
