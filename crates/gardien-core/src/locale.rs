//! The languages Gardien speaks (pages and emails) and the choice among them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ValidationError;

/// A language of the interface and of emails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    En,
    Fr,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::En, Language::Fr];

    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Fr => "fr",
        }
    }

    /// Picks the best supported language from an HTTP `Accept-Language`
    /// header (RFC 9110 §12.5.4): highest `q` first, then order of appearance.
    /// Malformed entries are skipped, never an error: a browser's header must
    /// not break a page.
    pub fn negotiate(header: &str) -> Option<Language> {
        let mut best: Option<(u16, usize, Language)> = None;
        for (index, item) in header.split(',').take(32).enumerate() {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or_default().trim();
            let Some(language) = tag
                .split(['-', '_'])
                .next()
                .and_then(|primary| primary.parse::<Language>().ok())
            else {
                continue;
            };
            let mut q = 1000u16;
            for param in parts {
                if let Some(value) = param.trim().strip_prefix("q=") {
                    q = parse_qvalue(value).unwrap_or(0);
                }
            }
            if q == 0 {
                continue;
            }
            let better = match best {
                None => true,
                Some((best_q, best_index, _)) => q > best_q || (q == best_q && index < best_index),
            };
            if better {
                best = Some((q, index, language));
            }
        }
        best.map(|(_, _, language)| language)
    }
}

/// A qvalue as thousandths: `0.8` → 800. `None` when malformed.
fn parse_qvalue(value: &str) -> Option<u16> {
    let value = value.trim();
    let (int, frac) = value.split_once('.').unwrap_or((value, ""));
    if frac.len() > 3 || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let int: u16 = match int {
        "0" => 0,
        "1" => 1,
        _ => return None,
    };
    let mut thousandths: u16 = 0;
    for (i, digit) in frac.chars().enumerate() {
        thousandths += (digit as u16 - '0' as u16) * [100, 10, 1][i];
    }
    let q = int * 1000 + thousandths;
    (q <= 1000).then_some(q)
}

impl FromStr for Language {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "en" => Ok(Language::En),
            "fr" => Ok(Language::Fr),
            _ => Err(ValidationError::UnknownValue(
                s.to_owned(),
                "language (en, fr)",
            )),
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn negotiates_by_quality_then_order() {
        assert_eq!(
            Language::negotiate("fr-FR,fr;q=0.9,en;q=0.8"),
            Some(Language::Fr)
        );
        assert_eq!(
            Language::negotiate("de-DE, en;q=0.5, fr;q=0.7"),
            Some(Language::Fr)
        );
        assert_eq!(Language::negotiate("en-GB,fr"), Some(Language::En));
        assert_eq!(Language::negotiate("fr;q=0, en;q=0.1"), Some(Language::En));
        assert_eq!(Language::negotiate("de, es"), None);
        assert_eq!(Language::negotiate(""), None);
        assert_eq!(Language::negotiate("fr;q=abc, en"), Some(Language::En));
    }

    proptest! {
        #[test]
        fn never_panics(header in "\\PC{0,200}") {
            let _ = Language::negotiate(&header);
        }
    }
}
