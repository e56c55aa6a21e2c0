//! A small fuzzing harness for Tollgate's tests. It runs as an ordinary `#[test]` on the
//! stable toolchain: no sanitizers, no coverage feedback, no nightly. A target is a
//! closure over bytes; the harness feeds it
//!
//! 1. every seed of its checked-in corpus (`<crate>/tests/corpus/<target>/`), as is;
//! 2. then, until its time budget is spent, seeds changed by structure-unaware mutations
//!    (bit flips, byte inserts and deletes, splices between seeds, edge numbers,
//!    dictionary words, repeated parameters), and token soups that the `arbitrary` crate
//!    builds from random bytes ([`mutate`]).
//!
//! A panic in the target (a crash, or a failed property assertion) fails the test: the
//! input is written to a file under the system temp dir and the message says how to
//! replay it. Everything random comes from one printed seed.
//!
//! | variable | effect |
//! |---|---|
//! | `TOLLGATE_FUZZ_SECS` | time budget per target in seconds (default 2; `0` runs the seeds only) |
//! | `TOLLGATE_FUZZ_SEED` | the seed (decimal or `0x…`); without it, a fresh one is drawn and printed |
//! | `TOLLGATE_FUZZ_INPUT` | run only this file (a saved failing input) through the target |

// The harness reports a target's panics; its own code must not add any.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

pub mod mutate;

pub use arbitrary::{self, Arbitrary, Unstructured};
use mutate::Generator;
pub use mutate::Origin;

/// Default time budget per target.
pub const DEFAULT_SECS: f64 = 2.0;

/// Longest input made, unless a target says otherwise.
pub const DEFAULT_MAX_LEN: usize = 4096;

/// How long to fuzz, from where, and whether to replay one input.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Time spent on mutated and generated inputs after the seeds.
    pub budget: Duration,
    /// The seed of every random choice.
    pub seed: u64,
    /// Run only this input.
    pub replay: Option<PathBuf>,
}

impl Settings {
    /// From `TOLLGATE_FUZZ_SECS`, `TOLLGATE_FUZZ_SEED` and `TOLLGATE_FUZZ_INPUT`.
    pub fn from_env() -> Self {
        let budget = std::env::var("TOLLGATE_FUZZ_SECS")
            .ok()
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .unwrap_or(DEFAULT_SECS);
        let seed = std::env::var("TOLLGATE_FUZZ_SEED")
            .ok()
            .and_then(|v| parse_seed(&v))
            .unwrap_or_else(fresh_seed);
        Self {
            budget: Duration::from_secs_f64(budget),
            seed,
            replay: std::env::var_os("TOLLGATE_FUZZ_INPUT").map(PathBuf::from),
        }
    }
}

fn parse_seed(v: &str) -> Option<u64> {
    let v = v.trim();
    match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => v.parse().ok(),
    }
}

/// A seed no other run is likely to have drawn: the clock, the process and a counter,
/// mixed.
fn fresh_seed() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut rng = mutate::SplitMix64::new(
        nanos ^ (u64::from(std::process::id()) << 32) ^ COUNTER.fetch_add(1, Ordering::Relaxed),
    );
    rng.next_u64()
}

/// FNV-1a, to give each target its own stream from the one printed seed.
fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// What a run did.
#[derive(Clone, Debug)]
pub struct Stats {
    /// Seeds run.
    pub seeds: usize,
    /// Inputs run in all, seeds included.
    pub runs: u64,
    /// The seed of the run.
    pub seed: u64,
}

/// One fuzz target.
pub struct Fuzz {
    name: String,
    corpus: PathBuf,
    dictionary: Vec<Vec<u8>>,
    max_len: usize,
    settings: Settings,
}

impl Fuzz {
    /// The target `name` of the crate at `manifest_dir` (pass `env!("CARGO_MANIFEST_DIR")`),
    /// its corpus in `tests/corpus/<name>/`, settings from the environment.
    pub fn new(manifest_dir: &str, name: &str) -> Self {
        Self::with_settings(
            name,
            Path::new(manifest_dir).join("tests/corpus").join(name),
            Settings::from_env(),
        )
    }

    /// A target with its corpus directory and settings given.
    pub fn with_settings(name: &str, corpus: impl Into<PathBuf>, settings: Settings) -> Self {
        Self {
            name: name.to_owned(),
            corpus: corpus.into(),
            dictionary: Vec::new(),
            max_len: DEFAULT_MAX_LEN,
            settings,
        }
    }

    /// Words of the target's format (parameter names, JSON keys, placeholders) that
    /// mutations insert and generated inputs are made of.
    pub fn dictionary<W: AsRef<[u8]>>(mut self, words: impl IntoIterator<Item = W>) -> Self {
        self.dictionary
            .extend(words.into_iter().map(|w| w.as_ref().to_vec()));
        self
    }

    /// The longest input to make.
    pub fn max_len(mut self, n: usize) -> Self {
        self.max_len = n;
        self
    }

