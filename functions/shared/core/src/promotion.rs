//! Owns the promotion model of `sync-trigger` and of `updraft pending`,
//! `approve`, `reject`, `rollback` and `release`: pending changes and their
//! states, the per-environment gates (soak after another environment, minimum
//! release age, change windows) and their evaluation, holds (rollbacks and
//! detected manual reverts), and audit entries.
//!
//! Everything here is pure: callers pass `now` and the facts they read from
//! the checkpoint store; nothing reads a clock, a file or the network.
//!
//! # Records
//!
//! [`PendingChange`], [`Hold`] and [`AuditEntry`] are stored as JSON
//! (camelCase keys, RFC 3339 UTC times). A pending change is identified by
//! application and commit ([`PendingChange::key`]): [`record`] ignores a
//! re-delivered write-back result, and a newer commit of the same application
//! supersedes the older open ones ([`supersede`]).
//!
//! # Gates (`promotion:` in `updraft.yaml`)
//!
//! ```yaml
//! promotion:
//!   environments:
//!     staging:
//!       applications: ["argocd/demo-app-staging"]
//!     production:
//!       applications: ["argocd/demo-app-prod", "argocd/prod-*"]  # exact, or a prefix ending in *
//!       after: staging            # the tag must have run in staging…
//!       soak: 30m                 # …Synced and Healthy for this long
//!       min_release_age: 1h       # tag first seen at least this long ago
//!       windows: ["0 0 9-17 * * Mon-Fri *"]  # sec min hour day month weekday [year]
//!       window_length: 1h         # each window stays open this long after a fire time (default 1h)
//!       time_zone: Asia/Shanghai  # UTC, a fixed offset (+08:00) or a zone without daylight saving time
//! ```
//!
//! Durations are whole numbers with a unit, largest unit first: `30s`, `5m`,
//! `1h`, `2d`, `1h30m`. [`PromotionConfig::compile`] validates the block and
//! names the field and the fix in every error.
//!
//! Change windows use the `cron` crate's 6- or 7-field syntax (seconds first,
//! optional year last). A window opens at each fire time and stays open for
//! `window_length`: `0 0 9-17 * * Mon-Fri *` with the default 1h is open
//! 09:00–18:00 on weekdays. Day-of-week numbers are refused: that crate
//! counts 1 = Sunday where Unix cron counts 0 = Sunday, so names (`Mon-Fri`)
//! are the only unambiguous spelling.
//!
//! Time zones: there is no time-zone database in this crate, so `time_zone`
//! accepts `UTC`, fixed offsets (`+08:00`, `-0530`, `+09`) and a short list of
//! zones that observe no daylight saving time ([`FIXED_OFFSET_ZONES`], e.g.
//! `Asia/Shanghai`). Zones with daylight saving time are refused with a hint
//! to write the offset instead.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset, SecondsFormat, TimeDelta, Timelike, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use thiserror::Error;

// ---------------------------------------------------------------------------
// Durations
// ---------------------------------------------------------------------------

/// The longest duration accepted anywhere in the promotion settings.
pub const MAX_DURATION_DAYS: i64 = 3650;

/// A duration that cannot be used. Messages start with the value so that the
/// caller can prefix the field it came from.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DurationError {
    /// Nothing was written.
    #[error("is empty; write a duration such as 30s, 5m, 1h, 2d or 1h30m")]
    Empty,
    /// A number has no unit (`30`).
    #[error("\"{value}\" has no unit; write {number}s, {number}m, {number}h or {number}d")]
    MissingUnit {
        /// The duration as given.
        value: String,
        /// The number without a unit.
        number: String,
    },
    /// A unit has no number (`h`).
    #[error("\"{value}\" has a unit without a number; write e.g. 1{unit}")]
    MissingNumber {
        /// The duration as given.
        value: String,
        /// The unit without a number.
        unit: String,
    },
    /// A unit other than s, m, h, d (`5min`).
    #[error("\"{value}\" has unknown unit \"{unit}\"; use s, m, h or d (e.g. 1h30m)")]
    UnknownUnit {
        /// The duration as given.
        value: String,
        /// The unit as given.
        unit: String,
    },
    /// Units repeated or smallest first (`30m1h`).
    #[error(
        "\"{value}\" repeats a unit or puts a smaller one first; write each unit once, largest first (e.g. 1d2h30m)"
    )]
    Order {
        /// The duration as given.
        value: String,
    },
    /// Signs, fractions, spaces or other characters (`-5m`, `1.5h`).
    #[error(
        "\"{value}\" is not a duration; write whole numbers with s, m, h or d, e.g. 30s, 5m, 1h30m (no signs, fractions or spaces)"
    )]
    Invalid {
        /// The duration as given.
        value: String,
    },
    /// Longer than [`MAX_DURATION_DAYS`].
    #[error("\"{value}\" is longer than {MAX_DURATION_DAYS}d; use a shorter duration")]
    TooLong {
        /// The duration as given.
        value: String,
    },
}

/// Parses `30s`, `5m`, `1h`, `2d`, `1h30m`: whole numbers, each followed by
/// one of `d`, `h`, `m`, `s`, largest unit first, each unit at most once.
/// Zero (`0s`) is a valid duration.
pub fn parse_duration(text: &str) -> Result<TimeDelta, DurationError> {
    let value = text.trim();
    if value.is_empty() {
        return Err(DurationError::Empty);
    }
    let chars: Vec<char> = value.chars().collect();
    let mut index = 0;
    let mut total: i64 = 0;
    // The rank of the last unit (d = 4 … s = 1); each must be smaller.
    let mut last_rank = u8::MAX;
    while index < chars.len() {
        let number_start = index;
        while index < chars.len() && chars[index].is_ascii_digit() {
            index += 1;
        }
        let number: String = chars[number_start..index].iter().collect();
        let unit_start = index;
        while index < chars.len() && chars[index].is_ascii_alphabetic() {
            index += 1;
        }
        let unit: String = chars[unit_start..index].iter().collect();
        if number.is_empty() && unit.is_empty() {
            return Err(DurationError::Invalid {
                value: value.to_owned(),
            });
        }
        if number.is_empty() {
            return Err(DurationError::MissingNumber {
                value: value.to_owned(),
                unit,
            });
        }
        if unit.is_empty() {
            if index < chars.len() {
                return Err(DurationError::Invalid {
                    value: value.to_owned(),
                });
            }
            return Err(DurationError::MissingUnit {
                value: value.to_owned(),
                number,
            });
        }
        let (rank, seconds) = match unit.as_str() {
            "d" => (4, 86_400),
            "h" => (3, 3_600),
            "m" => (2, 60),
            "s" => (1, 1),
            _ => {
                return Err(DurationError::UnknownUnit {
                    value: value.to_owned(),
                    unit,
                });
            }
        };
        if rank >= last_rank {
            return Err(DurationError::Order {
                value: value.to_owned(),
            });
        }
        last_rank = rank;
        let too_long = || DurationError::TooLong {
            value: value.to_owned(),
        };
        let amount: i64 = number.parse().map_err(|_| too_long())?;
        total = amount
            .checked_mul(seconds)
            .and_then(|part| total.checked_add(part))
            .ok_or_else(too_long)?;
        if total > MAX_DURATION_DAYS * 86_400 {
            return Err(too_long());
        }
    }
    TimeDelta::try_seconds(total).ok_or(DurationError::TooLong {
        value: value.to_owned(),
    })
}

/// Formats a duration the way [`parse_duration`] reads it, to the second
/// (`1h30m`, `12m5s`, `0s`); negative durations print as `0s`.
pub fn format_duration(duration: TimeDelta) -> String {
    let mut seconds = duration.num_seconds().max(0);
    if seconds == 0 {
        return "0s".to_owned();
    }
    let mut text = String::new();
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        let amount = seconds / size;
        seconds %= size;
        if amount > 0 {
            text.push_str(&format!("{amount}{unit}"));
        }
    }
    text
}

// ---------------------------------------------------------------------------
// Time zones
// ---------------------------------------------------------------------------

/// Zones accepted by name in `time_zone`: UTC and zones that observe no
/// daylight saving time, with their current offset in seconds east of UTC.
pub const FIXED_OFFSET_ZONES: [(&str, i32); 12] = [
    ("UTC", 0),
    ("Etc/UTC", 0),
    ("GMT", 0),
    ("Asia/Shanghai", 8 * 3600),
    ("Asia/Hong_Kong", 8 * 3600),
    ("Asia/Taipei", 8 * 3600),
    ("Asia/Singapore", 8 * 3600),
    ("Asia/Tokyo", 9 * 3600),
    ("Asia/Seoul", 9 * 3600),
    ("Asia/Kolkata", 5 * 3600 + 1800),
    ("Asia/Dubai", 4 * 3600),
    ("Asia/Jakarta", 7 * 3600),
];

/// `UTC`, `Z`, a zone of [`FIXED_OFFSET_ZONES`], or `±HH:MM`, `±HHMM`, `±HH`.
pub fn parse_time_zone(text: &str) -> Result<FixedOffset, String> {
    let value = text.trim();
    if value == "Z" {
        return FixedOffset::east_opt(0).ok_or_else(|| "UTC offset out of range".to_owned());
    }
    if let Some((_, seconds)) = FIXED_OFFSET_ZONES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(value))
    {
        return FixedOffset::east_opt(*seconds)
            .ok_or_else(|| format!("\"{value}\" has an offset out of range"));
    }
    let fixed_hint = "write UTC, a fixed offset such as +08:00 or -05:30, or one of the zones without daylight saving time";
    let sign = match value.chars().next() {
        Some('+') => 1,
        Some('-') => -1,
        _ => {
            let zones: Vec<&str> = FIXED_OFFSET_ZONES.iter().map(|(name, _)| *name).collect();
            return Err(format!(
                "\"{value}\" is not a supported time zone: Updraft has no time-zone database, so {fixed_hint} ({}); for a zone with daylight saving time write the offset in force (the windows then do not move with daylight saving time)",
                zones.join(", ")
            ));
        }
    };
    let invalid = || format!("\"{value}\" is not a UTC offset; {fixed_hint}");
    if !value.is_ascii() {
        return Err(invalid());
    }
    let digits: String = value[1..].chars().filter(|c| *c != ':').collect();
    let well_formed = digits.chars().all(|c| c.is_ascii_digit())
        && (digits.len() == 2 || digits.len() == 4)
        && (value[1..].len() == digits.len() || (value.len() == 6 && &value[3..4] == ":"));
    if !well_formed {
        return Err(invalid());
    }
    let hours: i32 = digits[..2].parse().map_err(|_| invalid())?;
    let minutes: i32 = if digits.len() == 4 {
        digits[2..].parse().map_err(|_| invalid())?
    } else {
        0
    };
    if hours > 14 || minutes > 59 {
        return Err(format!(
            "\"{value}\" is out of range; offsets go from -14:00 to +14:00"
        ));
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60)).ok_or_else(invalid)
}

