//! Custom profile fields in the users table's state: filters (`f.<key>=…`), a sort
//! by a field (`sort=field.<key>`) and the field columns shown (`fields=a,b`).
//!
//! A filter is kept as typed in the URL; which kinds it applies to is decided on the
//! server against the field's definition, where a filter that does not fit its field
//! (or names no active field) is ignored, as other malformed URL values are.

use serde::{Deserialize, Serialize};

/// The prefix of a field filter's query-string key.
pub const FILTER_PREFIX: &str = "f.";
/// The prefix of a field in `sort=`.
pub const SORT_PREFIX: &str = "field.";

/// What a field filter asks for.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FieldCondition {
    /// Text: the value contains this (ignoring case).
    Contains(String),
    /// Number or date: within the bounds (inclusive); either may be open.
    Range {
        from: Option<String>,
        to: Option<String>,
    },
    /// Choices: the value is (for many choices: includes) one of these.
    Is(Vec<String>),
    /// Choices: the value is none of these (users without a value included).
    IsNot(Vec<String>),
    /// Yes / no.
    Bool(bool),
}

/// One filter on a custom field.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FieldFilter {
    pub key: String,
    pub condition: FieldCondition,
}

impl FieldCondition {
    /// The query-string value: `contains:…`, `range:from..to`, `is:a,b`, `not:a,b`,
    /// `yes`, `no`.
    pub fn to_param(&self) -> String {
        match self {
            FieldCondition::Contains(t) => format!("contains:{t}"),
            FieldCondition::Range { from, to } => format!(
                "range:{}..{}",
                from.as_deref().unwrap_or(""),
                to.as_deref().unwrap_or("")
            ),
            FieldCondition::Is(v) => format!("is:{}", v.join(",")),
            FieldCondition::IsNot(v) => format!("not:{}", v.join(",")),
            FieldCondition::Bool(true) => "yes".into(),
            FieldCondition::Bool(false) => "no".into(),
        }
    }

    /// Reads [`FieldCondition::to_param`]'s form; empty or malformed values are `None`.
    pub fn parse(value: &str) -> Option<FieldCondition> {
        let value = value.trim();
        let list = |s: &str| -> Vec<String> {
            let mut out: Vec<String> = Vec::new();
            for v in s.split(',').map(str::trim).filter(|v| !v.is_empty()) {
                if !out.iter().any(|o| o.eq_ignore_ascii_case(v)) {
                    out.push(v.to_string());
                }
            }
            out
        };
        let bound = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let condition = if let Some(t) = value.strip_prefix("contains:") {
            FieldCondition::Contains(super::query::clean_search(t))
        } else if let Some(r) = value.strip_prefix("range:") {
            let (from, to) = r.split_once("..")?;
            FieldCondition::Range {
                from: bound(from),
                to: bound(to),
            }
        } else if let Some(v) = value.strip_prefix("is:") {
            FieldCondition::Is(list(v))
        } else if let Some(v) = value.strip_prefix("not:") {
            FieldCondition::IsNot(list(v))
        } else {
            match value {
                "yes" => FieldCondition::Bool(true),
                "no" => FieldCondition::Bool(false),
                _ => return None,
            }
        };
        Some(condition).filter(|c| !c.is_empty())
    }

    /// A condition that asks nothing (and is dropped).
    pub fn is_empty(&self) -> bool {
        match self {
            FieldCondition::Contains(t) => t.is_empty(),
            FieldCondition::Range { from, to } => from.is_none() && to.is_none(),
            FieldCondition::Is(v) | FieldCondition::IsNot(v) => v.is_empty(),
            FieldCondition::Bool(_) => false,
        }
    }
}

/// Whether `key` could be a field key (checked against the definitions later).
pub fn plausible_key(key: &str) -> bool {
    (2..=40).contains(&key.len())
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Sets (or, with `None`, removes) the filter on `key`, keeping the list sorted by key
/// so equal views have equal URLs.
pub fn set_filter(filters: &mut Vec<FieldFilter>, key: &str, condition: Option<FieldCondition>) {
    filters.retain(|f| f.key != key);
    if let Some(condition) = condition.filter(|c| !c.is_empty()) {
        filters.push(FieldFilter {
            key: key.to_string(),
            condition,
        });
        filters.sort_by(|a, b| a.key.cmp(&b.key));
    }
}

/// Field column keys from `a,b`: plausible, distinct, in the order given.
pub fn parse_columns(value: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for key in value.split(',').map(str::trim).filter(|k| plausible_key(k)) {
        if !out.iter().any(|o| o == key) {
            out.push(key.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_round_trip_their_parameter() {
        let cases = [
            FieldCondition::Contains("gold member".into()),
            FieldCondition::Range {
                from: Some("10".into()),
                to: None,
            },
            FieldCondition::Range {
                from: None,
                to: Some("2026-12-31".into()),
            },
            FieldCondition::Range {
                from: Some("-5.5".into()),
                to: Some("7".into()),
            },
            FieldCondition::Is(vec!["Pro".into(), "Team plan".into()]),
            FieldCondition::IsNot(vec!["Free".into()]),
            FieldCondition::Bool(true),
            FieldCondition::Bool(false),
        ];
        for c in cases {
            assert_eq!(
                FieldCondition::parse(&c.to_param()),
                Some(c.clone()),
                "{c:?}"
            );
        }
    }

    #[test]
    fn empty_and_malformed_conditions_are_dropped() {
        for raw in [
            "",
            "contains:",
            "contains:   ",
            "range:..",
            "range:5",
            "is:",
            "is: , ",
            "maybe",
            "yes please",
        ] {
            assert_eq!(FieldCondition::parse(raw), None, "{raw:?}");
        }
        assert_eq!(
            FieldCondition::parse("is:Pro,pro, Team"),
            Some(FieldCondition::Is(vec!["Pro".into(), "Team".into()]))
        );
    }

    #[test]
    fn filters_stay_sorted_and_one_per_key() {
        let mut filters = Vec::new();
        set_filter(
            &mut filters,
            "plan",
            Some(FieldCondition::Is(vec!["Pro".into()])),
        );
        set_filter(&mut filters, "age", Some(FieldCondition::Bool(true)));
        set_filter(
            &mut filters,
            "plan",
            Some(FieldCondition::Is(vec!["Free".into()])),
        );
        let keys: Vec<&str> = filters.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys, ["age", "plan"]);
        assert_eq!(
            filters[1].condition,
            FieldCondition::Is(vec!["Free".into()])
        );
        set_filter(&mut filters, "age", None);
        set_filter(
            &mut filters,
            "plan",
            Some(FieldCondition::Contains(String::new())),
        );
        assert!(filters.is_empty());
    }

    #[test]
    fn column_keys_are_plausible_and_distinct() {
        assert_eq!(
            parse_columns("plan, seats,plan,,X1,a,1x,birth_day"),
            ["plan", "seats", "birth_day"]
        );
    }
}
