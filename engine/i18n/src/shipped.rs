//! The catalogues shipped in the binary: per language, one Fluent file per part of the
//! product. English is complete by definition; the tests hold Hindi to the same set.

/// `(language, Fluent source)`, in load order.
pub const SOURCES: &[(&str, &str)] = &[
    ("en", include_str!("../locales/en/common.ftl")),
    ("en", include_str!("../locales/en/hosted.ftl")),
    ("en", include_str!("../locales/en/otp.ftl")),
    ("en", include_str!("../locales/en/mfa.ftl")),
    ("en", include_str!("../locales/en/passkeys.ftl")),
    ("en", include_str!("../locales/en/portal.ftl")),
    ("en", include_str!("../locales/en/demo.ftl")),
    ("en", include_str!("../locales/en/mail.ftl")),
    ("en", include_str!("../locales/en/device.ftl")),
    ("en", include_str!("../locales/en/federation.ftl")),
    ("en", include_str!("../locales/en/errors.ftl")),
    ("en", include_str!("../locales/en/verify.ftl")),
    ("en", include_str!("../locales/en/grievance.ftl")),
    ("en", include_str!("../locales/en/notice.ftl")),
    ("hi", include_str!("../locales/hi/common.ftl")),
    ("hi", include_str!("../locales/hi/hosted.ftl")),
    ("hi", include_str!("../locales/hi/otp.ftl")),
    ("hi", include_str!("../locales/hi/mfa.ftl")),
    ("hi", include_str!("../locales/hi/passkeys.ftl")),
    ("hi", include_str!("../locales/hi/portal.ftl")),
    ("hi", include_str!("../locales/hi/demo.ftl")),
    ("hi", include_str!("../locales/hi/mail.ftl")),
    ("hi", include_str!("../locales/hi/device.ftl")),
    ("hi", include_str!("../locales/hi/federation.ftl")),
    ("hi", include_str!("../locales/hi/errors.ftl")),
    ("hi", include_str!("../locales/hi/verify.ftl")),
    ("hi", include_str!("../locales/hi/grievance.ftl")),
    ("hi", include_str!("../locales/hi/notice.ftl")),
];
