//! The schedule of a run, computed up front: when each arrival is due, what
//! kind of request it is, and which phase of the run it belongs to.
//!
//! Everything here is pure. A constant-rate run is one [`Phase`]; a spike is
//! three (`before`, `spike`, `after`); a mixed run picks each arrival's
//! [`Kind`] from a weighted [`Mix`] with a deterministic pseudo-random
//! sequence, so the same seed gives the same schedule.

use std::fmt;
use std::time::Duration;

use crate::vocab::{Kind, splitmix64};

/// Number of requests in the schedule: `rate * duration`, rounded down
/// (tolerating floating-point noise such as `0.29 * 100 = 28.999…`).
pub fn total_requests(rate: f64, duration: Duration) -> u64 {
    (rate * duration.as_secs_f64() + 1e-9).floor() as u64
}

/// Offset from the start of the run at which request `i` is due.
pub fn scheduled_offset(i: u64, rate: f64) -> Duration {
    Duration::from_secs_f64(i as f64 / rate)
}

/// A stretch of the run at one constant arrival rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    pub name: &'static str,
    /// Arrivals per second.
    pub rate: f64,
    pub duration: Duration,
}

/// Relative weights of request kinds, e.g. `refresh=70,jwks=20`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mix {
    /// Kinds with a weight above zero, in the order given.
    entries: Vec<(Kind, u32)>,
}

impl Mix {
    /// The blend `mixed` uses unless told otherwise.
    pub const DEFAULT: &'static str = "refresh=70,jwks=20,discovery=8,login=2";

    /// A mix of a single kind.
    pub fn only(kind: Kind) -> Self {
        Self {
            entries: vec![(kind, 1)],
        }
    }

    /// Parse `name=weight,name=weight,...`. Names are [`Kind`] names; zero
    /// weights are allowed (and ignored) but at least one must be positive.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut entries: Vec<(Kind, u32)> = Vec::new();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, weight) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?}: expected name=weight"))?;
            let kind = Kind::from_name(name.trim()).ok_or_else(|| {
                format!(
                    "{name:?}: unknown kind (one of {})",
                    Kind::ALL.map(Kind::name).join(", ")
                )
            })?;
            let weight: u32 = weight
                .trim()
                .parse()
                .map_err(|e| format!("{part:?}: weight: {e}"))?;
            if entries.iter().any(|(k, _)| *k == kind) {
                return Err(format!("{} given twice", kind.name()));
            }
            if weight > 0 {
                entries.push((kind, weight));
            }
        }
        if entries.is_empty() {
            return Err("the mix needs at least one positive weight".into());
        }
        Ok(Self { entries })
    }

    /// Kinds that can occur, in the order given.
    pub fn kinds(&self) -> impl Iterator<Item = Kind> + '_ {
        self.entries.iter().map(|(k, _)| *k)
    }

    fn total(&self) -> u64 {
        self.entries.iter().map(|(_, w)| u64::from(*w)).sum()
    }

    /// The kind of arrival number `i` for the sequence seeded by `seed`:
    /// each kind is picked with probability `weight / total`, independently
    /// of the others.
    pub fn pick(&self, seed: u64, i: u64) -> Kind {
        if let [(only, _)] = self.entries.as_slice() {
            return *only;
        }
        let mut ticket = splitmix64(seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15)) % self.total();
        for &(kind, weight) in &self.entries {
            if ticket < u64::from(weight) {
                return kind;
            }
            ticket -= u64::from(weight);
        }
        unreachable!("ticket is below the total weight")
    }
}

impl fmt::Display for Mix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, (kind, weight)) in self.entries.iter().enumerate() {
            if n > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}={weight}", kind.name())?;
        }
        Ok(())
    }
}

/// One scheduled request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Arrival {
    /// Due time, from the start of the run.
    pub offset: Duration,
    pub kind: Kind,
    /// Index into [`Plan::phases`].
    pub phase: usize,
}

/// Everything that decides the schedule.
#[derive(Debug, Clone)]
pub struct Plan {
    pub phases: Vec<Phase>,
    pub mix: Mix,
    /// Seed of the kind sequence.
    pub seed: u64,
}

impl Plan {
    /// One phase at a constant rate.
    pub fn constant(rate: f64, duration: Duration, mix: Mix, seed: u64) -> Self {
        Self {
            phases: vec![Phase {
                name: "run",
                rate,
                duration,
            }],
            mix,
            seed,
        }
    }

    /// `rate` for `before`, `factor * rate` for `spike`, `rate` for `after`.
    pub fn spike(
        rate: f64,
        factor: f64,
        [before, spike, after]: [Duration; 3],
        mix: Mix,
        seed: u64,
    ) -> Self {
        let phase = |name, rate, duration| Phase {
            name,
            rate,
            duration,
        };
        Self {
            phases: vec![
                phase("before", rate, before),
                phase("spike", rate * factor, spike),
                phase("after", rate, after),
            ],
            mix,
            seed,
        }
    }

    /// Total length of the schedule.
    pub fn duration(&self) -> Duration {
        self.phases.iter().map(|p| p.duration).sum()
    }

    /// Start offset of phase `i`.
    pub fn phase_start(&self, i: usize) -> Duration {
        self.phases[..i].iter().map(|p| p.duration).sum()
    }