// ---------------------------------------------------------------------------
// Configuration (YAML) and compiled gates
// ---------------------------------------------------------------------------

/// The `promotion:` block of `updraft.yaml`, as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromotionConfig {
    /// Gates per environment name (`staging`, `production`).
    #[serde(default)]
    pub environments: BTreeMap<String, EnvironmentConfig>,
}

/// One environment of the `promotion:` block, as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentConfig {
    /// The applications of this environment (`namespace/name`): exact names,
    /// or prefixes ending in `*`.
    #[serde(default)]
    pub applications: Vec<String>,
    /// The environment a tag must have run in first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// How long the tag must have been Synced and Healthy in `after`.
    #[serde(
        default,
        deserialize_with = "scalar_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub soak: Option<String>,
    /// How long ago the tag must have been first seen.
    #[serde(
        default,
        deserialize_with = "scalar_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub min_release_age: Option<String>,
    /// Cron expressions of the times changes may be synced.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub windows: Vec<String>,
    /// How long each window stays open after a fire time (default 1h).
    #[serde(
        default,
        deserialize_with = "scalar_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub window_length: Option<String>,
    /// The time zone of the windows (default UTC).
    #[serde(
        default,
        deserialize_with = "scalar_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub time_zone: Option<String>,
    /// The canary to promote after an approved sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<CanaryConfig>,
}

/// Which progressive-delivery controller runs the canary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CanaryKind {
    /// Argo Rollouts (`argoproj.io/Rollout`); Argo CD ships its actions.
    ArgoRollouts,
    /// OpenKruise Rollout (`rollouts.kruise.io/Rollout`), through an Argo CD
    /// custom resource action configured in `argocd-cm`.
    Kruise,
}

/// The canary promoted after an approved sync, through an Argo CD resource
/// action on the application's Rollout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CanaryConfig {
    /// The controller.
    pub kind: CanaryKind,
    /// The Rollout's name.
    pub name: String,
    /// The Rollout's namespace (default: the Application's destination
    /// namespace is not known here, so it must be given).
    pub namespace: String,
    /// The action: default `promote-full` for Argo Rollouts; for Kruise the
    /// name of the custom action configured in `argocd-cm` (default
    /// `approve`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
}

impl CanaryConfig {
    /// The action to run.
    pub fn action(&self) -> &str {
        match (&self.action, self.kind) {
            (Some(action), _) => action,
            (None, CanaryKind::ArgoRollouts) => "promote-full",
            (None, CanaryKind::Kruise) => "approve",
        }
    }

    /// The Rollout's API group, kind and version.
    pub fn resource(&self) -> (&'static str, &'static str, &'static str) {
        match self.kind {
            CanaryKind::ArgoRollouts => ("argoproj.io", "Rollout", "v1alpha1"),
            CanaryKind::Kruise => ("rollouts.kruise.io", "Rollout", "v1beta1"),
        }
    }
}

/// Reads a string, or a number as its text, so that `soak: 30` reaches the
/// duration parser and gets its "has no unit" message instead of a type error.
fn scalar_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Scalar {
        Text(String),
        Signed(i64),
        Unsigned(u64),
        Float(f64),
    }
    Ok(
        Option::<Scalar>::deserialize(deserializer)?.map(|scalar| match scalar {
            Scalar::Text(text) => text,
            Scalar::Signed(number) => number.to_string(),
            Scalar::Unsigned(number) => number.to_string(),
            Scalar::Float(number) => number.to_string(),
        }),
    )
}

/// A `promotion:` setting that cannot be used; the message names the field
/// (`promotion.environments.production.soak`) and the fix.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("promotion.environments.{environment}{}: {problem}", field_suffix(.field))]
pub struct GateConfigError {
    /// The environment.
    pub environment: String,
    /// The field (`soak`, `windows[0]`); empty for the environment itself.
    pub field: String,
    /// What is wrong and how to fix it.
    pub problem: String,
}

fn field_suffix(field: &str) -> String {
    if field.is_empty() {
        String::new()
    } else {
        format!(".{field}")
    }
}

/// Which applications an environment holds: an exact `namespace/name`, or a
/// prefix (`argocd/prod-*`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum AppPattern {
    /// This application only.
    Exact(String),
    /// Every application whose name starts with this.
    Prefix(String),
}

impl AppPattern {
    /// Parses an exact name or a prefix ending in `*`.
    pub fn parse(pattern: &str) -> Result<Self, String> {
        let pattern = pattern.trim();
        if pattern.is_empty() {
            return Err(
                "an application pattern is empty; write namespace/name or a prefix ending in *"
                    .to_owned(),
            );
        }
        let (body, prefix) = match pattern.strip_suffix('*') {
            Some(body) => (body, true),
            None => (pattern, false),
        };
        if body.contains(['*', '?', '[', ']']) {
            return Err(format!(
                "\"{pattern}\" is not supported: write an exact namespace/name or a prefix ending in a single * (e.g. argocd/prod-*)"
            ));
        }
        Ok(if prefix {
            Self::Prefix(body.to_owned())
        } else {
            Self::Exact(body.to_owned())
        })
    }

    /// Whether `application` is one of this pattern's.
    pub fn matches(&self, application: &str) -> bool {
        match self {
            Self::Exact(name) => name == application,
            Self::Prefix(prefix) => application.starts_with(prefix.as_str()),
        }
    }
}

impl fmt::Display for AppPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exact(name) => f.write_str(name),
            Self::Prefix(prefix) => write!(f, "{prefix}*"),
        }
    }
}

/// One change window: a cron expression whose fire times open it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeWindow {
    schedule: cron::Schedule,
}

impl ChangeWindow {
    /// Parses a 6- or 7-field cron expression (or a `@daily`-style shorthand).
    pub fn parse(expression: &str) -> Result<Self, String> {
        let expression = expression.trim();
        let example =
            "e.g. \"0 0 9-17 * * Mon-Fri *\" (open 09:00–18:00 on weekdays with window_length 1h)";
        if !expression.starts_with('@') {
            let fields: Vec<&str> = expression.split_whitespace().collect();
            match fields.len() {
                6 | 7 => {}
                5 => {
                    return Err(format!(
                        "\"{expression}\" has 5 fields (Unix cron); windows have seconds first and an optional year last: write \"0 {expression}\" with day names, {example}"
                    ));
                }
                count => {
                    return Err(format!(
                        "\"{expression}\" has {count} fields; write 6 or 7: sec min hour day-of-month month day-of-week [year], {example}"
                    ));
                }
            }
            if let Some(weekday) = fields.get(5)
                && weekday.chars().any(|c| c.is_ascii_digit())
            {
                return Err(format!(
                    "\"{expression}\" numbers the day of week (\"{weekday}\"), which the cron crate counts from 1 = Sunday while Unix cron counts from 0 = Sunday; write day names such as Mon-Fri"
                ));
            }
        }
        let schedule = cron::Schedule::from_str(expression)
            .map_err(|e| format!("\"{expression}\" is not a cron expression ({e}); {example}"))?;
        Ok(Self { schedule })
    }

    /// The expression as written.
    pub fn expression(&self) -> &str {
        self.schedule.source()
    }

    /// The opening of the window of this expression that contains `at`, if
    /// any: the latest fire time `f` with `f <= at < f + length`.
    fn opening_containing(
        &self,
        at: DateTime<Utc>,
        length: TimeDelta,
        zone: &FixedOffset,
    ) -> Option<DateTime<Utc>> {
        let from = at.checked_sub_signed(length)?.with_timezone(zone);
        // `after` yields fire times strictly after `from`.
        let fire = self.schedule.after(&from).next()?.with_timezone(&Utc);
        (fire <= at).then_some(fire)
    }

    /// The first fire time strictly after `at`.
    fn next_fire(&self, at: DateTime<Utc>, zone: &FixedOffset) -> Option<DateTime<Utc>> {
        self.schedule
            .after(&at.with_timezone(zone))
            .next()
            .map(|fire| fire.with_timezone(&Utc))
    }
}

/// The validated gates of one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentGates {
    /// The environment's name.
    pub name: String,
    /// Its applications.
    pub applications: Vec<AppPattern>,
    /// The environment a tag must have run in first.
    pub after: Option<String>,
    /// How long the tag must have been Synced and Healthy in `after` (zero
    /// when `soak` is not set: having run there Healthy is enough).
    pub soak: TimeDelta,
    /// How long ago the tag must have been first seen.
    pub min_release_age: Option<TimeDelta>,
    /// The change windows; empty means always open.
    pub windows: Vec<ChangeWindow>,
    /// How long each window stays open after a fire time.
    pub window_length: TimeDelta,
    /// The zone the windows are read in (and times are shown in).
    pub time_zone: FixedOffset,
    /// The canary promoted after an approved sync.
    pub canary: Option<CanaryConfig>,
}

/// The default `window_length`.
pub const DEFAULT_WINDOW_LENGTH: TimeDelta = TimeDelta::hours(1);

