//! Dates without chrono's format machinery (it weighs a lot in the WASM): days as
//! `YYYY-MM-DD`, timestamps as Unix seconds on the wire.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};

/// `2024-02-29` -> the day; anything else -> `None`.
pub fn parse_day(s: &str) -> Option<NaiveDate> {
    let mut parts = s.trim().splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

pub fn format_day(d: NaiveDate) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

/// `2024-02-29 13:05 UTC`.
pub fn format_minute(at: &DateTime<Utc>) -> String {
    format!(
        "{} {:02}:{:02} UTC",
        format_day(at.date_naive()),
        at.hour(),
        at.minute()
    )
}

/// Serde for `Option<NaiveDate>` as `"YYYY-MM-DD"` or null.
pub mod day_opt {
    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(day: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
        match day {
            Some(d) => s.serialize_some(&super::format_day(*d)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(s) => super::parse_day(&s)
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom(format!("not a YYYY-MM-DD date: {s:?}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_parse_and_print() {
        let cases = [
            ("2024-02-29", Some((2024, 2, 29))),
            (" 2024-01-05 ", Some((2024, 1, 5))),
            ("2023-02-29", None),
            ("2024-2-5", None),
            ("2024-02-05x", None),
            ("", None),
        ];
        for (input, want) in cases {
            let got = parse_day(input);
            assert_eq!(
                got,
                want.and_then(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d)),
                "{input:?}"
            );
            if let Some(day) = got {
                assert_eq!(format_day(day), input.trim(), "{input:?} prints back");
            }
        }
    }

    #[test]
    fn minutes_format_in_utc() {
        let at: DateTime<Utc> = DateTime::from_timestamp(1_709_211_900, 0).expect("time");
        assert_eq!(format_minute(&at), "2024-02-29 13:05 UTC");
    }
}
