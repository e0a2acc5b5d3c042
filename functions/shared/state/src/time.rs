//! Owns the timestamp format of stored documents: `i64` nanoseconds since the
//! Unix epoch in Rust (like [`updraft_core::Candidate::created`]), RFC 3339
//! UTC text in JSON so that an operator can read the documents.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serializer};

/// Nanoseconds since the Unix epoch, as RFC 3339 UTC text.
pub fn format(ns: i64) -> String {
    DateTime::<Utc>::from_timestamp_nanos(ns).to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// RFC 3339 text → nanoseconds since the Unix epoch (years 1677–2262).
pub fn parse(text: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(text)
        .ok()?
        .with_timezone(&Utc)
        .timestamp_nanos_opt()
}

/// The current time in nanoseconds since the Unix epoch.
pub fn now() -> i64 {
    Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX)
}

/// `#[serde(with = "crate::time::rfc3339")]` for `i64` fields.
pub mod rfc3339 {
    use super::*;

    /// Serializes nanoseconds as RFC 3339 text.
    pub fn serialize<S: Serializer>(ns: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(*ns))
    }

    /// Deserializes RFC 3339 text into nanoseconds.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let text = String::deserialize(d)?;
        parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "`{text}` is not an RFC 3339 time between 1677 and 2262"
            ))
        })
    }
}

/// `#[serde(with = "crate::time::rfc3339_opt", default)]` for `Option<i64>`.
pub mod rfc3339_opt {
    use super::*;

    /// Serializes optional nanoseconds as RFC 3339 text or `null`.
    pub fn serialize<S: Serializer>(ns: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        match ns {
            Some(ns) => s.serialize_str(&format(*ns)),
            None => s.serialize_none(),
        }
    }

    /// Deserializes RFC 3339 text or `null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(text) => parse(&text).map(Some).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "`{text}` is not an RFC 3339 time between 1677 and 2262"
                ))
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_nanoseconds() {
        for ns in [0, 1, 1_764_000_000_123_456_789, -5_000_000_000] {
            assert_eq!(parse(&format(ns)), Some(ns), "{}", format(ns));
        }
        assert_eq!(format(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            parse("2026-11-26T10:00:00+01:00"),
            parse("2026-11-26T09:00:00Z")
        );
        assert_eq!(parse("yesterday"), None);
        assert_eq!(parse("9999-01-01T00:00:00Z"), None);
    }
}
