//! Durations in the configuration: a whole number of seconds (`3600`, also as the string `"3600"`
//! from an environment variable), or a number with a unit — `s`, `m`, `h`, `d` — with several
//! parts allowed (`"90s"`, `"30m"`, `"12h"`, `"7d"`, `"1h30m"`).

use serde::{Deserialize, Deserializer, de::Error as _};

/// Parses a duration written as described above into seconds.
pub fn parse_seconds(text: &str) -> Result<u64, String> {
    let s = text.trim();
    let bad = || {
        format!(
            "{text:?} is not a duration: write seconds (3600) or a number with a unit s, m, h or d (\"12h\", \"1h30m\")"
        )
    };
    if s.is_empty() {
        return Err(bad());
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().map_err(|_| bad());
    }
    let mut total: u64 = 0;
    let mut number = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit: u64 = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(bad()),
        };
        let n: u64 = number.parse().map_err(|_| bad())?;
        number.clear();
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| format!("{text:?} is too long a duration"))?;
    }
    if !number.is_empty() {
        return Err(bad());
    }
    Ok(total)
}

/// `deserialize_with` for a duration in seconds.
pub fn seconds<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumberOrText {
        Number(u64),
        Text(String),
    }
    match NumberOrText::deserialize(d)? {
        NumberOrText::Number(n) => Ok(n),
        NumberOrText::Text(t) => parse_seconds(&t).map_err(D::Error::custom),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_and_units() {
        assert_eq!(parse_seconds("3600"), Ok(3600));
        assert_eq!(parse_seconds(" 90s "), Ok(90));
        assert_eq!(parse_seconds("30m"), Ok(1800));
        assert_eq!(parse_seconds("12h"), Ok(43_200));
        assert_eq!(parse_seconds("7d"), Ok(604_800));
        assert_eq!(parse_seconds("1h30m"), Ok(5400));
        assert_eq!(parse_seconds("0"), Ok(0));
    }

    #[test]
    fn anything_else_is_refused_with_the_text() {
        for bad in ["", "h", "12x", "1.5h", "-5m", "12h30", "ten minutes"] {
            let e = parse_seconds(bad).unwrap_err();
            assert!(e.contains("is not a duration"), "{bad}: {e}");
        }
        assert!(parse_seconds("99999999999999999999d").is_err());
    }
}
