//! Where inputs come from: the checked-in seeds, seeds changed by structure-unaware
//! mutations, and token soups that `arbitrary` builds from random bytes. Everything is
//! drawn from one [`SplitMix64`] stream, so a seed value replays the same inputs.

use arbitrary::{Arbitrary, Unstructured};

/// SplitMix64 (Steele, Lea, Flood 2014): small, fast, and stable across versions of
/// anything, so a printed seed replays the same inputs tomorrow.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A stream from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`0` when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// True with probability `1/n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len()))
    }
}

/// Bytes that break parsers more often than others.
const INTERESTING_BYTES: &[u8] = &[
    0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff, b'\n', b'\r', b'\t', b' ', b'\\', b'"', b'\'', b'%', b'&',
    b'=', b';', b'+', b'.', b',', b':', b'{', b'}', b'[', b']', b'$', b'/', b'-', b'_',
];

/// Numbers at the edges of the integer and float types, as text.
const INTERESTING_NUMBERS: &[&str] = &[
    "0",
    "-0",
    "-1",
    "1",
    "127",
    "128",
    "255",
    "256",
    "65535",
    "65536",
    "2147483647",
    "2147483648",
    "-2147483649",
    "4294967295",
    "4294967296",
    "9007199254740993",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "1e308",
    "1e309",
    "-1e309",
    "0.000001",
    "1.5",
    "NaN",
    "Infinity",
];

/// Tokens every target gets besides its own dictionary: escapes, encodings, JSON
/// literals, Unicode edge cases and invalid UTF-8.
const COMMON_TOKENS: &[&[u8]] = &[
    b"%",
    b"%0",
    b"%00",
    b"%zz",
    b"%25",
    b"%26",
    b"%3D",
    b"%C3%A9",
    b"%FF",
    b"%ED%A0%80",
    b"+",
    b"&&",
    b"==",
    b"\"\"",
    b"null",
    b"true",
    b"false",
    b"[]",
    b"{}",
    b"\\u0000",
    b"\\ud800",
    b"\\\"",
    "é".as_bytes(),
    "\u{feff}".as_bytes(),
    "𝄞".as_bytes(),
    b"\xc3\x28",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"\r\n",
];

/// Where an input came from, for the failure report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A checked-in seed, as it is.
    Seed(String),
    /// A seed after mutations.
    Mutated(String),
    /// Built by `arbitrary` from random bytes.
    Generated,
    /// Given with `TOLLGATE_FUZZ_INPUT`.
    Replay,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Seed(name) => write!(f, "seed {name}"),
            Self::Mutated(name) => write!(f, "mutation of seed {name}"),
            Self::Generated => f.write_str("generated"),
            Self::Replay => f.write_str("replayed input"),
        }
    }
}

/// One piece of a generated input. `arbitrary` builds a list of these from random
/// bytes; concatenated, they make inputs that look a little like the target's format
/// (its words, pieces of its seeds, separators) without following its grammar.
#[derive(Debug)]
enum Fragment {
    Word(u16),
    SeedSlice { seed: u16, start: u16, len: u8 },
    Number(i64),
    Wide(u128),
    Float(f64),
    Text(String),
    Bytes(Vec<u8>),
    Separator(u8),
    Repeat(u8),
}

// Written out rather than derived: the derive would compile a second `syn` for nine lines.
impl<'a> Arbitrary<'a> for Fragment {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(match u.choose_index(9)? {
            0 => Self::Word(u.arbitrary()?),
            1 => Self::SeedSlice {
                seed: u.arbitrary()?,
                start: u.arbitrary()?,
                len: u.arbitrary()?,
            },
            2 => Self::Number(u.arbitrary()?),
            3 => Self::Wide(u.arbitrary()?),
            4 => Self::Float(u.arbitrary()?),
            5 => Self::Text(u.arbitrary()?),
            6 => Self::Bytes(u.arbitrary()?),
            7 => Self::Separator(u.arbitrary()?),
            _ => Self::Repeat(u.arbitrary()?),
        })
    }
}

/// Makes inputs from a corpus.
pub struct Generator {
    rng: SplitMix64,
    seeds: Vec<(String, Vec<u8>)>,
    dictionary: Vec<Vec<u8>>,
    max_len: usize,
}