    /// Runs `target` over the seeds and then over new inputs until the budget is spent.
    /// Panics (failing the test) on the first input that panics the target.
    pub fn run(self, mut target: impl FnMut(&[u8])) -> Stats {
        let mut runner = self.start();
        while let Some((input, origin)) = runner.next() {
            let outcome = catch_unwind(AssertUnwindSafe(|| target(&input)));
            runner.check(outcome, &input, &origin);
        }
        runner.finish()
    }

    /// [`Fuzz::run`] for targets that must await (an engine, an HTTP server). A panic
    /// while the target's future is polled fails the run the same way.
    pub async fn run_async<F, Fut>(self, mut target: F) -> Stats
    where
        F: FnMut(Vec<u8>) -> Fut,
        Fut: Future<Output = ()>,
    {
        let mut runner = self.start();
        while let Some((input, origin)) = runner.next() {
            let outcome = CatchUnwind(Box::pin(target(input.clone()))).await;
            runner.check(outcome, &input, &origin);
        }
        runner.finish()
    }

    fn start(self) -> Runner {
        let seeds = match &self.settings.replay {
            Some(path) => {
                let data = std::fs::read(path).unwrap_or_else(|e| {
                    panic!("TOLLGATE_FUZZ_INPUT={}: cannot read: {e}", path.display())
                });
                vec![(path.display().to_string(), data)]
            }
            None => load_corpus(&self.corpus),
        };
        let seed = self.settings.seed;
        eprintln!(
            "fuzz {}: {} seeds, {:.1}s, seed {seed} (replay with TOLLGATE_FUZZ_SEED={seed})",
            self.name,
            seeds.len(),
            self.settings.budget.as_secs_f64()
        );
        let replay = self.settings.replay.is_some();
        let generator = Generator::new(
            seed ^ name_hash(&self.name),
            seeds.clone(),
            self.dictionary,
            self.max_len,
        );
        Runner {
            name: self.name,
            seed,
            budget: if replay {
                Duration::ZERO
            } else {
                self.settings.budget
            },
            pending: seeds.into_iter().rev().collect(),
            replay,
            generator,
            started: None,
            seeds: 0,
            runs: 0,
        }
    }
}

/// Reads every file of a corpus directory, in name order.
fn load_corpus(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| {
        panic!(
            "the corpus {} cannot be read ({e}): check in a few seeds",
            dir.display()
        )
    });
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| !n.starts_with('.'))
        })
        .collect();
    files.sort();
    let seeds: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let data = std::fs::read(p)
                .unwrap_or_else(|e| panic!("cannot read seed {}: {e}", p.display()));
            (name, data)
        })
        .collect();
    assert!(
        !seeds.is_empty(),
        "the corpus {} is empty: check in a few seeds",
        dir.display()
    );
    seeds
}

struct Runner {
    name: String,
    seed: u64,
    budget: Duration,
    pending: Vec<(String, Vec<u8>)>,
    replay: bool,
    generator: Generator,
    /// When the seeds were done: the budget counts from there.
    started: Option<Instant>,
    seeds: usize,
    runs: u64,
}

impl Runner {
    fn next(&mut self) -> Option<(Vec<u8>, Origin)> {
        if let Some((name, data)) = self.pending.pop() {
            self.seeds += 1;
            let origin = if self.replay {
                Origin::Replay
            } else {
                Origin::Seed(name)
            };
            return Some((data, origin));
        }
        let started = *self.started.get_or_insert_with(Instant::now);
        if started.elapsed() >= self.budget {
            return None;
        }
        Some(self.generator.next_input())
    }

    fn check(&mut self, outcome: std::thread::Result<()>, input: &[u8], origin: &Origin) {
        self.runs += 1;
        let Err(payload) = outcome else { return };
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(a panic without a message)".to_owned());
        let saved = std::env::temp_dir().join(format!(
            "tollgate-fuzz-{}-{:016x}-{}.bin",
            self.name, self.seed, self.runs
        ));
        let where_saved = match std::fs::write(&saved, input) {
            Ok(()) => format!("saved to {}", saved.display()),
            Err(e) => format!("could not be saved to {}: {e}", saved.display()),
        };
        panic!(
            "fuzz target `{name}` failed on run {runs} ({origin}), seed {seed}:\n  {message}\n  \
             the input ({len} bytes) was {where_saved}\n  \
             replay it: TOLLGATE_FUZZ_INPUT={path} cargo test … {name}\n  \
             replay the run: TOLLGATE_FUZZ_SEED={seed} cargo test … {name}\n  \
             input: {preview}",
            name = self.name,
            runs = self.runs,
            seed = self.seed,
            len = input.len(),
            path = saved.display(),
            preview = preview(input),
        );
    }

    fn finish(self) -> Stats {
        let secs = self
            .started
            .map(|s| s.elapsed().as_secs_f64())
            .unwrap_or(0.0);
        eprintln!(
            "fuzz {}: {} runs ({} seeds) in {secs:.1}s, seed {}",
            self.name, self.runs, self.seeds, self.seed
        );
        Stats {
            seeds: self.seeds,
            runs: self.runs,
            seed: self.seed,
        }
    }
}

