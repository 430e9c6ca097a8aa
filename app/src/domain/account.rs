//! Parse, don't validate: the newtypes a user's identity is made of (`Email`,
//! `Username`, `Phone`, `Language`, `Amount`) and the create/edit forms that turn raw
//! strings into them, collecting every field error at once. The same rules serve the
//! forms in the browser (instant feedback) and the server (the final word).

use serde::{Deserialize, Serialize};

use super::error::FieldErrors;

/// Most users one "New user" form creates at once.
pub const MAX_NEW_USERS: usize = 5;
/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_TEXT_CHARS: usize = 200;
pub const MAX_NOTE_CHARS: usize = 10_000;

/// Languages offered for emails (BCP 47). Others are accepted when well-formed.
pub const LANGUAGES: [(&str, &str); 6] = [
    ("en", "English"),
    ("de", "Deutsch"),
    ("fr", "Français"),
    ("es", "Español"),
    ("sv", "Svenska"),
    ("nl", "Nederlands"),
];

/// A lower-cased, trimmed email address with one `@` and a dotted domain.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, String> {
        let s = raw.trim().to_lowercase();
        if s.is_empty() {
            return Err("Enter an email address.".into());
        }
        let valid = s.len() <= 254
            && !s.chars().any(|c| c.is_whitespace() || c.is_control())
            && s.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains("..")
            });
        if valid {
            Ok(Email(s))
        } else {
            Err(format!("\"{}\" is not a valid email address.", raw.trim()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A login name: 2–40 letters, digits, `.`, `_` or `-`, starting with a letter or
/// digit. Kept as typed; uniqueness ignores case.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Username, String> {
        let s = raw.trim();
        let n = s.chars().count();
        if !(2..=40).contains(&n) {
            return Err("Use 2 to 40 characters.".into());
        }
        if !s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric()) {
            return Err("Start with a letter or a digit.".into());
        }
        if let Some(bad) = s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            return Err(format!(
                "\"{bad}\" is not allowed: use letters, digits, . _ and -."
            ));
        }
        Ok(Username(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number in E.164 (`+46701234567`). Common ways of writing one are accepted:
/// spaces, dashes, dots and brackets are dropped, a leading `00` becomes `+`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Phone, String> {
        let s = raw.trim();
        let compact: String = s
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')' | '\u{a0}'))
            .collect();
        let digits = if let Some(rest) = compact.strip_prefix('+') {
            rest
        } else if let Some(rest) = compact.strip_prefix("00") {
            rest
        } else {
            return Err("Start with + and the country code, e.g. +46 70 123 45 67.".into());
        };
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err("Use digits only after the +.".into());
        }
        if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
            return Err("A phone number has a country code and 8 to 15 digits in all.".into());
        }
        Ok(Phone(format!("+{digits}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A BCP 47 language tag such as `en`, `de` or `pt-BR`.
pub fn parse_language(raw: &str) -> Result<String, String> {
    let s = raw.trim();
    let mut parts = s.split('-');
    let primary = parts.next().unwrap_or_default();
    let ok = (2..=3).contains(&primary.len())
        && primary.chars().all(|c| c.is_ascii_alphabetic())
        && parts
            .all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
    if ok {
        Ok(format!(
            "{}{}",
            primary.to_ascii_lowercase(),
            &s[primary.len()..]
        ))
    } else {
        Err("Choose a language such as en, de or pt-BR.".into())
    }
}

/// A decimal amount ("1,234.56", "-5", "0.5") in minor units (cents).
pub fn parse_amount(raw: &str) -> Result<i64, String> {
    let s: String = raw
        .trim()
        .chars()
        .filter(|c| !matches!(c, ',' | ' ' | '_'))
        .collect();
    let bad = || format!("\"{}\" is not an amount like 1234.50.", raw.trim());
    if s.is_empty() {
        return Ok(0);
    }
    let (negative, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.as_str()),
    };
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() && frac.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
        || frac.len() > 2
    {
        return Err(bad());
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let cents: i64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
    let minor = whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(cents))
        .ok_or_else(bad)?;
    Ok(if negative { -minor } else { minor })
}

/// Minor units back to the text [`parse_amount`] reads: 123456 -> "1234.56".
pub fn amount_text(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

fn check_len(errors: &mut FieldErrors, key: &str, value: &str, max: usize) {
    if value.chars().count() > max {
        push(errors, key, format!("Use at most {max} characters."));
    }
}

fn push(errors: &mut FieldErrors, key: &str, message: impl Into<String>) {
    errors
        .entry(key.to_string())
        .or_default()
        .push(message.into());
}

/// How a new user gets their first password.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PasswordChoice {
    /// Send an invitation to set one; the user starts as `invited`.
    #[default]
    Invite,
    /// The admin types it.
    Set,
    /// Roster makes a temporary one, shown once; it must be changed at first sign-in.
    Generate,
}

impl PasswordChoice {
    pub const ALL: [PasswordChoice; 3] = [
        PasswordChoice::Invite,
        PasswordChoice::Set,
        PasswordChoice::Generate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PasswordChoice::Invite => "invite",
            PasswordChoice::Set => "set",
            PasswordChoice::Generate => "generate",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PasswordChoice::Invite => "Send an invitation to set a password",
            PasswordChoice::Set => "Set a password",
            PasswordChoice::Generate => "Generate a temporary password",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// One user of the "New user" form, as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUserForm {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub username: String,
    pub phone: String,
    pub role_id: i64,
    /// Group names; missing groups are created.
    pub groups: Vec<String>,
    pub language: String,
    pub password_choice: PasswordChoice,
    pub password: String,
    /// Custom profile field values as typed, by field key.
    #[serde(default)]
    pub attributes: std::collections::BTreeMap<String, String>,
}

/// A [`NewUserForm`] that passed every check that needs no database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewUser {
    pub first_name: String,
    pub last_name: String,
    pub email: Email,
    pub username: Option<Username>,
    pub phone: Option<Phone>,
    pub role_id: i64,
    pub groups: Vec<String>,
    pub language: String,
    pub password_choice: PasswordChoice,
    pub password: Option<String>,
}

/// Field errors of user `index` of a batch are keyed `"{index}.{field}"`.
pub fn row_key(index: usize, field: &str) -> String {
    format!("{index}.{field}")
}

impl NewUserForm {
    /// Checks one form; errors are keyed with `prefix` (e.g. `"0."`).
    pub fn parse(&self, index: usize) -> Result<NewUser, FieldErrors> {
        let mut errors = FieldErrors::new();
        let key = |f: &str| row_key(index, f);
        let first_name = self.first_name.trim().to_string();
        let last_name = self.last_name.trim().to_string();
        check_len(&mut errors, &key("first_name"), &first_name, MAX_NAME_CHARS);
        check_len(&mut errors, &key("last_name"), &last_name, MAX_NAME_CHARS);
        if first_name.is_empty() && last_name.is_empty() {
            push(
                &mut errors,
                &key("first_name"),
                "Enter a first or last name.",
            );
        }
        let email = Email::parse(&self.email).map_err(|e| push(&mut errors, &key("email"), e));
        let username = opt(&self.username, Username::parse)
            .map_err(|e| push(&mut errors, &key("username"), e));
        let phone = opt(&self.phone, Phone::parse).map_err(|e| push(&mut errors, &key("phone"), e));
        if self.username.trim().is_empty() && self.phone.trim().is_empty() {
            push(
                &mut errors,
                &key("username"),
                "Give a username or a login phone (or both).",
            );
        }
        let language = if self.language.trim().is_empty() {
            Ok("en".to_string())
        } else {
            parse_language(&self.language)
        }
        .map_err(|e| push(&mut errors, &key("language"), e));
        if self.role_id <= 0 {
            push(&mut errors, &key("role"), "Choose a role.");
        }
        let groups = clean_names(&self.groups).map_err(|e| push(&mut errors, &key("groups"), e));
        let password = match self.password_choice {
            PasswordChoice::Set => match check_password(&self.password) {
                Ok(()) => Some(self.password.clone()),
                Err(e) => {
                    push(&mut errors, &key("password"), e);
                    None
                }
            },
            _ => None,
        };
        match (email, username, phone, language, groups) {
            (Ok(email), Ok(username), Ok(phone), Ok(language), Ok(groups)) if errors.is_empty() => {
                Ok(NewUser {
                    first_name,
                    last_name,
                    email,
                    username,
                    phone,
                    role_id: self.role_id,
                    groups,
                    language,
                    password_choice: self.password_choice,
                    password,
                })
            }
            _ => Err(errors),
        }
    }
}

/// Parses every form of a batch; duplicates inside the batch are errors too.
pub fn parse_new_users(forms: &[NewUserForm]) -> Result<Vec<NewUser>, FieldErrors> {
    let mut errors = FieldErrors::new();
    if forms.is_empty() {
        push(&mut errors, "form", "Add at least one user.");
        return Err(errors);
    }
    if forms.len() > MAX_NEW_USERS {
        push(
            &mut errors,
            "form",
            format!("Create at most {MAX_NEW_USERS} users at once."),
        );
        return Err(errors);
    }
    let mut users = Vec::new();
    for (i, form) in forms.iter().enumerate() {
        match form.parse(i) {
            Ok(u) => users.push(u),
            Err(e) => errors.extend(e),
        }
    }
    // Duplicates are found among the identities that parse, whatever else a row lacks,
    // so one submit shows every error.
    let ids: Vec<Identities> = forms.iter().map(NewUserForm::identities).collect();
    for (i, u) in ids.iter().enumerate() {
        for earlier in &ids[..i] {
            for (field, mine, theirs) in [
                ("email", &u.email, &earlier.email),
                ("username", &u.username, &earlier.username),
                ("phone", &u.phone, &earlier.phone),
            ] {
                let key = row_key(i, field);
                let said = errors
                    .get(&key)
                    .is_some_and(|m| m.iter().any(|m| m == USED_TWICE));
                if mine.is_some() && mine == theirs && !said {
                    push(&mut errors, &key, USED_TWICE);
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(users)
    } else {
        Err(errors)
    }
}

/// A row naming an email, username or phone an earlier row of the form names.
pub const USED_TWICE: &str = "Used twice in this form.";

/// The email, username (lowercase) and phone a form row gives, each parsed on its own
/// (none when missing or not valid): uniqueness is checked in the same pass as the
/// formats, also for a row with other errors.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identities {
    pub email: Option<String>,
    pub username: Option<String>,
    pub phone: Option<String>,
}

impl NewUserForm {
    pub fn identities(&self) -> Identities {
        Identities {
            email: Email::parse(&self.email)
                .ok()
                .map(|e| e.as_str().to_string()),
            username: opt(&self.username, Username::parse)
                .ok()
                .flatten()
                .map(|n| n.as_str().to_lowercase()),
            phone: opt(&self.phone, Phone::parse)
                .ok()
                .flatten()
                .map(|p| p.as_str().to_string()),
        }
    }
}

/// `Err` unless the password is long enough.
pub fn check_password(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        Err(format!("Use at least {MIN_PASSWORD_CHARS} characters."))
    } else {
        Ok(())
    }
}

fn opt<T>(raw: &str, parse: impl Fn(&str) -> Result<T, String>) -> Result<Option<T>, String> {
    if raw.trim().is_empty() {
        Ok(None)
    } else {
        parse(raw).map(Some)
    }
}

/// Trimmed, non-empty, de-duplicated (ignoring case) tag or group names.
pub fn clean_names(names: &[String]) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for n in names {
        let n = n.trim();
        if n.is_empty() {
            continue;
        }
        if n.chars().count() > 60 {
            return Err(format!("\"{n}\" is longer than 60 characters."));
        }
        if !out.iter().any(|o| o.to_lowercase() == n.to_lowercase()) {
            out.push(n.to_string());
        }
    }
    Ok(out)
}

/// The drawer's edit form, as typed. `version` is the one the form was loaded with.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserEditForm {
    pub version: i32,
    pub first_name: String,
    pub last_name: String,
    pub username: String,
    pub phone: String,
    pub job_title: String,
    pub company: String,
    pub address: String,
    pub language: String,
    pub role_id: i64,
    pub balance: String,
    pub email_opt_in: bool,
    pub note: String,
    /// Custom profile field values as typed, by field key (a key absent is left as
    /// it is; an empty value clears it).
    #[serde(default)]
    pub attributes: std::collections::BTreeMap<String, String>,
}

impl UserEditForm {
    /// The form as the drawer loads it for `u`, unchanged.
    pub fn of(u: &super::UserDetail) -> UserEditForm {
        UserEditForm {
            version: u.version,
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            username: u.username.clone().unwrap_or_default(),
            phone: u.phone.clone().unwrap_or_default(),
            job_title: u.job_title.clone(),
            company: u.company.clone(),
            address: u.address.clone(),
            language: u.language.clone(),
            role_id: u.role.id,
            balance: amount_text(u.balance),
            email_opt_in: u.email_opt_in,
            note: u.note.clone(),
            attributes: u
                .attributes
                .iter()
                .map(|(k, v)| (k.clone(), super::fields::value_text(v)))
                .collect(),
        }
    }
}

/// A checked [`UserEditForm`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserEdit {
    pub version: i32,
    pub first_name: String,
    pub last_name: String,
    pub username: Option<Username>,
    pub phone: Option<Phone>,
    pub job_title: String,
    pub company: String,
    pub address: String,
    pub language: String,
    pub role_id: i64,
    pub balance: i64,
    pub email_opt_in: bool,
    pub note: String,
}