impl Generator {
    /// A generator over `seeds` (name, bytes) and the target's own words.
    pub fn new(
        seed: u64,
        seeds: Vec<(String, Vec<u8>)>,
        dictionary: Vec<Vec<u8>>,
        max_len: usize,
    ) -> Self {
        let mut words: Vec<Vec<u8>> = COMMON_TOKENS.iter().map(|t| t.to_vec()).collect();
        words.extend(INTERESTING_NUMBERS.iter().map(|n| n.as_bytes().to_vec()));
        words.extend(dictionary);
        Self {
            rng: SplitMix64::new(seed),
            seeds,
            dictionary: words,
            max_len: max_len.max(1),
        }
    }

    /// The next input: three in four are mutated seeds, the rest generated.
    pub fn next_input(&mut self) -> (Vec<u8>, Origin) {
        if self.seeds.is_empty() || self.rng.one_in(4) {
            return (self.generate(), Origin::Generated);
        }
        let i = self.rng.below(self.seeds.len());
        let mut data = self.seeds.get(i).map(|s| s.1.clone()).unwrap_or_default();
        let name = self.seeds.get(i).map(|s| s.0.clone()).unwrap_or_default();
        let rounds = 1 + self.rng.below(4);
        for _ in 0..rounds {
            self.mutate(&mut data);
        }
        data.truncate(self.max_len);
        (data, Origin::Mutated(name))
    }

    /// Applies one random mutation in place.
    pub fn mutate(&mut self, data: &mut Vec<u8>) {
        match self.rng.below(13) {
            0 => self.flip_bit(data),
            1 => self.set_byte(data),
            2 => self.insert_bytes(data),
            3 => self.delete_range(data),
            4 => self.duplicate_range(data),
            5 => self.splice(data),
            6 => self.insert_seed_chunk(data),
            7 => self.interesting_number(data),
            8 => self.binary_number(data),
            9 => self.insert_word(data),
            10 => self.repeat_segment(data),
            11 => self.truncate(data),
            _ => self.swap_case(data),
        }
    }

    fn pos(&mut self, data: &[u8]) -> usize {
        self.rng.below(data.len() + 1)
    }

    fn flip_bit(&mut self, data: &mut [u8]) {
        let i = self.rng.below(data.len());
        let bit = self.rng.below(8);
        if let Some(b) = data.get_mut(i) {
            *b ^= 1 << bit;
        }
    }

    fn set_byte(&mut self, data: &mut [u8]) {
        let i = self.rng.below(data.len());
        let v = match self.rng.pick(INTERESTING_BYTES) {
            Some(&b) if self.rng.one_in(2) => b,
            _ => self.rng.next_u64() as u8,
        };
        if let Some(b) = data.get_mut(i) {
            *b = v;
        }
    }

    fn insert_bytes(&mut self, data: &mut Vec<u8>) {
        let at = self.pos(data);
        let n = 1 + self.rng.below(8);
        let bytes: Vec<u8> = (0..n).map(|_| self.rng.next_u64() as u8).collect();
        data.splice(at..at, bytes);
    }

    fn range(&mut self, data: &[u8]) -> (usize, usize) {
        let start = self.rng.below(data.len());
        let max = (data.len() - start.min(data.len())).min(64);
        let len = 1 + self.rng.below(max.max(1));
        (start, (start + len).min(data.len()))
    }

    fn delete_range(&mut self, data: &mut Vec<u8>) {
        if data.is_empty() {
            return;
        }
        let (a, b) = self.range(data);
        data.drain(a..b);
    }

    fn duplicate_range(&mut self, data: &mut Vec<u8>) {
        if data.is_empty() {
            return;
        }
        let (a, b) = self.range(data);
        let chunk = data.get(a..b).map(<[u8]>::to_vec).unwrap_or_default();
        let at = self.pos(data);
        data.splice(at..at, chunk);
    }

    fn other_seed(&mut self) -> Vec<u8> {
        let i = self.rng.below(self.seeds.len());
        self.seeds.get(i).map(|s| s.1.clone()).unwrap_or_default()
    }

    /// This input's head and another seed's tail.
    fn splice(&mut self, data: &mut Vec<u8>) {
        let other = self.other_seed();
        let cut = self.pos(data);
        let from = self.rng.below(other.len() + 1);
        data.truncate(cut);
        data.extend_from_slice(other.get(from..).unwrap_or_default());
    }

