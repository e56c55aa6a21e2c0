//! Comparing the name on a document with the name on a profile.
//!
//! Normalisation ([`normalise`]), in this order:
//! 1. Unicode NFKC (full-width letters, ligatures and compatibility spaces become plain
//!    ones), then lower case;
//! 2. punctuation and every kind of Unicode whitespace separate words: `.` `,` `'` `’` `"`
//!    `-` `_` `/` `\` `(` `)` `[` `]` and the general-punctuation block, so `R.K.` and
//!    `R K` read the same;
//! 3. leading honorifics are dropped, however many: mr, mrs, ms, miss, mx, dr, prof,
//!    shri, sri, shree, smt, shrimati, kumari, kum, km, master, and the Devanagari श्री,
//!    श्रीमती, सुश्री, कुमारी, डॉ;
//! 4. what remains is the list of words.
//!
//! Comparison ([`compare`]):
//! - **match**: the same words in the same order;
//! - **partial**: every word of the shorter name pairs with a different word of the longer
//!   one, in any order, where a word pairs with the same word or, when one of the two is a
//!   single letter, with a word it is the initial of; and at least one pair is two whole
//!   equal words. This covers initials (`R K Sharma` / `Ravi Kumar Sharma`), a missing
//!   middle name (`Ravi Sharma` / `Ravi Kumar Sharma`), order (`Sharma Ravi`), and words
//!   run together (`Ravikumar Sharma` / `Ravi Kumar Sharma`, compared without spaces);
//! - **none**: anything else, or either name empty after normalisation.

use tollgate_vocab::model::verification::NameMatch;
use unicode_normalization::UnicodeNormalization;

const HONORIFICS: &[&str] = &[
    "mr",
    "mrs",
    "ms",
    "miss",
    "mx",
    "dr",
    "prof",
    "shri",
    "sri",
    "shree",
    "smt",
    "shrimati",
    "kumari",
    "kum",
    "km",
    "master",
    "श्री",
    "श्रीमती",
    "सुश्री",
    "कुमारी",
    "डॉ",
];

fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '.' | ','
                | '\''
                | '’'
                | '‘'
                | '"'
                | '-'
                | '_'
                | '/'
                | '\\'
                | '('
                | ')'
                | '['
                | ']'
                | ';'
                | ':'
        )
        || ('\u{2000}'..='\u{206F}').contains(&c)
}

/// The words of a name after the normalisation in the module documentation.
pub fn normalise(name: &str) -> Vec<String> {
    let folded: String = name.nfkc().collect::<String>().to_lowercase();
    let words: Vec<String> = folded
        .split(is_separator)
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    let skip = words
        .iter()
        .take_while(|w| HONORIFICS.contains(&w.as_str()))
        .count();
    // A name that is nothing but honorifics keeps them: "Miss" alone is still a name.
    if skip == words.len() {
        return words;
    }
    words.into_iter().skip(skip).collect()
}

/// The normalised name as one string (words joined by one space): what is hashed when a
/// name is kept for a later match.
pub fn normalised(name: &str) -> String {
    normalise(name).join(" ")
}

fn is_initial(word: &str) -> bool {
    word.chars().count() == 1
}

fn initial_of(initial: &str, word: &str) -> bool {
    is_initial(initial) && word.chars().next() == initial.chars().next()
}

/// How `document` (the name on the document) compares with `profile`.
pub fn compare(document: &str, profile: &str) -> NameMatch {
    let a = normalise(document);
    let b = normalise(profile);
    if a.is_empty() || b.is_empty() {
        return NameMatch::None;
    }
    if a == b {
        return NameMatch::Match;
    }
    if a.concat() == b.concat() {
        return NameMatch::Partial;
    }
    let (short, long) = if a.len() <= b.len() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    let mut used = vec![false; long.len()];
    let mut whole = 0;
    // Whole words first, so an initial does not take a word a whole word needs.
    let mut pending = Vec::new();
    for word in short {
        match long
            .iter()
            .enumerate()
            .find(|(i, w)| !used[*i] && *w == word)
        {
            Some((i, _)) => {
                used[i] = true;
                whole += 1;
            }
            None => pending.push(word),
        }
    }
    for word in pending {
        let found = long
            .iter()
            .enumerate()
            .find(|(i, w)| !used[*i] && (initial_of(word, w) || initial_of(w, word)));
        match found {
            Some((i, _)) => used[i] = true,
            None => return NameMatch::None,
        }
    }
    if whole > 0 {
        NameMatch::Partial
    } else {
        NameMatch::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation() {
        assert_eq!(normalise("  Dr. Mrs  ASHA   devi "), vec!["asha", "devi"]);
        assert_eq!(normalise("R.K. Sharma"), vec!["r", "k", "sharma"]);
        assert_eq!(normalise("Ｒａｖｉ\u{00A0}Sharma"), vec!["ravi", "sharma"]);
        assert_eq!(normalise("श्री राम कुमार"), vec!["राम", "कुमार"]);
        assert_eq!(normalise("O'Brien-Smith"), vec!["o", "brien", "smith"]);
        assert_eq!(normalise("Miss"), vec!["miss"]);
        assert_eq!(normalised("SHRI  Ravi\tKumar"), "ravi kumar");
    }

    #[test]
    fn matches() {
        assert_eq!(
            compare("Ravi Kumar Sharma", "ravi kumar sharma"),
            NameMatch::Match
        );
        assert_eq!(
            compare("Mr. Ravi Kumar Sharma", "Ravi  Kumar-Sharma"),
            NameMatch::Match
        );
        assert_eq!(compare("राम कुमार", "श्री राम कुमार"), NameMatch::Match);
    }

    #[test]
    fn partials() {
        assert_eq!(
            compare("Ravi Kumar Sharma", "R K Sharma"),
            NameMatch::Partial
        );
        assert_eq!(
            compare("Ravi Kumar Sharma", "R.K. Sharma"),
            NameMatch::Partial
        );
        assert_eq!(
            compare("Ravi Kumar Sharma", "Ravi Sharma"),
            NameMatch::Partial
        );
        assert_eq!(
            compare("Ravi Kumar Sharma", "Sharma Ravi Kumar"),
            NameMatch::Partial
        );
        assert_eq!(
            compare("Ravikumar Sharma", "Ravi Kumar Sharma"),
            NameMatch::Partial
        );
        assert_eq!(compare("Asha Devi", "Asha"), NameMatch::Partial);
    }

    #[test]
    fn mismatches() {
        assert_eq!(compare("Ravi Kumar Sharma", "Amit Verma"), NameMatch::None);
        assert_eq!(compare("Ravi Kumar Sharma", "R K Verma"), NameMatch::None);
        // Initials alone prove nothing.
        assert_eq!(compare("Ravi Kumar", "R K"), NameMatch::None);
        assert_eq!(compare("Ravi Sharma", ""), NameMatch::None);
        assert_eq!(compare("", ""), NameMatch::None);
        assert_eq!(compare("Mr.", "Ravi"), NameMatch::None);
    }
}
