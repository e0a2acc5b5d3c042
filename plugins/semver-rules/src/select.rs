//! Image Updater's `semver` strategy: the highest tag that satisfies a constraint.

use std::cmp::Ordering;
use std::fmt;

use crate::constraint::{Constraint, ConstraintError};
use crate::version::Version;

/// The outcome of [`select`].
#[derive(Debug, Clone)]
pub struct Selection<'a> {
    /// The winning tag, as given.
    pub tag: Option<&'a str>,
    /// The winning tag's version.
    pub version: Option<Version<'a>>,
    /// The constraint that was applied (`*` when none was given).
    pub constraint: String,
    /// Tags refused for a reason of their own, in input order.
    pub rejected: Vec<Rejection<'a>>,
}

/// A tag that could not win, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejection<'a> {
    /// The tag as given.
    pub tag: &'a str,
    /// Why it was refused.
    pub kind: RejectionKind,
}

/// Why a tag was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectionKind {
    /// The tag does not parse as a (lenient) semantic version.
    NotSemver,
    /// The version lies outside the constraint.
    Unsatisfied,
    /// A pre-release inside the constraint's range, but the constraint names no
    /// pre-release (append `-0` to a comparison to admit them).
    Prerelease,
}

impl<'a> Selection<'a> {
    /// A short sentence for a rejection, e.g. `does not satisfy constraint '^1.0'`.
    pub fn reason(&self, rejection: &Rejection<'_>) -> String {
        RejectionReason {
            kind: rejection.kind,
            constraint: &self.constraint,
        }
        .to_string()
    }

    /// A short sentence saying why the tag won, or why none did.
    pub fn summary(&self) -> String {
        match self.tag {
            Some(_) => format!("highest version satisfying '{}'", self.constraint),
            None if self.rejected.is_empty() => "no candidates".to_owned(),
            None if self
                .rejected
                .iter()
                .all(|r| r.kind == RejectionKind::NotSemver) =>
            {
                "no candidate is a semantic version".to_owned()
            }
            None => format!("no candidate satisfies '{}'", self.constraint),
        }
    }
}

/// Formats a rejection reason against a constraint text.
#[derive(Debug, Clone, Copy)]
pub struct RejectionReason<'c> {
    /// What went wrong.
    pub kind: RejectionKind,
    /// The constraint applied.
    pub constraint: &'c str,
}

impl fmt::Display for RejectionReason<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            RejectionKind::NotSemver => f.write_str("not a semantic version"),
            RejectionKind::Unsatisfied => {
                write!(f, "does not satisfy constraint '{}'", self.constraint)
            }
            RejectionKind::Prerelease => write!(
                f,
                "pre-release, which constraint '{}' does not admit",
                self.constraint
            ),
        }
    }
}

/// Picks the highest tag satisfying `constraint` (absent or blank means `*`).
///
/// Tags are ranked by (version, original string): of equal versions (`v1.0`,
/// `1.0.0`, `1.0.0+b`) the lexically greatest string wins, as Image Updater's
/// ascending sort followed by "take the last" does. Runs in one pass and
/// allocates only for the rejections.
pub fn select<'a>(
    constraint: Option<&str>,
    tags: impl Iterator<Item = &'a str>,
) -> Result<Selection<'a>, ConstraintError> {
    let text = match constraint {
        Some(c) if !c.trim().is_empty() => c,
        _ => "*",
    };
    let parsed = Constraint::parse(text)?;
    let mut best: Option<(Version<'a>, &'a str)> = None;
    let mut rejected = Vec::new();
    for tag in tags {
        let Ok(version) = Version::parse(tag) else {
            rejected.push(Rejection {
                tag,
                kind: RejectionKind::NotSemver,
            });
            continue;
        };
        if !parsed.matches(&version) {
            let kind = if version.is_prerelease() && parsed.matches_including_prereleases(&version)
            {
                RejectionKind::Prerelease
            } else {
                RejectionKind::Unsatisfied
            };
            rejected.push(Rejection { tag, kind });
            continue;
        }
        let better = match &best {
            None => true,
            Some((best_version, best_tag)) => match version.cmp(best_version) {
                Ordering::Greater => true,
                Ordering::Equal => tag > *best_tag,
                Ordering::Less => false,
            },
        };
        if better {
            best = Some((version, tag));
        }
    }
    Ok(Selection {
        tag: best.map(|(_, tag)| tag),
        version: best.map(|(version, _)| version),
        constraint: text.to_owned(),
        rejected,
    })
}