    fn insert_seed_chunk(&mut self, data: &mut Vec<u8>) {
        let other = self.other_seed();
        if other.is_empty() {
            return;
        }
        let (a, b) = self.range(&other);
        let at = self.pos(data);
        data.splice(at..at, other.get(a..b).unwrap_or_default().iter().copied());
    }

    /// Replaces a run of ASCII digits (or inserts, if there is none) with an edge number.
    fn interesting_number(&mut self, data: &mut Vec<u8>) {
        let n = self
            .rng
            .pick(INTERESTING_NUMBERS)
            .map(|n| n.as_bytes().to_vec())
            .unwrap_or_default();
        let digits: Vec<usize> = data
            .iter()
            .enumerate()
            .filter(|(_, b)| b.is_ascii_digit())
            .map(|(i, _)| i)
            .collect();
        match self.rng.pick(&digits).copied() {
            Some(start) => {
                let mut end = start;
                while data.get(end).is_some_and(u8::is_ascii_digit) {
                    end += 1;
                }
                data.splice(start..end, n);
            }
            None => {
                let at = self.pos(data);
                data.splice(at..at, n);
            }
        }
    }

    /// Overwrites (or inserts) a binary integer at the edge of its type.
    fn binary_number(&mut self, data: &mut Vec<u8>) {
        let v: u64 = match self.rng.below(6) {
            0 => 0,
            1 => u64::MAX,
            2 => u64::from(u32::MAX),
            3 => u64::from(u16::MAX),
            4 => 1 << 63,
            _ => 0x8000_0000,
        };
        let width = [1usize, 2, 4, 8][self.rng.below(4)];
        let bytes = if self.rng.one_in(2) {
            v.to_le_bytes()
        } else {
            v.to_be_bytes()
        };
        let chunk = bytes.get(..width).unwrap_or_default().to_vec();
        let at = self.pos(data);
        let end = (at + width).min(data.len());
        data.splice(at..end, chunk);
    }

    fn insert_word(&mut self, data: &mut Vec<u8>) {
        let i = self.rng.below(self.dictionary.len());
        let word = self.dictionary.get(i).cloned().unwrap_or_default();
        let at = self.pos(data);
        if self.rng.one_in(2) {
            data.splice(at..at, word);
        } else {
            let end = (at + word.len()).min(data.len());
            data.splice(at..end, word);
        }
    }

    /// Repeats a parameter: a segment between separators (`&`, `;`, `,`, newline) is
    /// copied to another segment boundary, so `a=1&b=2` may become `a=1&b=2&a=1`.
    fn repeat_segment(&mut self, data: &mut Vec<u8>) {
        let seps: &[u8] = b"&;,\n";
        let mut bounds = vec![0];
        bounds.extend(
            data.iter()
                .enumerate()
                .filter(|(_, b)| seps.contains(b))
                .map(|(i, _)| i + 1),
        );
        bounds.push(data.len() + 1);
        let k = self.rng.below(bounds.len() - 1);
        let (start, end) = (bounds[k], bounds[k + 1] - 1);
        let segment = data.get(start..end).map(<[u8]>::to_vec).unwrap_or_default();
        let sep = match data.get(end) {
            Some(&b) => b,
            None => data
                .iter()
                .copied()
                .find(|b| seps.contains(b))
                .unwrap_or(b'&'),
        };
        let copies = if self.rng.one_in(8) {
            2 + self.rng.below(8)
        } else {
            1
        };
        let mut insert = Vec::new();
        for _ in 0..copies {
            insert.push(sep);
            insert.extend_from_slice(&segment);
        }
        // After a boundary segment: at the end of some segment (before its separator).
        let j = self.rng.below(bounds.len() - 1);
        let at = (bounds[j + 1] - 1).min(data.len());
        data.splice(at..at, insert);
    }

    fn truncate(&mut self, data: &mut Vec<u8>) {
        let at = self.rng.below(data.len() + 1);
        data.truncate(at);
    }

    fn swap_case(&mut self, data: &mut [u8]) {
        let i = self.rng.below(data.len());
        if let Some(b) = data.get_mut(i)
            && b.is_ascii_alphabetic()
        {
            *b ^= 0x20;
        }
    }