impl EnvironmentConfig {
    /// Validates the environment `name`. `after` is not checked against the
    /// other environments here; [`PromotionConfig::compile`] does that.
    pub fn compile(&self, name: &str) -> Result<EnvironmentGates, GateConfigError> {
        let error = |field: &str, problem: String| GateConfigError {
            environment: name.to_owned(),
            field: field.to_owned(),
            problem,
        };
        let duration = |field: &str, value: &Option<String>| {
            value
                .as_deref()
                .map(parse_duration)
                .transpose()
                .map_err(|e| error(field, e.to_string()))
        };
        let mut applications = Vec::with_capacity(self.applications.len());
        for (index, pattern) in self.applications.iter().enumerate() {
            applications.push(
                AppPattern::parse(pattern)
                    .map_err(|p| error(&format!("applications[{index}]"), p))?,
            );
        }
        let after = match self.after.as_deref().map(str::trim) {
            Some("") => {
                return Err(error(
                    "after",
                    "is empty; name the environment a tag must run in first, or remove after:"
                        .to_owned(),
                ));
            }
            Some(after) if after == name => {
                return Err(error(
                    "after",
                    format!("names {name} itself; name the environment before it (e.g. staging)"),
                ));
            }
            other => other.map(str::to_owned),
        };
        let soak = duration("soak", &self.soak)?;
        if soak.is_some() && after.is_none() {
            return Err(error(
                "soak",
                "needs after: (the environment whose Healthy run is measured); add after: <environment> or remove soak:".to_owned(),
            ));
        }
        let min_release_age = duration("min_release_age", &self.min_release_age)?;
        let mut windows = Vec::with_capacity(self.windows.len());
        for (index, expression) in self.windows.iter().enumerate() {
            windows.push(
                ChangeWindow::parse(expression)
                    .map_err(|p| error(&format!("windows[{index}]"), p))?,
            );
        }
        let window_length = duration("window_length", &self.window_length)?;
        if window_length.is_some() && windows.is_empty() {
            return Err(error(
                "window_length",
                "has no effect without windows:; add windows: or remove window_length:".to_owned(),
            ));
        }
        let window_length = window_length.unwrap_or(DEFAULT_WINDOW_LENGTH);
        if window_length <= TimeDelta::zero() {
            return Err(error(
                "window_length",
                "is 0s, so no window would ever be open; write a positive duration such as 1h"
                    .to_owned(),
            ));
        }
        let time_zone = match self.time_zone.as_deref() {
            None => FixedOffset::east_opt(0)
                .ok_or_else(|| error("time_zone", "UTC offset out of range".to_owned()))?,
            Some(zone) => parse_time_zone(zone).map_err(|p| error("time_zone", p))?,
        };
        Ok(EnvironmentGates {
            name: name.to_owned(),
            applications,
            after,
            soak: soak.unwrap_or_else(TimeDelta::zero),
            min_release_age,
            windows,
            window_length,
            time_zone,
            canary: self.canary.clone(),
        })
    }
}

/// All environments' validated gates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PromotionGates {
    environments: BTreeMap<String, EnvironmentGates>,
}

impl PromotionConfig {
    /// Validates every environment, that each `after` names another
    /// configured environment without a cycle, and that no application name
    /// is listed (exactly) in two environments.
    pub fn compile(&self) -> Result<PromotionGates, GateConfigError> {
        let mut environments = BTreeMap::new();
        for (name, config) in &self.environments {
            environments.insert(name.clone(), config.compile(name)?);
        }
        for gates in environments.values() {
            if let Some(after) = &gates.after {
                if !environments.contains_key(after) {
                    let known: Vec<&str> = environments.keys().map(String::as_str).collect();
                    return Err(GateConfigError {
                        environment: gates.name.clone(),
                        field: "after".to_owned(),
                        problem: format!(
                            "names {after}, which is not under promotion.environments ({}); add {after}: with its applications",
                            known.join(", ")
                        ),
                    });
                }
                // Walk the chain; more steps than environments means a cycle.
                let mut current = after.as_str();
                let mut steps = 0;
                while let Some(next) = environments.get(current).and_then(|g| g.after.as_deref()) {
                    steps += 1;
                    if steps > environments.len() {
                        return Err(GateConfigError {
                            environment: gates.name.clone(),
                            field: "after".to_owned(),
                            problem: format!(
                                "environments wait for each other in a cycle through {after}; remove after: from the first environment"
                            ),
                        });
                    }
                    current = next;
                }
            }
        }
        let mut owners: BTreeMap<&str, &str> = BTreeMap::new();
        for gates in environments.values() {
            for pattern in &gates.applications {
                if let AppPattern::Exact(app) = pattern
                    && let Some(other) = owners.insert(app.as_str(), gates.name.as_str())
                {
                    return Err(GateConfigError {
                        environment: gates.name.clone(),
                        field: "applications".to_owned(),
                        problem: format!(
                            "{app} is also listed under {other}; an application belongs to one environment"
                        ),
                    });
                }
            }
        }
        Ok(PromotionGates { environments })
    }
}

impl PromotionGates {
    /// The environment called `name`.
    pub fn environment(&self, name: &str) -> Option<&EnvironmentGates> {
        self.environments.get(name)
    }

    /// Every environment, by name.
    pub fn environments(&self) -> impl Iterator<Item = &EnvironmentGates> {
        self.environments.values()
    }

    /// The environment of `application`: an exact listing wins, then the
    /// longest matching prefix (ties: the first environment by name).
    pub fn environment_of(&self, application: &str) -> Option<&EnvironmentGates> {
        let mut best: Option<(usize, &EnvironmentGates)> = None;
        for gates in self.environments.values() {
            for pattern in &gates.applications {
                if !pattern.matches(application) {
                    continue;
                }
                let rank = match pattern {
                    AppPattern::Exact(_) => usize::MAX,
                    AppPattern::Prefix(prefix) => prefix.len(),
                };
                if best.is_none_or(|(best_rank, _)| rank > best_rank) {
                    best = Some((rank, gates));
                }
            }
        }
        best.map(|(_, gates)| gates)
    }

    /// The gates of `change`: its `environment` when set, else the
    /// environment its application belongs to.
    pub fn for_change(&self, change: &PendingChange) -> Option<&EnvironmentGates> {
        match &change.environment {
            Some(name) => self.environment(name),
            None => self.environment_of(&change.application),
        }
    }
}

impl EnvironmentGates {
    /// Whether `application` belongs to this environment.
    pub fn contains(&self, application: &str) -> bool {
        self.applications.iter().any(|p| p.matches(application))
    }

    /// Whether changes may be synced at `at` (always, without windows).
    pub fn in_window(&self, at: DateTime<Utc>) -> bool {
        self.windows.is_empty()
            || self.windows.iter().any(|w| {
                w.opening_containing(at, self.window_length, &self.time_zone)
                    .is_some()
            })
    }

    /// The first time strictly after `at` at which a window opens; `None`
    /// without windows, or when no window fires again.
    pub fn next_window_opening(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.windows
            .iter()
            .filter_map(|w| w.next_fire(at, &self.time_zone))
            .min()
    }

    /// `at` in this environment's zone, for messages: `2025-01-13 09:00
    /// +08:00` (seconds only when not zero; `UTC` for offset zero).
    pub fn format_time(&self, at: DateTime<Utc>) -> String {
        let local = at.with_timezone(&self.time_zone);
        let clock = if local.second() == 0 {
            local.format("%Y-%m-%d %H:%M")
        } else {
            local.format("%Y-%m-%d %H:%M:%S")
        };
        if self.time_zone.local_minus_utc() == 0 {
            format!("{clock} UTC")
        } else {
            format!("{clock} {}", local.format("%:z"))
        }
    }
}

// ---------------------------------------------------------------------------
// Gate evaluation
// ---------------------------------------------------------------------------

/// A time known for one image tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagTime {
    /// The image repository (`ghcr.io/acme/app`).
    pub image: String,
    /// The tag.
    pub tag: String,
    /// The time.
    #[serde(with = "time_text")]
    pub at: DateTime<Utc>,
}

/// What the caller knows when gates are evaluated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GateFacts {
    /// When each tag was first seen (the registry cache's first-seen ledger).
    #[serde(default)]
    pub first_seen: Vec<TagTime>,
    /// Since when the `after` environment has run each tag Synced and
    /// Healthy without interruption; a tag it is not running (or not
    /// Healthy) is left out.
    #[serde(default)]
    pub healthy_since: Vec<TagTime>,
}

impl GateFacts {
    /// Adds a first-seen time.
    pub fn with_first_seen(mut self, image: &str, tag: &str, at: DateTime<Utc>) -> Self {
        self.first_seen.push(TagTime {
            image: image.to_owned(),
            tag: tag.to_owned(),
            at,
        });
        self
    }

    /// Adds a Synced-and-Healthy-since time in the `after` environment.
    pub fn with_healthy_since(mut self, image: &str, tag: &str, at: DateTime<Utc>) -> Self {
        self.healthy_since.push(TagTime {
            image: image.to_owned(),
            tag: tag.to_owned(),
            at,
        });
        self
    }

    /// When `image:tag` was first seen (the earliest, if given twice).
    pub fn first_seen(&self, image: &str, tag: &str) -> Option<DateTime<Utc>> {
        Self::times(&self.first_seen, image, tag).min()
    }

    /// Since when the `after` environment has run `image:tag` Healthy. If
    /// several of its applications run it, the latest time counts: every one
    /// of them must have soaked.
    pub fn healthy_since(&self, image: &str, tag: &str) -> Option<DateTime<Utc>> {
        Self::times(&self.healthy_since, image, tag).max()
    }

    fn times<'a>(
        list: &'a [TagTime],
        image: &'a str,
        tag: &'a str,
    ) -> impl Iterator<Item = DateTime<Utc>> + 'a {
        list.iter()
            .filter(move |t| t.image == image && t.tag == tag)
            .map(|t| t.at)
    }
}

/// Whether a change may go ahead as far as the gates are concerned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "verdict",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum GateVerdict {
    /// Every gate is open.
    Open,
    /// At least one gate is closed.
    Waiting {
        /// One human-readable line per closed gate.
        reasons: Vec<String>,
        /// The earliest time every gate could be open, if it can be known
        /// now (a tag staging has not run yet gives `None`).
        #[serde(default, with = "time_text_opt")]
        until: Option<DateTime<Utc>>,
    },
}

impl GateVerdict {
    /// Whether every gate is open.
    pub fn is_open(&self) -> bool {
        matches!(self, Self::Open)
    }
}

