//! Limits that hold across gateway nodes (issue 13, finding 11): two engines on one store.
//! Sends to one address are counted in the store, so two nodes together cannot send it
//! more than one node may; wrong guesses are counted per account across its codes, so a
//! fresh code does not buy fresh guesses, whichever node is asked.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use tollgate_engine::clock::ManualClock;
use tollgate_engine::crypto::MasterKey;
use tollgate_engine::ids::TenantId;
use tollgate_engine::model::SigningAlg;
use tollgate_engine::runtime::delivery::{DeliveryError, Mail, Mailer, Unconfigured};
use tollgate_engine::runtime::sends::Limit;
use tollgate_engine::signin::otp::{OTP_TRIES, WRONG_GUESSES};
use tollgate_engine::store::Store;
use tollgate_engine::{Engine, EngineConfig, EngineError, EngineMetrics, RequestMeta};
use tollgate_store_embedded::{EmbeddedOptions, EmbeddedStore};

/// Keeps every mail: the codes the tests type.
#[derive(Default)]
struct Inbox {
    mails: std::sync::Mutex<Vec<Mail>>,
    sent: AtomicUsize,
}

#[async_trait]
impl Mailer for Inbox {
    async fn send(&self, mail: &Mail) -> Result<(), DeliveryError> {
        self.mails.lock().unwrap().push(mail.clone());
        self.sent.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

fn node(store: Arc<dyn Store>, clock: &ManualClock, inbox: &Arc<Inbox>) -> Engine {
    let mut config = EngineConfig::new("https://id.example.com");
    config.shards.shared = true;
    config.otp.email_limits.recipient = Limit {
        max: 3,
        window_secs: 3600,
    };
    let e = Engine::start(
        store,
        Arc::new(clock.clone()),
        MasterKey::from_bytes([5; 32]),
        config,
        EngineMetrics::register(&prometheus::Registry::new()),
    )
    .unwrap();
    e.set_delivery(inbox.clone(), Arc::new(Unconfigured("sms")));
    e
}

async fn two_nodes() -> (Engine, Engine, TenantId, Arc<Inbox>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(EmbeddedStore::open(dir.path(), EmbeddedOptions::default(), None).unwrap());
    let clock = ManualClock::new(1_800_000_000);
    let inbox = Arc::new(Inbox::default());
    let (a, b) = (
        node(store.clone(), &clock, &inbox),
        node(store, &clock, &inbox),
    );
    a.admin()
        .create_tenant("limits", "Limits", SigningAlg::ES256)
        .await
        .unwrap();
    let t = TenantId::parse("limits").unwrap();
    a.admin()
        .create_user(&t, "u@limits.example", "limits password 1", None, true)
        .await
        .unwrap();
    (a, b, t, inbox, dir)
}

/// Waits (bounded) until the courier has handed over `n` mails in all.
async fn delivered(inbox: &Inbox, n: usize) -> Mail {
    for _ in 0..500 {
        if inbox.sent.load(Ordering::SeqCst) >= n {
            return inbox.mails.lock().unwrap()[n - 1].clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("mail {n} never sent");
}

fn code_in(mail: &Mail) -> String {
    mail.text
        .split_whitespace()
        .find(|w| w.len() == 6 && w.bytes().all(|b| b.is_ascii_digit()))
        .expect("a code")
        .to_owned()
}

#[test]
fn sends_to_one_address_are_counted_across_nodes() {
    actix::System::new().block_on(async {
        let (a, b, t, _inbox, _dir) = two_nodes().await;
        let meta = RequestMeta::default();
        let reset = |e: &Engine| {
            let (e, t, meta) = (e.clone(), t.clone(), meta.clone());
            async move {
                e.signin()
                    .password_reset_start(&t, "u@limits.example", None, None, &meta)
                    .await
            }
        };
        // Three in all, on whichever node: each node alone would allow three.
        reset(&a).await.unwrap();
        reset(&b).await.unwrap();
        reset(&a).await.unwrap();
        for e in [&b, &a] {
            let refused = reset(e).await;
            assert!(
                matches!(refused, Err(EngineError::RateLimited { retry_after_secs }) if retry_after_secs > 0),
                "{refused:?}"
            );
        }
    });
}

#[test]
fn a_fresh_code_does_not_buy_fresh_guesses() {
    actix::System::new().block_on(async {
        let (a, b, t, inbox, _dir) = two_nodes().await;
        let meta = RequestMeta::default();
        let guess = |e: &Engine, handle: String, code: &str| {
            let (e, t, meta, code) = (e.clone(), t.clone(), meta.clone(), code.to_owned());
            async move {
                e.signin()
                    .password_reset_code(&t, &handle, &code, "a brand new passphrase", &meta)
                    .await
            }
        };
        let mut wrong = 0;
        let mut sent = 0;
        // Codes one after another, each guessed wrong until it dies, on alternate nodes.
        while wrong < WRONG_GUESSES {
            let e = if sent % 2 == 0 { &a } else { &b };
            let started = e
                .signin()
                .password_reset_start(&t, "u@limits.example", None, None, &meta)
                .await
                .unwrap();
            sent += 1;
            let right = code_in(&delivered(&inbox, sent).await);
            let not_it = format!("{:06}", (right.parse::<u32>().unwrap() + 1) % 1_000_000);
            for _ in 0..OTP_TRIES {
                let r = guess(e, started.handle.clone(), &not_it).await;
                assert!(matches!(r, Err(EngineError::Invalid(_))), "{r:?}");
                wrong += 1;
                if wrong == WRONG_GUESSES {
                    break;
                }
            }
        }
        assert_eq!(sent, 2, "two codes of five tries hold the allowance of ten");
        // The allowance is spent: even the right code of a brand-new one is refused.
        let started = b
            .signin()
            .password_reset_start(&t, "u@limits.example", None, None, &meta)
            .await
            .unwrap();
        sent += 1;
        let right = code_in(&delivered(&inbox, sent).await);
        let r = guess(&a, started.handle.clone(), &right).await;
        assert!(
            matches!(&r, Err(EngineError::Invalid(m)) if m.contains("expired or was already used")),
            "{r:?}"
        );
    });
}