    /// A token soup: `arbitrary` reads random bytes as a list of [`Fragment`]s.
    pub fn generate(&mut self) -> Vec<u8> {
        let n = 8 + self.rng.below(512);
        let raw: Vec<u8> = (0..n).map(|_| self.rng.next_u64() as u8).collect();
        let mut u = Unstructured::new(&raw);
        let mut out: Vec<u8> = Vec::new();
        let mut last: Vec<u8> = Vec::new();
        while !u.is_empty() {
            let Ok(f) = Fragment::arbitrary(&mut u) else {
                break;
            };
            let piece: Vec<u8> = match f {
                Fragment::Word(i) => self
                    .dictionary
                    .get(usize::from(i) % self.dictionary.len().max(1))
                    .cloned()
                    .unwrap_or_default(),
                Fragment::SeedSlice { seed, start, len } => {
                    match self.seeds.get(usize::from(seed) % self.seeds.len().max(1)) {
                        Some((_, s)) if !s.is_empty() => {
                            let a = usize::from(start) % s.len();
                            let b = (a + usize::from(len)).min(s.len());
                            s.get(a..b).unwrap_or_default().to_vec()
                        }
                        _ => Vec::new(),
                    }
                }
                Fragment::Number(v) => v.to_string().into_bytes(),
                Fragment::Wide(v) => v.to_string().into_bytes(),
                Fragment::Float(v) => v.to_string().into_bytes(),
                Fragment::Text(s) => s.into_bytes(),
                Fragment::Bytes(b) => b,
                Fragment::Separator(i) => {
                    let seps = b"&=;.,:{}[]\"' \n%+/";
                    vec![seps[usize::from(i) % seps.len()]]
                }
                Fragment::Repeat(n) => last.repeat(usize::from(n % 8)),
            };
            out.extend_from_slice(&piece);
            last = piece;
            if out.len() >= self.max_len {
                break;
            }
        }
        out.truncate(self.max_len);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generator(seed: u64) -> Generator {
        Generator::new(
            seed,
            vec![
                (
                    "form".into(),
                    b"grant_type=refresh_token&refresh_token=abc".to_vec(),
                ),
                ("json".into(), br#"{"a":1,"b":[true,null]}"#.to_vec()),
            ],
            vec![b"client_id".to_vec()],
            256,
        )
    }

    #[test]
    fn the_same_seed_makes_the_same_inputs() {
        let (mut a, mut b) = (generator(7), generator(7));
        for _ in 0..500 {
            assert_eq!(a.next_input(), b.next_input());
        }
        let mut c = generator(8);
        let differs = (0..50).any(|_| a.next_input() != c.next_input());
        assert!(differs, "another seed makes other inputs");
    }

    #[test]
    fn inputs_stay_within_the_limit_and_vary() {
        let mut g = generator(1);
        let mut seen = std::collections::HashSet::new();
        let mut generated = 0;
        for _ in 0..2_000 {
            let (input, origin) = g.next_input();
            assert!(input.len() <= 256, "{} bytes", input.len());
            generated += usize::from(origin == Origin::Generated);
            seen.insert(input);
        }
        assert!(seen.len() > 1_000, "only {} distinct inputs", seen.len());
        assert!((200..900).contains(&generated), "{generated} generated");
    }

    #[test]
    fn repeated_parameters_are_among_the_mutations() {
        let mut g = generator(3);
        let repeated = (0..200).any(|_| {
            let mut form = b"grant_type=refresh_token&refresh_token=abc".to_vec();
            g.repeat_segment(&mut form);
            let text = String::from_utf8_lossy(&form).into_owned();
            text.matches("grant_type=refresh_token").count() > 1
                || text.matches("refresh_token=abc").count() > 1
        });
        assert!(repeated, "no parameter was ever repeated");
    }

    #[test]
    fn every_mutation_survives_empty_and_tiny_inputs() {
        let mut g = generator(11);
        for len in 0..4 {
            for _ in 0..500 {
                let mut data = vec![b'1'; len];
                g.mutate(&mut data);
            }
        }
    }

    #[test]
    fn generated_inputs_use_the_dictionary_and_the_seeds() {
        let mut g = generator(5);
        let all: Vec<u8> = (0..300).flat_map(|_| g.generate()).collect();
        let text = String::from_utf8_lossy(&all);
        assert!(text.contains("client_id"), "dictionary words appear");
        assert!(
            text.contains("refresh") || text.contains("true"),
            "pieces of seeds appear"
        );
    }
}