/// Evaluates `env`'s gates for every image of `change` at `now`.
///
/// - `min_release_age`: each new tag must have been first seen at least that
///   long ago; a tag without a first-seen time waits with no known end.
/// - `after` + `soak`: the `after` environment must have run each new tag
///   Synced and Healthy for `soak`; a tag it has not run waits with no known
///   end.
/// - `windows`: `now` must fall inside a window. `until` is the first moment
///   at or after the other gates' opening that lies in a window.
pub fn evaluate(
    env: &EnvironmentGates,
    change: &PendingChange,
    facts: &GateFacts,
    now: DateTime<Utc>,
) -> GateVerdict {
    let mut reasons = Vec::new();
    // The earliest time every non-window gate is open; `None`: unknown.
    let mut ready_at = Some(now);
    let wait_until = |ready_at: &mut Option<DateTime<Utc>>, at: Option<DateTime<Utc>>| {
        *ready_at = match (*ready_at, at) {
            (Some(current), Some(at)) => Some(current.max(at)),
            _ => None,
        };
    };
    for image in &change.changes {
        let shown = format!("{}:{}", image.image, image.new_tag);
        if let Some(min_age) = env.min_release_age {
            match facts.first_seen(&image.image, &image.new_tag) {
                None => {
                    reasons.push(format!(
                        "{shown} has no first-seen time yet, so its min_release_age of {} cannot be checked",
                        format_duration(min_age)
                    ));
                    wait_until(&mut ready_at, None);
                }
                Some(seen) => {
                    let age = now - seen;
                    if age < min_age {
                        reasons.push(format!(
                            "{shown} was first seen {} ago; min_release_age is {}",
                            format_duration(age),
                            format_duration(min_age)
                        ));
                        wait_until(&mut ready_at, seen.checked_add_signed(min_age));
                    }
                }
            }
        }
        if let Some(after) = &env.after {
            match facts.healthy_since(&image.image, &image.new_tag) {
                None => {
                    reasons.push(format!(
                        "{after} has not run {shown} Synced and Healthy yet"
                    ));
                    wait_until(&mut ready_at, None);
                }
                Some(since) => {
                    let ran = now - since;
                    if ran < env.soak {
                        reasons.push(format!(
                            "{after} has run {shown} Healthy for {} of the {} soak",
                            format_duration(ran),
                            format_duration(env.soak)
                        ));
                        wait_until(&mut ready_at, since.checked_add_signed(env.soak));
                    }
                }
            }
        }
    }
    if !env.in_window(now) {
        let plural = if env.windows.len() > 1 { "s" } else { "" };
        reasons.push(match env.next_window_opening(now) {
            Some(next) => format!(
                "outside the change window{plural}; next opens at {}",
                env.format_time(next)
            ),
            None => format!("outside the change window{plural}, and none opens again"),
        });
    }
    if reasons.is_empty() {
        return GateVerdict::Open;
    }
    let until = ready_at.and_then(|at| {
        if env.in_window(at) {
            Some(at)
        } else {
            env.next_window_opening(at)
        }
    });
    GateVerdict::Waiting { reasons, until }
}

// ---------------------------------------------------------------------------
// Pending changes
// ---------------------------------------------------------------------------

/// One image's tag change in a write-back commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageChange {
    /// The image repository (`ghcr.io/acme/app`).
    pub image: String,
    /// The tag before the commit, if there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_tag: Option<String>,
    /// The tag the commit wrote.
    pub new_tag: String,
}

/// Who approved a change, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Approval {
    /// The approver.
    pub by: String,
    /// When.
    #[serde(with = "time_text")]
    pub at: DateTime<Utc>,
}

/// Where a pending change stands. `pending`, `gated` and `approved` are open
/// (the change may still be synced); the others are final.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "phase",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum ChangeState {
    /// Recorded; waiting for approval or for the next evaluation.
    Pending,
    /// A gate or a hold is closed.
    Gated {
        /// Why, one line per closed gate.
        reasons: Vec<String>,
        /// The earliest time the gates could open, if known.
        #[serde(default, with = "time_text_opt")]
        until: Option<DateTime<Utc>>,
        /// The approval given before the gate closed, kept for when it opens.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        approval: Option<Approval>,
    },
    /// Approved; synced once the gates are open.
    Approved {
        /// The approver.
        by: String,
        /// When.
        #[serde(with = "time_text")]
        at: DateTime<Utc>,
    },
    /// Rejected; never synced.
    Rejected {
        /// Who rejected it.
        by: String,
        /// When.
        #[serde(with = "time_text")]
        at: DateTime<Utc>,
        /// Why.
        reason: String,
    },
    /// Argo CD was asked to sync it.
    Synced {
        /// When the sync was requested.
        #[serde(with = "time_text")]
        at: DateTime<Utc>,
        /// When the application was first seen Healthy afterwards.
        #[serde(default, with = "time_text_opt")]
        healthy_at: Option<DateTime<Utc>>,
        /// The approval it was synced on, if one was needed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        approval: Option<Approval>,
    },
    /// The sync failed.
    Failed {
        /// When.
        #[serde(with = "time_text")]
        at: DateTime<Utc>,
        /// What went wrong.
        message: String,
    },
    /// A newer commit of the same application replaced it.
    Superseded {
        /// The newer commit.
        by_commit: String,
        /// When it was superseded.
        #[serde(with = "time_text")]
        at: DateTime<Utc>,
    },
}

impl ChangeState {
    /// The phase name as stored (`pending`, `gated`, …).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Gated { .. } => "gated",
            Self::Approved { .. } => "approved",
            Self::Rejected { .. } => "rejected",
            Self::Synced { .. } => "synced",
            Self::Failed { .. } => "failed",
            Self::Superseded { .. } => "superseded",
        }
    }

    /// Whether the change may still be synced (pending, gated or approved).
    pub fn is_open(&self) -> bool {
        matches!(
            self,
            Self::Pending | Self::Gated { .. } | Self::Approved { .. }
        )
    }

    /// The approval given, if any (approved, or gated or synced after one).
    pub fn approval(&self) -> Option<Approval> {
        match self {
            Self::Approved { by, at } => Some(Approval {
                by: by.clone(),
                at: *at,
            }),
            Self::Gated { approval, .. } | Self::Synced { approval, .. } => approval.clone(),
            _ => None,
        }
    }
}

/// A state change that is not allowed (approving a synced change…).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{key} is {state}: cannot {action}{}", hint_suffix(.hint))]
pub struct TransitionError {
    /// The change's key.
    pub key: String,
    /// Its phase.
    pub state: &'static str,
    /// What was attempted (`approve`, `reject`, …).
    pub action: &'static str,
    /// What to do instead, if anything.
    pub hint: String,
}

fn hint_suffix(hint: &str) -> String {
    if hint.is_empty() {
        String::new()
    } else {
        format!(" ({hint})")
    }
}

/// A write-back commit awaiting (or past) promotion: one per application and
/// commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingChange {
    /// `namespace/name` of the Argo CD Application (`argocd/demo-app-staging`).
    pub application: String,
    /// The environment, when known (else found from the application).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The deployment repository's URL.
    pub repo_url: String,
    /// The branch the commit was pushed to.
    pub branch: String,
    /// The write-back commit (hex revision).
    pub commit: String,
    /// The tags the commit changed.
    pub changes: Vec<ImageChange>,
    /// When write-back made the commit (from the write-back result, not the
    /// time it was recorded, so that a re-delivered result keeps its order).
    #[serde(with = "time_text")]
    pub created_at: DateTime<Utc>,
    /// Where it stands.
    pub state: ChangeState,
}

impl PendingChange {
    /// A new change in state `pending`.
    pub fn new(
        application: &str,
        repo_url: &str,
        branch: &str,
        commit: &str,
        changes: Vec<ImageChange>,
        created_at: DateTime<Utc>,
    ) -> Self {
        Self {
            application: application.to_owned(),
            environment: None,
            repo_url: repo_url.to_owned(),
            branch: branch.to_owned(),
            commit: commit.to_owned(),
            changes,
            created_at,
            state: ChangeState::Pending,
        }
    }

    /// The idempotency key: `<application>@<commit>`
    /// (`argocd/demo-app-staging@3f2c…`). A re-delivered write-back result
    /// has the same key.
    pub fn key(&self) -> String {
        format!("{}@{}", self.application, self.commit)
    }

    fn refuse(&self, action: &'static str, hint: &str) -> TransitionError {
        TransitionError {
            key: self.key(),
            state: self.state.name(),
            action,
            hint: hint.to_owned(),
        }
    }

    /// Approves an open change. Approving an approved change again is
    /// refused (it names the first approver).
    pub fn approve(&mut self, by: &str, now: DateTime<Utc>) -> Result<(), TransitionError> {
        if let Some(approval) = self.state.approval()
            && self.state.is_open()
        {
            return Err(self.refuse(
                "approve",
                &format!(
                    "already approved by {} at {}",
                    approval.by,
                    approval.at.to_rfc3339_opts(SecondsFormat::Secs, true)
                ),
            ));
        }
        if !self.state.is_open() {
            return Err(self.refuse("approve", "only pending or gated changes can be approved"));
        }
        self.state = ChangeState::Approved {
            by: by.to_owned(),
            at: now,
        };
        Ok(())
    }

    /// Rejects an open change.
    pub fn reject(
        &mut self,
        by: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), TransitionError> {
        if !self.state.is_open() {
            return Err(self.refuse(
                "reject",
                "only pending, gated or approved changes can be rejected; to undo a synced change use rollback",
            ));
        }
        self.state = ChangeState::Rejected {
            by: by.to_owned(),
            at: now,
            reason: reason.to_owned(),
        };
        Ok(())
    }

    /// Records a gate verdict on an open change: `waiting` → `gated`
    /// (keeping an approval), `open` → back to `approved` or `pending`.
    pub fn apply_verdict(&mut self, verdict: &GateVerdict) -> Result<(), TransitionError> {
        if !self.state.is_open() {
            return Err(self.refuse("apply a gate verdict", ""));
        }
        let approval = self.state.approval();
        self.state = match verdict {
            GateVerdict::Waiting { reasons, until } => ChangeState::Gated {
                reasons: reasons.clone(),
                until: *until,
                approval,
            },
            GateVerdict::Open => match approval {
                Some(Approval { by, at }) => ChangeState::Approved { by, at },
                None => ChangeState::Pending,
            },
        };
        Ok(())
    }

    /// Records that a sync was requested.
    pub fn mark_synced(&mut self, now: DateTime<Utc>) -> Result<(), TransitionError> {
        if !self.state.is_open() {
            return Err(self.refuse("sync", ""));
        }
        self.state = ChangeState::Synced {
            at: now,
            healthy_at: None,
            approval: self.state.approval(),
        };
        Ok(())
    }