/// The input as escaped text, cut to a readable length.
fn preview(input: &[u8]) -> String {
    let text: String = input
        .iter()
        .take(300)
        .flat_map(|b| std::ascii::escape_default(*b))
        .map(char::from)
        .collect();
    if input.len() > 300 {
        format!("{text}…")
    } else {
        text
    }
}

/// Polls a future, turning a panic into `Err` like `catch_unwind`.
struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future<Output = ()>> Future for CatchUnwind<F> {
    type Output = std::thread::Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let fut = self.0.as_mut();
        match catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(())) => Poll::Ready(Ok(())),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus(files: &[(&str, &[u8])]) -> tempfile_dir::Dir {
        let dir = tempfile_dir::Dir::new();
        for (name, data) in files {
            std::fs::write(dir.path().join(name), data).unwrap();
        }
        dir
    }

    /// A directory under the temp dir, removed on drop (no dependency for so little).
    mod tempfile_dir {
        pub struct Dir(std::path::PathBuf);
        impl Dir {
            pub fn new() -> Self {
                let p = std::env::temp_dir().join(format!(
                    "tollgate-fuzzkit-test-{}-{}",
                    std::process::id(),
                    super::fresh_seed()
                ));
                std::fs::create_dir_all(&p).unwrap();
                Self(p)
            }
            pub fn path(&self) -> &std::path::Path {
                &self.0
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    fn settings(ms: u64, seed: u64) -> Settings {
        Settings {
            budget: Duration::from_millis(ms),
            seed,
            replay: None,
        }
    }

    #[test]
    fn seeds_run_first_then_new_inputs_until_the_budget() {
        let dir = corpus(&[("b", b"b=2"), ("a", b"a=1")]);
        let mut seen = Vec::new();
        let stats = Fuzz::with_settings("order", dir.path(), settings(100, 1))
            .run(|input| seen.push(input.to_vec()));
        assert_eq!(
            &seen[..2],
            &[b"a=1".to_vec(), b"b=2".to_vec()],
            "name order"
        );
        assert_eq!(stats.seeds, 2);
        assert!(stats.runs > 100, "only {} runs in 100 ms", stats.runs);
        assert_eq!(stats.runs as usize, seen.len());
    }

    #[test]
    fn a_panic_fails_the_run_and_saves_the_input() {
        let dir = corpus(&[("seed", b"x=1&y=2")]);
        let failure = catch_unwind(|| {
            Fuzz::with_settings("boom", dir.path(), settings(5_000, 42)).run(|input| {
                assert!(
                    input.windows(3).filter(|w| w == b"x=1").count() < 2,
                    "x repeated"
                );
            })
        })
        .expect_err("the repeated parameter is found");
        let message = failure.downcast_ref::<String>().unwrap();
        assert!(message.contains("x repeated"), "{message}");
        assert!(message.contains("seed 42"), "{message}");
        let path = message
            .split("TOLLGATE_FUZZ_INPUT=")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .unwrap();
        let saved = std::fs::read(path).unwrap();
        assert!(saved.windows(3).filter(|w| w == b"x=1").count() >= 2);

        // Replaying the saved file runs that input alone, and fails the same way.
        let replayed = catch_unwind(|| {
            let s = Settings {
                replay: Some(PathBuf::from(path)),
                ..settings(5_000, 1)
            };
            Fuzz::with_settings("boom", dir.path(), s).run(|input| {
                assert!(input.windows(3).filter(|w| w == b"x=1").count() < 2);
            })
        });
        assert!(replayed.is_err());
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn a_seed_replays_the_same_inputs() {
        let dir = corpus(&[("s", b"{\"a\":[1,2]}")]);
        let record = |seed| {
            let mut seen = Vec::new();
            Fuzz::with_settings("same", dir.path(), settings(30, seed)).run(|i| {
                seen.push(i.to_vec());
            });
            seen
        };
        let (a, b) = (record(9), record(9));
        let n = a.len().min(b.len());
        assert!(n > 10);
        assert_eq!(a[..n], b[..n]);
    }

    #[test]
    fn async_targets_are_caught_too() {
        let dir = corpus(&[("s", b"ok")]);
        let fut = Fuzz::with_settings("async", dir.path(), settings(0, 3)).run_async(
            |input| async move {
                assert_ne!(input, b"ok".to_vec(), "the seed itself");
            },
        );
        let failure = catch_unwind(AssertUnwindSafe(|| block_on(fut))).unwrap_err();
        assert!(
            failure
                .downcast_ref::<String>()
                .unwrap()
                .contains("the seed itself")
        );
    }

    #[test]
    #[should_panic(expected = "is empty")]
    fn an_empty_corpus_is_an_error() {
        let dir = corpus(&[]);
        Fuzz::with_settings("empty", dir.path(), settings(0, 3)).run(|_| {});
    }

    /// Enough of an executor for futures that never wait.
    fn block_on<F: Future>(fut: F) -> F::Output {
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        let mut fut = Box::pin(fut);
        loop {
            if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }
}
