//! Custom profile fields: what admins define (key, label, type, choices, required,
//! searchable, order, archived) and how a value of each type is parsed, checked and
//! written. Values live in `users.attributes` as JSON: text and choice as strings,
//! number as a number, date as `YYYY-MM-DD`, yes/no as a boolean, many choices as an
//! array of strings.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::transfer::{bool_text, parse_bool, split_names};

/// Most fields an installation may define.
pub const MAX_FIELDS: usize = 50;
const MAX_CHOICES: usize = 100;
const MAX_TEXT: usize = 500;

/// The type of a profile field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FieldKind {
    Text,
    Number,
    Date,
    Bool,
    Choice,
    MultiChoice,
}

impl FieldKind {
    pub const ALL: [FieldKind; 6] = [
        FieldKind::Text,
        FieldKind::Number,
        FieldKind::Date,
        FieldKind::Bool,
        FieldKind::Choice,
        FieldKind::MultiChoice,
    ];

    /// The `profile_fields.kind` value.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::Number => "number",
            FieldKind::Date => "date",
            FieldKind::Bool => "bool",
            FieldKind::Choice => "choice",
            FieldKind::MultiChoice => "multi_choice",
        }
    }

    pub fn parse(s: &str) -> Option<FieldKind> {
        FieldKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            FieldKind::Text => "Text",
            FieldKind::Number => "Number",
            FieldKind::Date => "Date",
            FieldKind::Bool => "Yes / no",
            FieldKind::Choice => "One of a list",
            FieldKind::MultiChoice => "Many of a list",
        }
    }

    pub fn has_choices(self) -> bool {
        matches!(self, FieldKind::Choice | FieldKind::MultiChoice)
    }
}

/// A field as defined.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldDef {
    pub id: i64,
    /// Stable; the column header in files and the JSON key in `users.attributes`.
    pub key: String,
    pub label: String,
    pub kind: FieldKind,
    pub choices: Vec<String>,
    pub required: bool,
    pub searchable: bool,
    pub position: i64,
    pub archived: bool,
}

/// A field's key: 2–40 lower-case letters, digits and `_`, starting with a letter,
/// and not a built-in column's name.
pub fn parse_key(raw: &str) -> Result<String, String> {
    let key = raw.trim().to_lowercase().replace([' ', '-'], "_");
    let n = key.chars().count();
    if !(2..=40).contains(&n) {
        return Err("Use 2 to 40 characters.".into());
    }
    if !key.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err("Start with a letter.".into());
    }
    if let Some(bad) = key
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        return Err(format!(
            "\"{bad}\" is not allowed: use letters, digits and _."
        ));
    }
    if super::transfer::FileColumn::from_header(&key).is_some() {
        return Err(format!(
            "\"{key}\" is a built-in column; choose another key."
        ));
    }
    Ok(key)
}

/// A field's label: 1–60 characters.
pub fn parse_label(raw: &str) -> Result<String, String> {
    let label = raw.trim();
    match label.chars().count() {
        0 => Err("Enter a label.".into()),
        n if n > 60 => Err("Use at most 60 characters.".into()),
        _ => Ok(label.to_string()),
    }
}

/// A list of choices: one per line or comma-separated, trimmed, distinct ignoring case.
pub fn parse_choices(kind: FieldKind, raw: &str) -> Result<Vec<String>, String> {
    if !kind.has_choices() {
        return Ok(Vec::new());
    }
    let joined = raw.replace('\n', ",");
    let choices = split_names(&joined)?;
    match choices.len() {
        0 => Err("Enter at least one choice.".into()),
        n if n > MAX_CHOICES => Err(format!("Use at most {MAX_CHOICES} choices.")),
        _ => Ok(choices),
    }
}

fn find_choice<'a>(choices: &'a [String], raw: &str) -> Result<&'a String, String> {
    let want = raw.trim().to_lowercase();
    choices
        .iter()
        .find(|c| c.to_lowercase() == want)
        .ok_or_else(|| format!("\"{}\" is not one of: {}.", raw.trim(), choices.join(", ")))
}

impl FieldDef {
    /// Parses a value as typed in a form or a file cell; empty means "no value".
    pub fn parse_value(&self, raw: &str) -> Result<Option<serde_json::Value>, String> {
        let t = raw.trim();
        if t.is_empty() {
            return Ok(None);
        }
        let value = match self.kind {
            FieldKind::Text => {
                if t.chars().count() > MAX_TEXT {
                    return Err(format!("Use at most {MAX_TEXT} characters."));
                }
                serde_json::json!(t)
            }
            FieldKind::Number => {
                let n: f64 = t
                    .replace([',', ' ', '_'], "")
                    .parse()
                    .map_err(|_| format!("\"{t}\" is not a number."))?;
                if !n.is_finite() {
                    return Err(format!("\"{t}\" is not a number."));
                }
                serde_json::json!(n)
            }
            FieldKind::Date => {
                let d = parse_date(t)?;
                serde_json::json!(d.format("%Y-%m-%d").to_string())
            }
            FieldKind::Bool => serde_json::json!(parse_bool(t)?),
            FieldKind::Choice => serde_json::json!(find_choice(&self.choices, t)?),
            FieldKind::MultiChoice => {
                let picked = split_names(t)?
                    .iter()
                    .map(|p| find_choice(&self.choices, p).cloned())
                    .collect::<Result<Vec<_>, _>>()?;
                serde_json::json!(picked)
            }
        };
        Ok(Some(value))
    }