    /// Records the first time the application was Healthy after the sync
    /// (kept if already set).
    pub fn mark_healthy(&mut self, now: DateTime<Utc>) -> Result<(), TransitionError> {
        match &mut self.state {
            ChangeState::Synced { healthy_at, .. } => {
                healthy_at.get_or_insert(now);
                Ok(())
            }
            _ => Err(self.refuse("mark healthy", "only synced changes become healthy")),
        }
    }

    /// Records that the sync failed (from an open or synced change).
    pub fn mark_failed(
        &mut self,
        message: &str,
        now: DateTime<Utc>,
    ) -> Result<(), TransitionError> {
        if !(self.state.is_open() || matches!(self.state, ChangeState::Synced { .. })) {
            return Err(self.refuse("mark failed", ""));
        }
        self.state = ChangeState::Failed {
            at: now,
            message: message.to_owned(),
        };
        Ok(())
    }
}

/// Marks as `superseded` every open change of `newer`'s application with
/// another commit and a `created_at` not after `newer`'s. Approved changes
/// are superseded too: Argo CD syncs the branch head, so an approval of an
/// older commit does not cover a newer one. Returns the superseded keys.
pub fn supersede(
    existing: &mut [PendingChange],
    newer: &PendingChange,
    now: DateTime<Utc>,
) -> Vec<String> {
    let mut superseded = Vec::new();
    for change in existing.iter_mut() {
        if change.application == newer.application
            && change.commit != newer.commit
            && change.created_at <= newer.created_at
            && change.state.is_open()
        {
            change.state = ChangeState::Superseded {
                by_commit: newer.commit.clone(),
                at: now,
            };
            superseded.push(change.key());
        }
    }
    superseded
}

/// What [`record`] did with a write-back result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordOutcome {
    /// Added; these older open changes were superseded.
    Added {
        /// Keys of the changes it superseded.
        superseded: Vec<String>,
    },
    /// A change with the same key exists: nothing was changed.
    Duplicate,
    /// A newer commit of the application is already recorded: added as
    /// `superseded` by it, so that it is never synced.
    Stale {
        /// The newer commit.
        superseded_by: String,
    },
}

/// Adds `change` to the ledger of pending changes, idempotently: a change
/// whose key is present is ignored; an older commit than one already
/// recorded for the application (by `created_at`, any state) is added as
/// superseded; otherwise it is added and supersedes the older open ones.
pub fn record(
    ledger: &mut Vec<PendingChange>,
    mut change: PendingChange,
    now: DateTime<Utc>,
) -> RecordOutcome {
    let key = change.key();
    if ledger.iter().any(|c| c.key() == key) {
        return RecordOutcome::Duplicate;
    }
    let newest = ledger
        .iter()
        .filter(|c| c.application == change.application && c.created_at > change.created_at)
        .max_by_key(|c| c.created_at);
    if let Some(newest) = newest {
        let superseded_by = newest.commit.clone();
        change.state = ChangeState::Superseded {
            by_commit: superseded_by.clone(),
            at: now,
        };
        ledger.push(change);
        return RecordOutcome::Stale { superseded_by };
    }
    let superseded = supersede(ledger, &change, now);
    ledger.push(change);
    RecordOutcome::Added { superseded }
}

// ---------------------------------------------------------------------------
// Holds
// ---------------------------------------------------------------------------

/// A tag an image is pinned to by a hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PinnedTag {
    /// The image repository.
    pub image: String,
    /// The tag it stays on.
    pub tag: String,
}

/// A hold on an application: it does not move forward until released.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hold {
    /// `namespace/name` of the application.
    pub application: String,
    /// The tags the application stays on.
    pub pinned: Vec<PinnedTag>,
    /// Why (`rollback to ghcr.io/acme/app:1.0.0 by alice`, `manual revert
    /// detected in commit abc1234: …`).
    pub reason: String,
    /// Who placed it (`updraft` for a detected revert).
    pub by: String,
    /// When.
    #[serde(with = "time_text")]
    pub at: DateTime<Utc>,
    /// The commit that caused it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

/// The actor of holds Updraft places itself.
pub const UPDRAFT_ACTOR: &str = "updraft";

impl Hold {
    /// The hold `updraft rollback` places: the application is pinned to
    /// `pinned` until released.
    pub fn rollback(
        application: &str,
        pinned: Vec<PinnedTag>,
        by: &str,
        now: DateTime<Utc>,
    ) -> Self {
        let tags: Vec<String> = pinned
            .iter()
            .map(|p| format!("{}:{}", p.image, p.tag))
            .collect();
        Self {
            application: application.to_owned(),
            reason: format!("rollback to {} by {by}", tags.join(", ")),
            pinned,
            by: by.to_owned(),
            at: now,
            commit: None,
        }
    }

    /// The tag `image` is pinned to.
    pub fn pinned_tag(&self, image: &str) -> Option<&str> {
        self.pinned
            .iter()
            .find(|p| p.image == image)
            .map(|p| p.tag.as_str())
    }

    /// Why `change` may not go ahead, or `None` if it may. A held application
    /// never moves forward: every change of it is blocked except one that
    /// only sets images to their pinned tags (the rollback itself). Other
    /// applications are not affected.
    pub fn blocks(&self, change: &PendingChange) -> Option<String> {
        if change.application != self.application {
            return None;
        }
        let restores_pins = !change.changes.is_empty()
            && change
                .changes
                .iter()
                .all(|c| self.pinned_tag(&c.image) == Some(c.new_tag.as_str()));
        if restores_pins {
            return None;
        }
        Some(format!(
            "{} is held since {} ({}); release the hold to let updates through",
            self.application,
            self.at.to_rfc3339_opts(SecondsFormat::Secs, true),
            self.reason
        ))
    }
}

/// One tag Updraft wrote for an application's image (the write-back ledger).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WrittenTag {
    /// The image repository.
    pub image: String,
    /// The tag written.
    pub tag: String,
    /// When.
    #[serde(with = "time_text")]
    pub at: DateTime<Utc>,
}

/// Detects a manual revert of `image` in `application` and suggests a hold.
///
/// The rule: take the tags Updraft wrote for `image` (`written`, any order),
/// the latest by time being what git should hold. If git now holds
/// (`current_tag`) a tag Updraft wrote *earlier* and that differs from the
/// latest one, someone put it back by hand: the application is held on that
/// tag so that Updraft does not undo the revert. A tag Updraft never wrote
/// (a manual edit forward, or the initial value), the latest written tag, or
/// no tag at all is not a revert. `commit` is the commit where git was read.
pub fn detect_manual_revert(
    application: &str,
    image: &str,
    written: &[WrittenTag],
    current_tag: Option<&str>,
    commit: Option<&str>,
    now: DateTime<Utc>,
) -> Option<Hold> {
    let current = current_tag?;
    let mine: Vec<&WrittenTag> = written.iter().filter(|w| w.image == image).collect();
    let latest = mine.iter().max_by_key(|w| w.at)?;
    if latest.tag == current || !mine.iter().any(|w| w.tag == current) {
        return None;
    }
    let place = match commit {
        Some(commit) => format!(" in commit {}", commit.chars().take(7).collect::<String>()),
        None => String::new(),
    };
    Some(Hold {
        application: application.to_owned(),
        pinned: vec![PinnedTag {
            image: image.to_owned(),
            tag: current.to_owned(),
        }],
        reason: format!(
            "manual revert detected{place}: {image} is at {current} in git, but Updraft last wrote {}",
            latest.tag
        ),
        by: UPDRAFT_ACTOR.to_owned(),
        at: now,
        commit: commit.map(str::to_owned),
    })
}

// ---------------------------------------------------------------------------
// The sync decision
// ---------------------------------------------------------------------------

/// What `sync-trigger` should do with a change now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "decision",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum SyncDecision {
    /// Ask Argo CD to sync.
    Sync,
    /// The gates are open but an approval is needed.
    AwaitApproval,
    /// A gate is closed.
    Wait {
        /// One line per closed gate.
        reasons: Vec<String>,
        /// The earliest time the gates could open, if known.
        #[serde(default, with = "time_text_opt")]
        until: Option<DateTime<Utc>>,
        /// Whether an approval is also still needed.
        awaiting_approval: bool,
    },
    /// The application is held.
    Held {
        /// The hold's message.
        reason: String,
    },
    /// Nothing to do: the change is rejected, synced, failed or superseded.
    Done,
}

/// Decides what to do with `change` at `now`: final states are done; a hold
/// blocks before anything else; then the gates (`gates` `None`: none
/// configured); then the approval, if `approval_required` (a manual
/// environment).
pub fn decide(
    change: &PendingChange,
    gates: Option<&EnvironmentGates>,
    hold: Option<&Hold>,
    facts: &GateFacts,
    approval_required: bool,
    now: DateTime<Utc>,
) -> SyncDecision {
    if !change.state.is_open() {
        return SyncDecision::Done;
    }
    if let Some(reason) = hold.and_then(|h| h.blocks(change)) {
        return SyncDecision::Held { reason };
    }
    let awaiting_approval = approval_required && change.state.approval().is_none();
    if let Some(GateVerdict::Waiting { reasons, until }) =
        gates.map(|g| evaluate(g, change, facts, now))
    {
        return SyncDecision::Wait {
            reasons,
            until,
            awaiting_approval,
        };
    }
    if awaiting_approval {
        SyncDecision::AwaitApproval
    } else {
        SyncDecision::Sync
    }
}

// ---------------------------------------------------------------------------
// Audit
// ---------------------------------------------------------------------------

/// What an audit entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AuditAction {
    /// `updraft approve`.
    Approve,
    /// `updraft reject`.
    Reject,
    /// `updraft rollback` (places a hold).
    Rollback,
    /// `updraft release` (removes a hold).
    Release,
    /// A sync requested by `sync-trigger`.
    Sync,
    /// A tag promoted to the next environment.
    Promote,
    /// A hold Updraft placed itself (a detected manual revert).
    Hold,
}

/// How the audited action ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "status",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum AuditResult {
    /// It succeeded.
    Ok,
    /// It failed.
    Error {
        /// Why.
        message: String,
    },
}

/// One audit event, written once and never updated
/// (`v1/audit/<day>/<id>.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    /// When.
    #[serde(with = "time_text")]
    pub at: DateTime<Utc>,
    /// Who (a user, or `updraft`).
    pub actor: String,
    /// What.
    pub action: AuditAction,
    /// `namespace/name` of the application.
    pub application: String,
    /// The commit concerned, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Free text: the tags, the reason given.
    pub detail: String,
    /// How it ended.
    pub result: AuditResult,
}