impl TryFrom<UserEditForm> for UserEdit {
    type Error = FieldErrors;

    fn try_from(f: UserEditForm) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let text = |errors: &mut FieldErrors, key: &str, v: &str, max: usize| {
            let v = v.trim().to_string();
            check_len(errors, key, &v, max);
            v
        };
        let first_name = text(&mut errors, "first_name", &f.first_name, MAX_NAME_CHARS);
        let last_name = text(&mut errors, "last_name", &f.last_name, MAX_NAME_CHARS);
        let job_title = text(&mut errors, "job_title", &f.job_title, MAX_TEXT_CHARS);
        let company = text(&mut errors, "company", &f.company, MAX_TEXT_CHARS);
        let address = text(&mut errors, "address", &f.address, MAX_TEXT_CHARS * 2);
        let note = f.note.trim_end().to_string();
        check_len(&mut errors, "note", &note, MAX_NOTE_CHARS);
        let username =
            opt(&f.username, Username::parse).map_err(|e| push(&mut errors, "username", e));
        let phone = opt(&f.phone, Phone::parse).map_err(|e| push(&mut errors, "phone", e));
        let language = parse_language(&f.language).map_err(|e| push(&mut errors, "language", e));
        let balance = parse_amount(&f.balance).map_err(|e| push(&mut errors, "balance", e));
        if f.role_id <= 0 {
            push(&mut errors, "role", "Choose a role.");
        }
        match (username, phone, language, balance) {
            (Ok(username), Ok(phone), Ok(language), Ok(balance)) if errors.is_empty() => {
                Ok(UserEdit {
                    version: f.version,
                    first_name,
                    last_name,
                    username,
                    phone,
                    job_title,
                    company,
                    address,
                    language,
                    role_id: f.role_id,
                    balance,
                    email_opt_in: f.email_opt_in,
                    note,
                })
            }
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_lower_cased_and_checked() {
        let cases = [
            (" Ada@Example.COM ", Ok("ada@example.com")),
            ("a.b+c@x.io", Ok("a.b+c@x.io")),
            ("", Err(())),
            ("ada", Err(())),
            ("ada@", Err(())),
            ("@x.io", Err(())),
            ("ada@x", Err(())),
            ("a da@x.io", Err(())),
            ("a@b@x.io", Err(())),
            ("a@x..io", Err(())),
        ];
        for (input, want) in cases {
            let got = Email::parse(input);
            match want {
                Ok(w) => assert_eq!(got.as_ref().map(Email::as_str), Ok(w), "{input:?}"),
                Err(()) => assert!(got.is_err(), "{input:?} should be refused"),
            }
        }
    }

    #[test]
    fn phones_normalise_to_e164() {
        let cases = [
            ("+46 70 123 45 67", Ok("+46701234567")),
            ("+46 70-123 45 67", Ok("+46701234567")),
            ("0046 (70) 123.45.67", Ok("+46701234567")),
            ("+1 415 555 0100", Ok("+14155550100")),
            ("070 123 45 67", Err(())),
            ("+46 70 12x 45 67", Err(())),
            ("+123", Err(())),
            ("+0123456789", Err(())),
            ("+1234567890123456", Err(())),
        ];
        for (input, want) in cases {
            let got = Phone::parse(input);
            match want {
                Ok(w) => assert_eq!(got.as_ref().map(Phone::as_str), Ok(w), "{input:?}"),
                Err(()) => assert!(got.is_err(), "{input:?} should be refused"),
            }
        }
    }

    #[test]
    fn usernames_allow_a_safe_alphabet() {
        for ok in ["ada", "ada.l", "a_1", "Ada-Lovelace", "42"] {
            assert!(Username::parse(ok).is_ok(), "{ok:?} should pass");
        }
        for bad in ["a", "", "_ada", "ada lovelace", "ada@x", &"x".repeat(41)] {
            assert!(Username::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn amounts_read_as_minor_units() {
        let cases = [
            ("", Ok(0)),
            ("0", Ok(0)),
            ("12", Ok(1200)),
            ("12.5", Ok(1250)),
            ("1,234.56", Ok(123456)),
            ("-0.05", Ok(-5)),
            (".5", Ok(50)),
            ("1.234", Err(())),
            ("abc", Err(())),
            ("1-2", Err(())),
            ("99999999999999999999", Err(())),
        ];
        for (input, want) in cases {
            match want {
                Ok(w) => assert_eq!(parse_amount(input), Ok(w), "{input:?}"),
                Err(()) => assert!(parse_amount(input).is_err(), "{input:?} should be refused"),
            }
        }
    }

    #[test]
    fn amount_text_round_trips() {
        for minor in [0, 5, -5, 123456, -99999, 100, i64::MAX / 2] {
            assert_eq!(parse_amount(&amount_text(minor)), Ok(minor), "{minor}");
        }
    }

    #[test]
    fn languages_are_bcp47_like() {
        assert_eq!(parse_language("EN"), Ok("en".into()));
        assert_eq!(parse_language("pt-BR"), Ok("pt-BR".into()));
        assert!(parse_language("english").is_err());
        assert!(parse_language("e").is_err());
        assert!(parse_language("en_US").is_err());
    }

    fn form(email: &str, username: &str) -> NewUserForm {
        NewUserForm {
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            email: email.into(),
            username: username.into(),
            role_id: 5,
            ..Default::default()
        }
    }

    #[test]
    fn a_new_user_form_reports_every_field_at_once() {
        let bad = NewUserForm {
            first_name: " ".into(),
            email: "nope".into(),
            phone: "070 123".into(),
            password_choice: PasswordChoice::Set,
            password: "short".into(),
            ..Default::default()
        };
        let errors = bad.parse(2).expect_err("invalid");
        let keys: Vec<&str> = errors.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            vec!["2.email", "2.first_name", "2.password", "2.phone", "2.role"],
            "{errors:?}"
        );
    }

    #[test]
    fn a_new_user_needs_a_username_or_phone() {
        let errors = form("a@x.io", "").parse(0).expect_err("no login");
        assert!(errors.contains_key("0.username"), "{errors:?}");
        let ok = NewUserForm {
            phone: "+46 70 123 45 67".into(),
            ..form("a@x.io", "")
        };
        let user = ok.parse(0).expect("phone is a login");
        assert_eq!(user.phone.map(|p| p.0), Some("+46701234567".to_string()));
        assert_eq!(user.language, "en");
    }

    #[test]
    fn a_batch_refuses_duplicates_and_more_than_five() {
        let errors = parse_new_users(&[form("a@x.io", "ada"), form("A@X.io", "ADA")])
            .expect_err("duplicates");
        assert!(errors.contains_key("1.email"), "{errors:?}");
        assert!(errors.contains_key("1.username"), "{errors:?}");
        let six: Vec<_> = (0..6)
            .map(|i| form(&format!("u{i}@x.io"), &format!("u{i}")))
            .collect();
        assert!(parse_new_users(&six).expect_err("six").contains_key("form"));
        assert!(parse_new_users(&[]).is_err());
        assert_eq!(parse_new_users(&six[..5]).expect("five").len(), 5);
    }

    #[test]
    fn names_are_cleaned_and_deduplicated() {
        let names = vec![" VIP ".to_string(), "vip".into(), "".into(), "Beta".into()];
        assert_eq!(
            clean_names(&names),
            Ok(vec!["VIP".to_string(), "Beta".to_string()])
        );
        assert!(clean_names(&["x".repeat(61)]).is_err());
    }

    #[test]
    fn an_edit_form_parses_or_names_its_fields() {
        let good = UserEditForm {
            version: 3,
            first_name: " Ada ".into(),
            username: "ada".into(),
            phone: "+44 20 7946 0958".into(),
            language: "en".into(),
            role_id: 2,
            balance: "12.30".into(),
            ..Default::default()
        };
        let edit = UserEdit::try_from(good.clone()).expect("valid");
        assert_eq!(edit.first_name, "Ada");
        assert_eq!(edit.balance, 1230);
        assert_eq!(edit.phone.map(|p| p.0), Some("+442079460958".to_string()));
        let bad = UserEditForm {
            balance: "lots".into(),
            username: "a b".into(),
            language: "".into(),
            ..good
        };
        let errors = UserEdit::try_from(bad).expect_err("invalid");
        let keys: Vec<&str> = errors.keys().map(String::as_str).collect();
        assert_eq!(keys, vec!["balance", "language", "username"]);
    }
}