    /// A stored value as text, the way [`FieldDef::parse_value`] reads it back.
    pub fn value_text(&self, value: &serde_json::Value) -> String {
        value_text(value)
    }

    /// Whether a stored value converts to `kind` (with `choices`): a type change is
    /// refused while any user's value does not.
    pub fn converts(&self, value: &serde_json::Value, kind: FieldKind, choices: &[String]) -> bool {
        let target = FieldDef {
            kind,
            choices: choices.to_vec(),
            ..self.clone()
        };
        target.parse_value(&value_text(value)).is_ok()
    }
}

/// The form key of field `key`'s errors.
pub fn error_key(key: &str) -> String {
    format!("field.{key}")
}

/// Applies a form's raw values to a user's `current` values for the active `fields`:
/// a key the form holds sets the value (empty removes it), other keys stay. Every
/// bad value and every required field left empty is an error under [`error_key`].
pub fn apply_values(
    fields: &[FieldDef],
    current: &std::collections::BTreeMap<String, serde_json::Value>,
    raw: &std::collections::BTreeMap<String, String>,
) -> Result<std::collections::BTreeMap<String, serde_json::Value>, super::FieldErrors> {
    let mut values = current.clone();
    let mut errors = super::FieldErrors::new();
    for field in fields.iter().filter(|f| !f.archived) {
        let Some(text) = raw.get(&field.key) else {
            continue;
        };
        match field.parse_value(text) {
            Ok(Some(v)) => {
                values.insert(field.key.clone(), v);
            }
            Ok(None) if field.required => {
                errors.insert(
                    error_key(&field.key),
                    vec!["Enter a value: this field is required.".into()],
                );
            }
            Ok(None) => {
                values.remove(&field.key);
            }
            Err(e) => {
                errors.insert(error_key(&field.key), vec![e]);
            }
        }
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(errors)
    }
}

/// A stored value as text, the way [`FieldDef::parse_value`] reads it back.
pub fn value_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => String::new(),
        serde_json::Value::Bool(b) => bool_text(*b).to_string(),
        serde_json::Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            _ => n.to_string(),
        },
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// What a form sends for a date input the browser holds as unfinished or impossible
/// (typed 02/31/2027: the input's value is then empty, which would clear the field).
pub const UNFINISHED_DATE: &str = "(unfinished date)";

/// `2026-11-22`, `22.11.2026` or `11/22/2026`.
pub fn parse_date(raw: &str) -> Result<NaiveDate, String> {
    let t = raw.trim();
    if t == UNFINISHED_DATE {
        return Err(
            "This date is unfinished or does not exist; enter a date like 2026-11-22.".into(),
        );
    }
    let t = t.split(['T', ' ']).next().unwrap_or(t);
    for format in ["%Y-%m-%d", "%d.%m.%Y", "%m/%d/%Y"] {
        if let Ok(d) = NaiveDate::parse_from_str(t, format) {
            return Ok(d);
        }
    }
    Err(format!("\"{}\" is not a date like 2026-11-22.", raw.trim()))
}