impl AuditEntry {
    /// The UTC day of the entry, `yyyy-mm-dd` (its audit key's folder).
    pub fn day(&self) -> String {
        self.at.format("%Y-%m-%d").to_string()
    }
}

// ---------------------------------------------------------------------------
// Time text in JSON
// ---------------------------------------------------------------------------

/// `DateTime<Utc>` as RFC 3339 UTC text (`2025-01-08T02:30:00Z`).
mod time_text {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&at.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        parse(&text).map_err(serde::de::Error::custom)
    }

    pub fn parse(text: &str) -> Result<DateTime<Utc>, String> {
        DateTime::parse_from_rfc3339(text)
            .map(|at| at.with_timezone(&Utc))
            .map_err(|_| format!("`{text}` is not an RFC 3339 time (e.g. 2025-01-08T02:30:00Z)"))
    }
}

/// `Option<DateTime<Utc>>` as RFC 3339 UTC text or `null`.
mod time_text_opt {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(at: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => super::time_text::serialize(at, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| super::time_text::parse(&text).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    const IMAGE: &str = "ghcr.io/acme/app";

    const CONFIG: &str = r#"
promotion:
  environments:
    staging:
      applications: ["argocd/demo-app-staging"]
    production:
      applications: ["argocd/demo-app-prod", "argocd/prod-*"]
      after: staging
      soak: 30m
      min_release_age: 1h
      windows: ["0 0 9-17 * * Mon-Fri *"]
      time_zone: Asia/Shanghai
"#;

    #[derive(Deserialize)]
    struct File {
        promotion: PromotionConfig,
    }

    fn load(yaml: &str) -> Result<PromotionGates, GateConfigError> {
        serde_saphyr::from_str::<File>(yaml)
            .unwrap()
            .promotion
            .compile()
    }

    fn env(yaml_env: &str) -> EnvironmentGates {
        let config: EnvironmentConfig = serde_saphyr::from_str(yaml_env).unwrap();
        config.compile("production").unwrap()
    }

    fn env_error(yaml_env: &str) -> String {
        let config: EnvironmentConfig = serde_saphyr::from_str(yaml_env).unwrap();
        config.compile("production").unwrap_err().to_string()
    }

    fn change(app: &str, commit: &str, tag: &str, created_at: DateTime<Utc>) -> PendingChange {
        PendingChange::new(
            app,
            "https://git.example.com/deploy.git",
            "main",
            commit,
            vec![ImageChange {
                image: IMAGE.to_owned(),
                old_tag: Some("1.0.0".to_owned()),
                new_tag: tag.to_owned(),
            }],
            created_at,
        )
    }

    fn waiting(verdict: GateVerdict) -> (Vec<String>, Option<DateTime<Utc>>) {
        match verdict {
            GateVerdict::Waiting { reasons, until } => (reasons, until),
            GateVerdict::Open => panic!("expected waiting, got open"),
        }
    }

    #[test]
    fn durations_parse_units_and_combinations() {
        assert_eq!(parse_duration("30s"), Ok(TimeDelta::seconds(30)));
        assert_eq!(parse_duration("5m"), Ok(TimeDelta::minutes(5)));
        assert_eq!(parse_duration("1h"), Ok(TimeDelta::hours(1)));
        assert_eq!(parse_duration("2d"), Ok(TimeDelta::days(2)));
        assert_eq!(parse_duration(" 1h30m "), Ok(TimeDelta::minutes(90)));
        assert_eq!(parse_duration("1d2h3m4s"), Ok(TimeDelta::seconds(93_784)));
        assert_eq!(parse_duration("0s"), Ok(TimeDelta::zero()));
        assert_eq!(format_duration(TimeDelta::seconds(93_784)), "1d2h3m4s");
        assert_eq!(format_duration(TimeDelta::minutes(90)), "1h30m");
        assert_eq!(format_duration(TimeDelta::seconds(-5)), "0s");
    }

    #[test]
    fn duration_errors_say_how_to_fix() {
        let message = |text: &str| parse_duration(text).unwrap_err().to_string();
        assert_eq!(
            message(""),
            "is empty; write a duration such as 30s, 5m, 1h, 2d or 1h30m"
        );
        assert_eq!(
            message("30"),
            "\"30\" has no unit; write 30s, 30m, 30h or 30d"
        );
        assert_eq!(
            message("5min"),
            "\"5min\" has unknown unit \"min\"; use s, m, h or d (e.g. 1h30m)"
        );
        assert!(matches!(
            parse_duration("h"),
            Err(DurationError::MissingNumber { unit, .. }) if unit == "h"
        ));
        assert!(matches!(
            parse_duration("30m1h"),
            Err(DurationError::Order { .. })
        ));
        assert!(matches!(
            parse_duration("1h1h"),
            Err(DurationError::Order { .. })
        ));
        assert!(matches!(
            parse_duration("-5m"),
            Err(DurationError::Invalid { .. })
        ));
        assert!(matches!(
            parse_duration("1.5h"),
            Err(DurationError::Invalid { .. })
        ));
        assert!(matches!(
            parse_duration("3651d"),
            Err(DurationError::TooLong { .. })
        ));
        assert!(matches!(
            parse_duration("99999999999999999999s"),
            Err(DurationError::TooLong { .. })
        ));
    }

    #[test]
    fn config_yaml_compiles() {
        let gates = load(CONFIG).unwrap();
        let prod = gates.environment("production").unwrap();
        assert_eq!(prod.after.as_deref(), Some("staging"));
        assert_eq!(prod.soak, TimeDelta::minutes(30));
        assert_eq!(prod.min_release_age, Some(TimeDelta::hours(1)));
        assert_eq!(prod.window_length, DEFAULT_WINDOW_LENGTH);
        assert_eq!(prod.time_zone.local_minus_utc(), 8 * 3600);
        assert_eq!(prod.windows[0].expression(), "0 0 9-17 * * Mon-Fri *");
        let staging = gates.environment("staging").unwrap();
        assert_eq!(staging.soak, TimeDelta::zero());
        assert!(staging.windows.is_empty());

        assert_eq!(
            gates
                .environment_of("argocd/demo-app-prod")
                .map(|g| g.name.as_str()),
            Some("production")
        );
        assert_eq!(
            gates
                .environment_of("argocd/prod-payments")
                .map(|g| g.name.as_str()),
            Some("production")
        );
        assert_eq!(
            gates
                .environment_of("argocd/demo-app-staging")
                .map(|g| g.name.as_str()),
            Some("staging")
        );
        assert!(gates.environment_of("argocd/other").is_none());

        let mut tagged = change("argocd/other", "abc", "1.1.0", utc(2025, 1, 8, 0, 0));
        tagged.environment = Some("staging".to_owned());
        assert_eq!(
            gates.for_change(&tagged).map(|g| g.name.as_str()),
            Some("staging")
        );
    }

    #[test]
    fn config_errors_name_the_field_and_the_fix() {
        assert_eq!(
            env_error("after: staging\nsoak: 30"),
            "promotion.environments.production.soak: \"30\" has no unit; write 30s, 30m, 30h or 30d"
        );
        assert_eq!(
            env_error("soak: 30m"),
            "promotion.environments.production.soak: needs after: (the environment whose Healthy run is measured); add after: <environment> or remove soak:"
        );
        assert!(env_error("min_release_age: 1hour").starts_with(
            "promotion.environments.production.min_release_age: \"1hour\" has unknown unit"
        ));
        assert!(env_error("windows: [\"0 9-17 * * 1-5\"]").starts_with(
            "promotion.environments.production.windows[0]: \"0 9-17 * * 1-5\" has 5 fields (Unix cron)"
        ));
        assert!(
            env_error("windows: [\"0 0 9-17 * * 1-5 *\"]")
                .contains("write day names such as Mon-Fri")
        );
        assert!(
            env_error("windows: [\"0 0 25 * * Mon *\"]")
                .starts_with("promotion.environments.production.windows[0]: \"0 0 25 * * Mon *\" is not a cron expression")
        );
        assert!(
            env_error("time_zone: Europe/Berlin")
                .starts_with("promotion.environments.production.time_zone: \"Europe/Berlin\" is not a supported time zone")
        );
        assert_eq!(
            env_error("window_length: 2h"),
            "promotion.environments.production.window_length: has no effect without windows:; add windows: or remove window_length:"
        );
        assert!(env_error("applications: [\"argocd/*-prod\"]").starts_with(
            "promotion.environments.production.applications[0]: \"argocd/*-prod\" is not supported"
        ));

        let unknown = load("promotion:\n  environments:\n    production:\n      after: stagign\n")
            .unwrap_err();
        assert_eq!(unknown.field, "after");
        assert!(
            unknown
                .problem
                .starts_with("names stagign, which is not under promotion.environments")
        );
        let cycle =
            load("promotion:\n  environments:\n    a:\n      after: b\n    b:\n      after: a\n")
                .unwrap_err();
        assert!(cycle.problem.contains("cycle"), "{cycle}");
        let twice = load(
            "promotion:\n  environments:\n    a:\n      applications: [argocd/x]\n    b:\n      applications: [argocd/x]\n",
        )
        .unwrap_err();
        assert_eq!(
            twice.to_string(),
            "promotion.environments.b.applications: argocd/x is also listed under a; an application belongs to one environment"
        );
    }

    #[test]
    fn time_zones_accept_utc_offsets_and_fixed_zones() {
        for (text, seconds) in [
            ("UTC", 0),
            ("Z", 0),
            ("+08:00", 8 * 3600),
            ("-0530", -(5 * 3600 + 1800)),
            ("+09", 9 * 3600),
            ("asia/kolkata", 5 * 3600 + 1800),
        ] {
            assert_eq!(
                parse_time_zone(text).map(|z| z.local_minus_utc()),
                Ok(seconds),
                "{text}"
            );
        }
        // Unquoted in YAML, an offset still reaches the parser as text.
        assert_eq!(
            env("time_zone: +08:00").time_zone.local_minus_utc(),
            8 * 3600
        );
        assert!(parse_time_zone("+8:00").is_err());
        assert!(
            parse_time_zone("+15:00")
                .unwrap_err()
                .contains("out of range")
        );
        assert!(
            parse_time_zone("America/New_York")
                .unwrap_err()
                .contains("write the offset in force")
        );
    }

    #[test]
    fn soak_not_reached_waits_until_it_is() {
        let gates = env("after: staging\nsoak: 30m");
        let now = utc(2025, 1, 8, 10, 12);
        let facts = GateFacts::default().with_healthy_since(IMAGE, "1.2.0", utc(2025, 1, 8, 10, 0));
        let (reasons, until) = waiting(evaluate(
            &gates,
            &change("argocd/demo-app-prod", "c1", "1.2.0", now),
            &facts,
            now,
        ));
        assert_eq!(
            reasons,
            vec!["staging has run ghcr.io/acme/app:1.2.0 Healthy for 12m of the 30m soak"]
        );
        assert_eq!(until, Some(utc(2025, 1, 8, 10, 30)));
    }

    #[test]
    fn soak_reached_opens() {
        let gates = env("after: staging\nsoak: 30m");
        let facts = GateFacts::default().with_healthy_since(IMAGE, "1.2.0", utc(2025, 1, 8, 10, 0));
        let c = change("argocd/demo-app-prod", "c1", "1.2.0", utc(2025, 1, 8, 9, 0));
        assert_eq!(
            evaluate(&gates, &c, &facts, utc(2025, 1, 8, 10, 30)),
            GateVerdict::Open
        );
        // Without soak, having run Healthy is enough.
        let no_soak = env("after: staging");
        assert!(evaluate(&no_soak, &c, &facts, utc(2025, 1, 8, 10, 0)).is_open());
    }

    #[test]
    fn tag_not_run_in_the_after_environment_waits_without_end() {
        let gates = env("after: staging\nsoak: 30m");
        let now = utc(2025, 1, 8, 10, 0);
        // Staging runs another tag only.
        let facts = GateFacts::default().with_healthy_since(IMAGE, "1.1.0", utc(2025, 1, 1, 0, 0));
        let (reasons, until) = waiting(evaluate(
            &gates,
            &change("argocd/demo-app-prod", "c1", "1.2.0", now),
            &facts,
            now,
        ));
        assert_eq!(
            reasons,
            vec!["staging has not run ghcr.io/acme/app:1.2.0 Synced and Healthy yet"]
        );
        assert_eq!(until, None);
    }

    #[test]
    fn min_release_age_waits_for_the_first_seen_ledger() {
        let gates = env("min_release_age: 1h");
        let now = utc(2025, 1, 8, 10, 20);
        let c = change("argocd/demo-app-prod", "c1", "1.2.0", now);
        let young = GateFacts::default().with_first_seen(IMAGE, "1.2.0", utc(2025, 1, 8, 10, 0));
        let (reasons, until) = waiting(evaluate(&gates, &c, &young, now));
        assert_eq!(
            reasons,
            vec!["ghcr.io/acme/app:1.2.0 was first seen 20m ago; min_release_age is 1h"]
        );
        assert_eq!(until, Some(utc(2025, 1, 8, 11, 0)));
        assert!(evaluate(&gates, &c, &young, utc(2025, 1, 8, 11, 0)).is_open());

        let (reasons, until) = waiting(evaluate(&gates, &c, &GateFacts::default(), now));
        assert_eq!(
            reasons,
            vec![
                "ghcr.io/acme/app:1.2.0 has no first-seen time yet, so its min_release_age of 1h cannot be checked"
            ]
        );
        assert_eq!(until, None);
    }

    #[test]
    fn inside_the_window_is_open() {
        let gates = env("windows: [\"0 0 9-17 * * Mon-Fri *\"]\ntime_zone: \"+08:00\"");
        // Wednesday 2025-01-08 10:30 +08:00 and 17:59 +08:00 (the 17:00 window lasts 1h).
        assert!(gates.in_window(utc(2025, 1, 8, 2, 30)));
        assert!(gates.in_window(utc(2025, 1, 8, 9, 59)));
        // 09:00 sharp opens it.
        assert!(gates.in_window(utc(2025, 1, 8, 1, 0)));
        let c = change("argocd/demo-app-prod", "c1", "1.2.0", utc(2025, 1, 8, 0, 0));
        assert!(evaluate(&gates, &c, &GateFacts::default(), utc(2025, 1, 8, 2, 30)).is_open());
    }

    #[test]
    fn outside_the_window_names_the_next_opening() {
        let gates = env("windows: [\"0 0 9-17 * * Mon-Fri *\"]\ntime_zone: Asia/Shanghai");
        let c = change("argocd/demo-app-prod", "c1", "1.2.0", utc(2025, 1, 8, 0, 0));
        // Saturday 2025-01-11 12:00 +08:00 → Monday 2025-01-13 09:00 +08:00.
        let (reasons, until) = waiting(evaluate(
            &gates,
            &c,
            &GateFacts::default(),
            utc(2025, 1, 11, 4, 0),
        ));
        assert_eq!(
            reasons,
            vec!["outside the change window; next opens at 2025-01-13 09:00 +08:00"]
        );
        assert_eq!(until, Some(utc(2025, 1, 13, 1, 0)));
        // Wednesday 18:00 +08:00: the 17:00 window has just closed.
        assert!(!gates.in_window(utc(2025, 1, 8, 10, 0)));
        assert_eq!(
            gates.next_window_opening(utc(2025, 1, 8, 10, 0)),
            Some(utc(2025, 1, 9, 1, 0))
        );
    }

    #[test]
    fn window_length_and_utc_formatting() {
        let gates = env("windows: [\"0 0 22 * * * *\"]\nwindow_length: 30m");
        assert!(gates.in_window(utc(2025, 1, 8, 22, 29)));
        assert!(!gates.in_window(utc(2025, 1, 8, 22, 30)));
        assert_eq!(
            gates.format_time(utc(2025, 1, 8, 22, 0)),
            "2025-01-08 22:00 UTC"
        );
        let (reasons, _) = waiting(evaluate(
            &gates,
            &change("argocd/demo-app-prod", "c1", "1.2.0", utc(2025, 1, 8, 0, 0)),
            &GateFacts::default(),
            utc(2025, 1, 8, 23, 0),
        ));
        assert_eq!(
            reasons,
            vec!["outside the change window; next opens at 2025-01-09 22:00 UTC"]
        );
    }

    #[test]
    fn multiple_reasons_and_until_lands_in_a_window() {
        let gates = load(CONFIG).unwrap();
        let prod = gates.environment("production").unwrap();
        // Wednesday 2025-01-08 17:40 +08:00 (09:40 UTC): inside the 17:00 window.
        let now = utc(2025, 1, 8, 9, 40);
        let facts = GateFacts::default()
            .with_first_seen(IMAGE, "1.2.0", utc(2025, 1, 8, 9, 0))
            .with_healthy_since(IMAGE, "1.2.0", utc(2025, 1, 8, 9, 30));
        let c = change("argocd/demo-app-prod", "c1", "1.2.0", now);
        let (reasons, until) = waiting(evaluate(prod, &c, &facts, now));
        assert_eq!(
            reasons,
            vec![
                "ghcr.io/acme/app:1.2.0 was first seen 40m ago; min_release_age is 1h",
                "staging has run ghcr.io/acme/app:1.2.0 Healthy for 10m of the 30m soak",
            ]
        );
        // Both gates open at 10:00 UTC = 18:00 +08:00, when the window has
        // closed: the next window is Thursday 09:00 +08:00.
        assert_eq!(until, Some(utc(2025, 1, 9, 1, 0)));

        // Saturday: three reasons.
        let saturday = utc(2025, 1, 11, 4, 0);
        let (reasons, _) = waiting(evaluate(prod, &c, &GateFacts::default(), saturday));
        assert_eq!(reasons.len(), 3);
        assert!(
            reasons[2]
                .starts_with("outside the change window; next opens at 2025-01-13 09:00 +08:00")
        );
    }

    #[test]
    fn multi_image_changes_are_gated_per_image() {
        let gates = env("min_release_age: 1h");
        let now = utc(2025, 1, 8, 12, 0);
        let mut c = change("argocd/demo-app-prod", "c1", "1.2.0", now);
        c.changes.push(ImageChange {
            image: "ghcr.io/acme/sidecar".to_owned(),
            old_tag: None,
            new_tag: "2.0".to_owned(),
        });
        let facts = GateFacts::default()
            .with_first_seen(IMAGE, "1.2.0", utc(2025, 1, 8, 9, 0))
            .with_first_seen("ghcr.io/acme/sidecar", "2.0", utc(2025, 1, 8, 11, 45));
        let (reasons, until) = waiting(evaluate(&gates, &c, &facts, now));
        assert_eq!(
            reasons,
            vec!["ghcr.io/acme/sidecar:2.0 was first seen 15m ago; min_release_age is 1h"]
        );
        assert_eq!(until, Some(utc(2025, 1, 8, 12, 45)));
    }

    #[test]
    fn pending_key_makes_recording_idempotent() {
        let mut ledger = Vec::new();
        let at = utc(2025, 1, 8, 10, 0);
        let first = change("argocd/demo-app-staging", "3f2c9a1", "1.2.0", at);
        assert_eq!(first.key(), "argocd/demo-app-staging@3f2c9a1");
        assert_eq!(
            record(&mut ledger, first.clone(), at),
            RecordOutcome::Added { superseded: vec![] }
        );
        // The same write-back result delivered again.
        assert_eq!(
            record(&mut ledger, first, utc(2025, 1, 8, 10, 5)),
            RecordOutcome::Duplicate
        );
        assert_eq!(ledger.len(), 1);
        assert_eq!(ledger[0].state, ChangeState::Pending);
    }

    #[test]
    fn newer_commit_supersedes_open_changes_only() {
        let app = "argocd/demo-app-prod";
        let now = utc(2025, 1, 8, 12, 0);
        let mut synced = change(app, "c0", "1.0.0", utc(2025, 1, 8, 9, 0));
        synced.state = ChangeState::Synced {
            at: utc(2025, 1, 8, 9, 5),
            healthy_at: None,
            approval: None,
        };
        let pending = change(app, "c1", "1.1.0", utc(2025, 1, 8, 10, 0));
        let mut approved = change(app, "c2", "1.1.1", utc(2025, 1, 8, 10, 30));
        approved.approve("alice", utc(2025, 1, 8, 10, 40)).unwrap();
        let other_app = change(
            "argocd/demo-app-staging",
            "s1",
            "1.1.0",
            utc(2025, 1, 8, 10, 0),
        );
        let mut ledger = vec![synced, pending, approved, other_app];

        let outcome = record(
            &mut ledger,
            change(app, "c3", "1.2.0", utc(2025, 1, 8, 11, 0)),
            now,
        );
        assert_eq!(
            outcome,
            RecordOutcome::Added {
                superseded: vec![format!("{app}@c1"), format!("{app}@c2")]
            }
        );
        assert_eq!(ledger[0].state.name(), "synced");
        assert_eq!(
            ledger[1].state,
            ChangeState::Superseded {
                by_commit: "c3".to_owned(),
                at: now
            }
        );
        assert_eq!(ledger[2].state.name(), "superseded");
        assert_eq!(ledger[3].state, ChangeState::Pending);
        assert_eq!(ledger[4].state, ChangeState::Pending);

        // An older commit delivered late never becomes pending.
        let late = record(
            &mut ledger,
            change(app, "cx", "1.0.5", utc(2025, 1, 8, 9, 30)),
            now,
        );
        assert_eq!(
            late,
            RecordOutcome::Stale {
                superseded_by: "c3".to_owned()
            }
        );
        assert_eq!(ledger[5].state.name(), "superseded");
        assert_eq!(ledger[4].state, ChangeState::Pending);
    }

    #[test]
    fn transitions_keep_approvals_and_refuse_final_states() {
        let mut c = change("argocd/demo-app-prod", "c1", "1.2.0", utc(2025, 1, 8, 9, 0));
        c.approve("alice", utc(2025, 1, 8, 9, 10)).unwrap();
        let again = c.approve("bob", utc(2025, 1, 8, 9, 11)).unwrap_err();
        assert_eq!(
            again.to_string(),
            "argocd/demo-app-prod@c1 is approved: cannot approve (already approved by alice at 2025-01-08T09:10:00Z)"
        );
        c.apply_verdict(&GateVerdict::Waiting {
            reasons: vec!["outside the change window".to_owned()],
            until: Some(utc(2025, 1, 9, 1, 0)),
        })
        .unwrap();
        assert_eq!(c.state.name(), "gated");
        assert_eq!(c.state.approval().map(|a| a.by), Some("alice".to_owned()));
        c.apply_verdict(&GateVerdict::Open).unwrap();
        assert_eq!(
            c.state,
            ChangeState::Approved {
                by: "alice".to_owned(),
                at: utc(2025, 1, 8, 9, 10)
            }
        );
        c.mark_synced(utc(2025, 1, 9, 1, 0)).unwrap();
        c.mark_healthy(utc(2025, 1, 9, 1, 3)).unwrap();
        c.mark_healthy(utc(2025, 1, 9, 1, 9)).unwrap();
        assert!(matches!(
            &c.state,
            ChangeState::Synced { healthy_at: Some(h), approval: Some(a), .. }
                if *h == utc(2025, 1, 9, 1, 3) && a.by == "alice"
        ));
        let reject = c
            .reject("bob", "too late", utc(2025, 1, 9, 2, 0))
            .unwrap_err();
        assert_eq!(reject.state, "synced");
        assert!(reject.to_string().contains("use rollback"));

        let mut rejected = change("argocd/demo-app-prod", "c2", "1.3.0", utc(2025, 1, 8, 9, 0));
        rejected
            .reject("bob", "bad build", utc(2025, 1, 8, 9, 5))
            .unwrap();
        assert!(rejected.approve("alice", utc(2025, 1, 8, 9, 6)).is_err());
        assert!(rejected.mark_synced(utc(2025, 1, 8, 9, 6)).is_err());
    }

    #[test]
    fn pending_change_json_shape() {
        let mut c = change("argocd/demo-app-prod", "c1", "1.2.0", utc(2025, 1, 8, 9, 0));
        c.apply_verdict(&GateVerdict::Waiting {
            reasons: vec!["outside the change window".to_owned()],
            until: Some(utc(2025, 1, 9, 1, 0)),
        })
        .unwrap();
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "application": "argocd/demo-app-prod",
                "repoUrl": "https://git.example.com/deploy.git",
                "branch": "main",
                "commit": "c1",
                "changes": [{"image": IMAGE, "oldTag": "1.0.0", "newTag": "1.2.0"}],
                "createdAt": "2025-01-08T09:00:00Z",
                "state": {
                    "phase": "gated",
                    "reasons": ["outside the change window"],
                    "until": "2025-01-09T01:00:00Z"
                }
            })
        );
        let back: PendingChange = serde_json::from_value(json).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn manual_revert_to_an_earlier_written_tag_suggests_a_hold() {
        let written = vec![
            WrittenTag {
                image: IMAGE.to_owned(),
                tag: "1.1.0".to_owned(),
                at: utc(2025, 1, 9, 0, 0),
            },
            WrittenTag {
                image: IMAGE.to_owned(),
                tag: "1.0.0".to_owned(),
                at: utc(2025, 1, 8, 0, 0),
            },
            WrittenTag {
                image: "ghcr.io/acme/sidecar".to_owned(),
                tag: "0.9".to_owned(),
                at: utc(2025, 1, 10, 0, 0),
            },
        ];
        let now = utc(2025, 1, 10, 8, 0);
        let app = "argocd/demo-app-prod";
        let hold =
            detect_manual_revert(app, IMAGE, &written, Some("1.0.0"), Some("abc1234def"), now)
                .unwrap();
        assert_eq!(
            hold.reason,
            "manual revert detected in commit abc1234: ghcr.io/acme/app is at 1.0.0 in git, but Updraft last wrote 1.1.0"
        );
        assert_eq!(
            hold.pinned,
            vec![PinnedTag {
                image: IMAGE.to_owned(),
                tag: "1.0.0".to_owned()
            }]
        );
        assert_eq!(hold.by, "updraft");
        assert_eq!(hold.commit.as_deref(), Some("abc1234def"));
        // The latest written tag, a tag never written, or none: no revert.
        assert_eq!(
            detect_manual_revert(app, IMAGE, &written, Some("1.1.0"), None, now),
            None
        );
        assert_eq!(
            detect_manual_revert(app, IMAGE, &written, Some("1.0.9"), None, now),
            None
        );
        assert_eq!(
            detect_manual_revert(app, IMAGE, &written, None, None, now),
            None
        );
        assert_eq!(
            detect_manual_revert(app, IMAGE, &[], Some("1.0.0"), None, now),
            None
        );
    }