    /// Number of arrivals in the schedule.
    pub fn total(&self) -> u64 {
        self.phases
            .iter()
            .map(|p| total_requests(p.rate, p.duration))
            .sum()
    }

    /// Every arrival in due order. Within a phase arrivals are evenly spaced
    /// from the phase's start.
    pub fn arrivals(&self) -> Vec<Arrival> {
        let mut out = Vec::with_capacity(self.total() as usize);
        let mut start = Duration::ZERO;
        for (phase, p) in self.phases.iter().enumerate() {
            for i in 0..total_requests(p.rate, p.duration) {
                let n = out.len() as u64;
                out.push(Arrival {
                    offset: start + scheduled_offset(i, p.rate),
                    kind: self.mix.pick(self.seed, n),
                    phase,
                });
            }
            start += p.duration;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_parses_and_prints() {
        let m = Mix::parse(Mix::DEFAULT).unwrap();
        assert_eq!(m.to_string(), Mix::DEFAULT);
        assert_eq!(
            m.kinds().collect::<Vec<_>>(),
            [Kind::Refresh, Kind::Jwks, Kind::Discovery, Kind::Login]
        );
        let m = Mix::parse(" jwks = 1 , login=0 ").unwrap();
        assert_eq!(m.to_string(), "jwks=1");
        assert!(Mix::parse("jwks").is_err());
        assert!(Mix::parse("jwks=x").is_err());
        assert!(Mix::parse("nope=1").is_err());
        assert!(Mix::parse("jwks=1,jwks=2").is_err());
        assert!(Mix::parse("jwks=0").is_err());
        assert!(Mix::parse("").is_err());
    }

    #[test]
    fn picks_follow_the_weights() {
        let m = Mix::parse("refresh=70,jwks=20,discovery=8,login=2").unwrap();
        let n = 100_000;
        let mut counts = [0u64; Kind::ALL.len()];
        for i in 0..n {
            counts[m.pick(7, i) as usize] += 1;
        }
        let share = |k: Kind| counts[k as usize] as f64 / n as f64;
        assert!((share(Kind::Refresh) - 0.70).abs() < 0.01);
        assert!((share(Kind::Jwks) - 0.20).abs() < 0.01);
        assert!((share(Kind::Discovery) - 0.08).abs() < 0.01);
        assert!((share(Kind::Login) - 0.02).abs() < 0.005);
        assert_eq!(counts[Kind::Raw as usize], 0);
        // Deterministic for a seed, different across seeds.
        let a: Vec<_> = (0..50).map(|i| m.pick(1, i)).collect();
        let b: Vec<_> = (0..50).map(|i| m.pick(1, i)).collect();
        let c: Vec<_> = (0..50).map(|i| m.pick(2, i)).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn constant_plan_is_evenly_spaced() {
        let plan = Plan::constant(4.0, Duration::from_secs(2), Mix::only(Kind::Jwks), 0);
        let a = plan.arrivals();
        assert_eq!(a.len(), 8);
        assert_eq!(plan.total(), 8);
        assert_eq!(a[1].offset, Duration::from_millis(250));
        assert_eq!(a[7].offset, Duration::from_millis(1750));
        assert!(a.iter().all(|x| x.kind == Kind::Jwks && x.phase == 0));
    }

    #[test]
    fn spike_plan_has_three_phases() {
        let s = Duration::from_secs;
        let plan = Plan::spike(10.0, 5.0, [s(2), s(1), s(3)], Mix::only(Kind::Login), 0);
        assert_eq!(plan.duration(), s(6));
        assert_eq!(plan.phase_start(2), s(3));
        let a = plan.arrivals();
        assert_eq!(a.len(), 20 + 50 + 30);
        let in_phase = |p| a.iter().filter(|x| x.phase == p).count();
        assert_eq!((in_phase(0), in_phase(1), in_phase(2)), (20, 50, 30));
        // The spike starts at 2 s with 20 ms spacing; the after phase at 3 s.
        assert_eq!(a[20].offset, s(2));
        assert_eq!(a[21].offset, Duration::from_millis(2020));
        assert_eq!(a[70].offset, s(3));
        assert!(a.windows(2).all(|w| w[0].offset <= w[1].offset));
    }

    #[test]
    fn total_is_rate_times_duration() {
        assert_eq!(total_requests(500.0, Duration::from_secs(10)), 5000);
        assert_eq!(total_requests(0.29, Duration::from_secs(100)), 29);
        assert_eq!(total_requests(2.5, Duration::from_secs(3)), 7);
        assert_eq!(total_requests(0.5, Duration::from_secs(1)), 0);
    }

    #[test]
    fn offsets_are_evenly_spaced_from_zero() {
        assert_eq!(scheduled_offset(0, 500.0), Duration::ZERO);
        assert_eq!(scheduled_offset(1, 500.0), Duration::from_millis(2));
        assert_eq!(scheduled_offset(500, 500.0), Duration::from_secs(1));
        assert_eq!(scheduled_offset(3, 4.0), Duration::from_millis(750));
        // The last request of a run is due strictly before its end.
        let rate = 1000.0;
        let last = total_requests(rate, Duration::from_secs(2)) - 1;
        assert!(scheduled_offset(last, rate) < Duration::from_secs(2));
    }
}