/// The form for defining or changing a field, as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldForm {
    pub key: String,
    pub label: String,
    /// A [`FieldKind::as_str`].
    pub kind: String,
    /// One choice per line (or comma-separated).
    pub choices: String,
    pub required: bool,
    pub searchable: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unfinished_date_is_refused_not_cleared() {
        let err = parse_date(UNFINISHED_DATE).expect_err("refused");
        assert!(err.contains("unfinished or does not exist"), "{err}");
    }

    fn field(kind: FieldKind, choices: &[&str]) -> FieldDef {
        FieldDef {
            id: 1,
            key: "plan".into(),
            label: "Plan".into(),
            kind,
            choices: choices.iter().map(|c| c.to_string()).collect(),
            required: false,
            searchable: true,
            position: 0,
            archived: false,
        }
    }

    #[test]
    fn kinds_round_trip_their_names() {
        for k in FieldKind::ALL {
            assert_eq!(FieldKind::parse(k.as_str()), Some(k));
        }
    }

    #[test]
    fn keys_are_lower_case_identifiers_that_no_built_in_column_uses() {
        let cases = [
            ("Customer number", Ok("customer_number")),
            ("plan", Ok("plan")),
            ("x", Err("2 to 40")),
            ("1st", Err("Start with a letter")),
            ("plan!", Err("\"!\" is not allowed")),
            ("Email", Err("built-in")),
            ("first name", Err("built-in")),
        ];
        for (raw, want) in cases {
            match (parse_key(raw), want) {
                (Ok(got), Ok(want)) => assert_eq!(got, want, "{raw}"),
                (Err(got), Err(want)) => assert!(got.contains(want), "{raw}: {got}"),
                (got, want) => panic!("{raw}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn each_type_parses_its_values_and_names_the_bad_ones() {
        type Want = Result<Option<serde_json::Value>, &'static str>;
        let cases: Vec<(FieldDef, &str, Want)> = vec![
            (
                field(FieldKind::Text, &[]),
                "  Gold  ",
                Ok(Some(serde_json::json!("Gold"))),
            ),
            (field(FieldKind::Text, &[]), "", Ok(None)),
            (
                field(FieldKind::Number, &[]),
                "1,234.5",
                Ok(Some(serde_json::json!(1234.5))),
            ),
            (field(FieldKind::Number, &[]), "12a", Err("is not a number")),
            (field(FieldKind::Number, &[]), "inf", Err("is not a number")),
            (
                field(FieldKind::Date, &[]),
                "2026-11-22",
                Ok(Some(serde_json::json!("2026-11-22"))),
            ),
            (
                field(FieldKind::Date, &[]),
                "22.11.2026",
                Ok(Some(serde_json::json!("2026-11-22"))),
            ),
            (
                field(FieldKind::Date, &[]),
                "2026-02-30",
                Err("is not a date"),
            ),
            (
                field(FieldKind::Bool, &[]),
                "Yes",
                Ok(Some(serde_json::json!(true))),
            ),
            (
                field(FieldKind::Bool, &[]),
                "maybe",
                Err("is not yes or no"),
            ),
            (
                field(FieldKind::Choice, &["Free", "Pro"]),
                "pro",
                Ok(Some(serde_json::json!("Pro"))),
            ),
            (
                field(FieldKind::Choice, &["Free", "Pro"]),
                "Gold",
                Err("is not one of: Free, Pro"),
            ),
            (
                field(FieldKind::MultiChoice, &["Red", "Green", "Blue"]),
                "green, RED",
                Ok(Some(serde_json::json!(["Green", "Red"]))),
            ),
            (
                field(FieldKind::MultiChoice, &["Red"]),
                "Red, Pink",
                Err("\"Pink\" is not one of"),
            ),
        ];
        for (def, raw, want) in cases {
            let got = def.parse_value(raw);
            match (&got, &want) {
                (Ok(g), Ok(w)) => assert_eq!(g, w, "{:?} {raw:?}", def.kind),
                (Err(g), Err(w)) => assert!(g.contains(w), "{:?} {raw:?}: {g}", def.kind),
                _ => panic!("{:?} {raw:?}: got {got:?}, want {want:?}", def.kind),
            }
        }
    }

    #[test]
    fn every_value_written_reads_back_as_itself() {
        let defs = [
            (field(FieldKind::Text, &[]), "Gold, \"plus\""),
            (field(FieldKind::Number, &[]), "42"),
            (field(FieldKind::Number, &[]), "-0.25"),
            (field(FieldKind::Date, &[]), "2024-02-29"),
            (field(FieldKind::Bool, &[]), "no"),
            (field(FieldKind::Choice, &["A", "B"]), "B"),
            (field(FieldKind::MultiChoice, &["A", "B", "C"]), "C, A"),
        ];
        for (def, raw) in defs {
            let value = def.parse_value(raw).expect("parses").expect("a value");
            let text = def.value_text(&value);
            assert_eq!(
                def.parse_value(&text),
                Ok(Some(value)),
                "{:?} {raw:?} -> {text:?}",
                def.kind
            );
        }
    }

    #[test]
    fn conversions_between_types() {
        let text = field(FieldKind::Text, &[]);
        assert!(text.converts(&serde_json::json!("12"), FieldKind::Number, &[]));
        assert!(!text.converts(&serde_json::json!("twelve"), FieldKind::Number, &[]));
        assert!(text.converts(
            &serde_json::json!("Pro"),
            FieldKind::Choice,
            &["Free".into(), "Pro".into()]
        ));
        assert!(!text.converts(
            &serde_json::json!("Gold"),
            FieldKind::Choice,
            &["Pro".into()]
        ));
        let number = field(FieldKind::Number, &[]);
        assert!(number.converts(&serde_json::json!(7), FieldKind::Text, &[]));
        let choice = field(FieldKind::Choice, &["A"]);
        assert!(choice.converts(
            &serde_json::json!("A"),
            FieldKind::MultiChoice,
            &["A".into(), "B".into()]
        ));
    }

    #[test]
    fn choices_come_one_per_line_or_comma_separated() {
        assert_eq!(
            parse_choices(FieldKind::Choice, "Free\nPro, Team\n\npro"),
            Ok(vec![
                "Free".to_string(),
                "Pro".to_string(),
                "Team".to_string()
            ])
        );
        assert!(parse_choices(FieldKind::Choice, " \n ").is_err());
        assert_eq!(parse_choices(FieldKind::Text, "ignored"), Ok(vec![]));
    }
}