    #[test]
    fn hold_blocks_forward_changes_of_its_application_only() {
        let now = utc(2025, 1, 10, 8, 0);
        let hold = Hold::rollback(
            "argocd/demo-app-prod",
            vec![PinnedTag {
                image: IMAGE.to_owned(),
                tag: "1.0.0".to_owned(),
            }],
            "alice",
            now,
        );
        assert_eq!(hold.reason, "rollback to ghcr.io/acme/app:1.0.0 by alice");
        let forward = change("argocd/demo-app-prod", "c9", "1.2.0", now);
        assert_eq!(
            hold.blocks(&forward).as_deref(),
            Some(
                "argocd/demo-app-prod is held since 2025-01-10T08:00:00Z (rollback to ghcr.io/acme/app:1.0.0 by alice); release the hold to let updates through"
            )
        );
        let rollback = change("argocd/demo-app-prod", "c10", "1.0.0", now);
        assert_eq!(hold.blocks(&rollback), None);
        let other = change("argocd/demo-app-staging", "s9", "1.2.0", now);
        assert_eq!(hold.blocks(&other), None);

        let facts = GateFacts::default();
        assert!(matches!(
            decide(&forward, None, Some(&hold), &facts, false, now),
            SyncDecision::Held { .. }
        ));
        assert_eq!(
            decide(&rollback, None, Some(&hold), &facts, false, now),
            SyncDecision::Sync
        );
    }

    #[test]
    fn decide_combines_gates_and_approval() {
        let gates = env("min_release_age: 1h");
        let now = utc(2025, 1, 8, 12, 0);
        let mut c = change("argocd/demo-app-prod", "c1", "1.2.0", now);
        let young = GateFacts::default().with_first_seen(IMAGE, "1.2.0", utc(2025, 1, 8, 11, 30));
        let old = GateFacts::default().with_first_seen(IMAGE, "1.2.0", utc(2025, 1, 8, 9, 0));
        assert_eq!(
            decide(&c, Some(&gates), None, &young, true, now),
            SyncDecision::Wait {
                reasons: vec![
                    "ghcr.io/acme/app:1.2.0 was first seen 30m ago; min_release_age is 1h"
                        .to_owned()
                ],
                until: Some(utc(2025, 1, 8, 12, 30)),
                awaiting_approval: true,
            }
        );
        assert_eq!(
            decide(&c, Some(&gates), None, &old, true, now),
            SyncDecision::AwaitApproval
        );
        assert_eq!(
            decide(&c, Some(&gates), None, &old, false, now),
            SyncDecision::Sync
        );
        c.approve("alice", now).unwrap();
        assert_eq!(
            decide(&c, Some(&gates), None, &old, true, now),
            SyncDecision::Sync
        );
        c.mark_synced(now).unwrap();
        assert_eq!(
            decide(&c, Some(&gates), None, &old, true, now),
            SyncDecision::Done
        );
    }

    #[test]
    fn audit_entry_json_shape() {
        let entry = AuditEntry {
            at: utc(2025, 1, 8, 9, 0),
            actor: "alice".to_owned(),
            action: AuditAction::Approve,
            application: "argocd/demo-app-prod".to_owned(),
            commit: Some("c1".to_owned()),
            detail: "ghcr.io/acme/app 1.0.0 → 1.2.0".to_owned(),
            result: AuditResult::Error {
                message: "already synced".to_owned(),
            },
        };
        assert_eq!(entry.day(), "2025-01-08");
        let json = serde_json::to_value(&entry).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "at": "2025-01-08T09:00:00Z",
                "actor": "alice",
                "action": "approve",
                "application": "argocd/demo-app-prod",
                "commit": "c1",
                "detail": "ghcr.io/acme/app 1.0.0 → 1.2.0",
                "result": {"status": "error", "message": "already synced"}
            })
        );
        assert_eq!(serde_json::from_value::<AuditEntry>(json).unwrap(), entry);
        assert_eq!(
            serde_json::to_value(AuditResult::Ok).unwrap(),
            serde_json::json!({"status": "ok"})
        );
    }
}
