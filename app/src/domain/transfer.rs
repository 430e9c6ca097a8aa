//! Users in files: the columns of CSV and XLSX exports, imports and templates; header
//! matching; delimiter detection; formula neutralisation and its exact inverse; and
//! the cell parsers that turn one file row into an [`ImportRow`] or per-cell errors.
//!
//! The export header row is the import header row, and every exported value parses
//! back to itself, so re-importing an unchanged export changes nothing.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::account::{
    clean_names, parse_amount, parse_language, Email, Phone, Username, MAX_NAME_CHARS,
    MAX_NOTE_CHARS, MAX_TEXT_CHARS,
};
use super::columns::Column;
use super::user::Status;

/// Default largest upload, in megabytes.
pub const DEFAULT_MAX_UPLOAD_MB: u64 = 50;

/// A column of a users file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum FileColumn {
    Id,
    Email,
    Username,
    FirstName,
    LastName,
    Phone,
    Status,
    Role,
    Balance,
    Tags,
    Groups,
    JobTitle,
    Company,
    Address,
    Language,
    EmailOptIn,
    Note,
    Devices,
    SignupDate,
    LastAccess,
    Password,
    SendInvitation,
}

/// How a column's values are typed in XLSX.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellKind {
    Text,
    Integer,
    Amount,
    Bool,
    DateTime,
}

impl FileColumn {
    /// Every column an export can hold, in file order.
    pub const EXPORTED: [FileColumn; 20] = [
        FileColumn::Id,
        FileColumn::Email,
        FileColumn::Username,
        FileColumn::FirstName,
        FileColumn::LastName,
        FileColumn::Phone,
        FileColumn::Status,
        FileColumn::Role,
        FileColumn::Balance,
        FileColumn::Tags,
        FileColumn::Groups,
        FileColumn::JobTitle,
        FileColumn::Company,
        FileColumn::Address,
        FileColumn::Language,
        FileColumn::EmailOptIn,
        FileColumn::Note,
        FileColumn::Devices,
        FileColumn::SignupDate,
        FileColumn::LastAccess,
    ];

    /// The template's columns: everything an import writes.
    pub const TEMPLATE: [FileColumn; 18] = [
        FileColumn::Email,
        FileColumn::Username,
        FileColumn::FirstName,
        FileColumn::LastName,
        FileColumn::Phone,
        FileColumn::Status,
        FileColumn::Role,
        FileColumn::Balance,
        FileColumn::Tags,
        FileColumn::Groups,
        FileColumn::JobTitle,
        FileColumn::Company,
        FileColumn::Address,
        FileColumn::Language,
        FileColumn::EmailOptIn,
        FileColumn::Note,
        FileColumn::Password,
        FileColumn::SendInvitation,
    ];

    const ALL: [FileColumn; 22] = [
        FileColumn::Id,
        FileColumn::Email,
        FileColumn::Username,
        FileColumn::FirstName,
        FileColumn::LastName,
        FileColumn::Phone,
        FileColumn::Status,
        FileColumn::Role,
        FileColumn::Balance,
        FileColumn::Tags,
        FileColumn::Groups,
        FileColumn::JobTitle,
        FileColumn::Company,
        FileColumn::Address,
        FileColumn::Language,
        FileColumn::EmailOptIn,
        FileColumn::Note,
        FileColumn::Devices,
        FileColumn::SignupDate,
        FileColumn::LastAccess,
        FileColumn::Password,
        FileColumn::SendInvitation,
    ];

    /// The header written to files.
    pub fn key(self) -> &'static str {
        match self {
            FileColumn::Id => "id",
            FileColumn::Email => "email",
            FileColumn::Username => "username",
            FileColumn::FirstName => "first_name",
            FileColumn::LastName => "last_name",
            FileColumn::Phone => "phone",
            FileColumn::Status => "status",
            FileColumn::Role => "role",
            FileColumn::Balance => "balance",
            FileColumn::Tags => "tags",
            FileColumn::Groups => "groups",
            FileColumn::JobTitle => "job_title",
            FileColumn::Company => "company",
            FileColumn::Address => "address",
            FileColumn::Language => "language",
            FileColumn::EmailOptIn => "email_opt_in",
            FileColumn::Note => "note",
            FileColumn::Devices => "devices",
            FileColumn::SignupDate => "signup_date",
            FileColumn::LastAccess => "last_access",
            FileColumn::Password => "password",
            FileColumn::SendInvitation => "send_invitation",
        }
    }

    /// Other headers people write for this column (compared after [`normalize_header`]).
    fn aliases(self) -> &'static [&'static str] {
        match self {
            FileColumn::Email => &["emailaddress", "mail"],
            FileColumn::FirstName => &["firstname", "givenname"],
            FileColumn::LastName => &["lastname", "surname", "familyname"],
            FileColumn::Phone => &["phonenumber", "mobile"],
            FileColumn::JobTitle => &["title", "jobtitle"],
            FileColumn::EmailOptIn => &["optin", "emailoptin"],
            FileColumn::SignupDate => &["signup", "signedup", "createdat"],
            FileColumn::LastAccess => &["lastaccessat", "lastseen"],
            FileColumn::SendInvitation => &["invite", "invitation"],
            _ => &[],
        }
    }

    /// Exported for reference, ignored on import.
    pub fn read_only(self) -> bool {
        matches!(
            self,
            FileColumn::Id | FileColumn::Devices | FileColumn::SignupDate | FileColumn::LastAccess
        )
    }

    pub fn kind(self) -> CellKind {
        match self {
            FileColumn::Id | FileColumn::Devices => CellKind::Integer,
            FileColumn::Balance => CellKind::Amount,
            FileColumn::EmailOptIn | FileColumn::SendInvitation => CellKind::Bool,
            FileColumn::SignupDate | FileColumn::LastAccess => CellKind::DateTime,
            _ => CellKind::Text,
        }
    }

    /// What the column holds and which values it accepts (the template's second sheet).
    pub fn description(self) -> &'static str {
        match self {
            FileColumn::Id => "Roster's id of the user. Exported for reference; ignored on import.",
            FileColumn::Email => "Required. Identifies the user: a row whose email exists updates that user, any other row creates one. Matched ignoring case; never changed by an import.",
            FileColumn::Username => "Optional login name: 2 to 40 letters, digits, . _ or -, starting with a letter or digit. Unique, ignoring case.",
            FileColumn::FirstName => "Up to 100 characters.",
            FileColumn::LastName => "Up to 100 characters.",
            FileColumn::Phone => "Optional login phone with + and the country code, e.g. +46 70 123 45 67 (stored as +46701234567). Unique.",
            FileColumn::Status => "active, banned or invited. New users default to active (invited with send_invitation).",
            FileColumn::Role => "The name of an existing role, e.g. member, viewer, support, admin. New users default to member.",
            FileColumn::Balance => "An amount with up to two decimals, e.g. 1234.50 or -5.",
            FileColumn::Tags => "Comma-separated tag names. When the cell is not empty it replaces the user's tags; missing tags are created.",
            FileColumn::Groups => "Comma-separated group names. When the cell is not empty it replaces the user's groups; missing groups are created.",
            FileColumn::JobTitle => "Up to 200 characters.",
            FileColumn::Company => "Up to 200 characters.",
            FileColumn::Address => "Up to 400 characters.",
            FileColumn::Language => "Language of the user's emails, as a BCP 47 tag: en, de, fr, es, sv, nl, pt-BR ...",
            FileColumn::EmailOptIn => "Whether the user agreed to emails: yes or no (also true/false, 1/0).",
            FileColumn::Note => "Private note for admins, up to 10,000 characters.",
            FileColumn::Devices => "Number of devices. Exported for reference; ignored on import.",
            FileColumn::SignupDate => "When the user signed up (UTC). Exported for reference; ignored on import.",
            FileColumn::LastAccess => "When the user was last seen (UTC). Exported for reference; ignored on import.",
            FileColumn::Password => "Optional. Sets the user's password (at least 12 characters); stored only as an argon2id hash.",
            FileColumn::SendInvitation => "yes to create the user as invited, to set a password from an invitation. Only for new users.",
        }
    }

    /// The template's example value.
    pub fn example(self) -> &'static str {
        match self {
            FileColumn::Email => "ada.lovelace@example.com",
            FileColumn::Username => "ada",
            FileColumn::FirstName => "Ada",
            FileColumn::LastName => "Lovelace",
            FileColumn::Phone => "+44 20 7946 0958",
            FileColumn::Status => "active",
            FileColumn::Role => "member",
            FileColumn::Balance => "12.50",
            FileColumn::Tags => "vip, newsletter",
            FileColumn::Groups => "Engineering",
            FileColumn::JobTitle => "Analyst",
            FileColumn::Company => "Analytical Engines Ltd",
            FileColumn::Address => "12 St James's Square, London",
            FileColumn::Language => "en",
            FileColumn::EmailOptIn => "yes",
            FileColumn::Note => "",
            FileColumn::Password => "",
            FileColumn::SendInvitation => "no",
            _ => "",
        }
    }

    /// The file columns of the table's visible columns, in file order; email is always
    /// there (an export must be importable).
    pub fn for_table(visible: &[Column]) -> Vec<FileColumn> {
        let wanted = |c: FileColumn| match c {
            FileColumn::Email => true,
            FileColumn::Id => visible.contains(&Column::Id),
            FileColumn::Username => visible.contains(&Column::Username),
            FileColumn::FirstName | FileColumn::LastName => visible.contains(&Column::Name),
            FileColumn::Phone => visible.contains(&Column::Phone),
            FileColumn::Status => visible.contains(&Column::Status),
            FileColumn::Role => visible.contains(&Column::Role),
            FileColumn::Balance => visible.contains(&Column::Balance),
            FileColumn::Devices => visible.contains(&Column::Devices),
            FileColumn::Tags => visible.contains(&Column::Tags),
            FileColumn::SignupDate => visible.contains(&Column::SignupDate),
            FileColumn::LastAccess => visible.contains(&Column::LastAccess),
            _ => false,
        };
        FileColumn::EXPORTED
            .into_iter()
            .filter(|c| wanted(*c))
            .collect()
    }

    /// The column a file header names, ignoring case, spaces, underscores and hyphens.
    pub fn from_header(header: &str) -> Option<FileColumn> {
        let h = normalize_header(header);
        FileColumn::ALL
            .into_iter()
            .find(|c| normalize_header(c.key()) == h || c.aliases().contains(&h.as_str()))
    }
}

/// "First Name", "first_name" and "FIRST-NAME" all become "firstname".
pub fn normalize_header(header: &str) -> String {
    header
        .trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-' | '\u{a0}') && !c.is_control())
        .flat_map(char::to_lowercase)
        .collect()
}

/// What a file's header row means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Headers {
    /// The column each position holds (`None`: ignored).
    pub columns: Vec<Option<FileColumn>>,
    /// The file's own header text per position (for messages and the error file).
    pub names: Vec<String>,
    /// Headers nobody knows, listed to the admin as ignored.
    pub unknown: Vec<String>,
    /// Known columns an import does not write (id, devices, dates).
    pub read_only: Vec<String>,
    /// The custom profile field (its key) each position holds, if any.
    pub fields: Vec<Option<String>>,
}

impl Headers {
    /// Maps a header row; refuses a file without an email column or with a column twice.
    pub fn parse(names: &[String]) -> Result<Headers, String> {
        Headers::parse_with(names, &[])
    }

    /// [`Headers::parse`], also recognising the custom profile fields `keys` (matched
    /// like built-in headers; a built-in column wins).
    pub fn parse_with(names: &[String], keys: &[String]) -> Result<Headers, String> {
        let mut columns = Vec::new();
        let mut unknown = Vec::new();
        let mut read_only = Vec::new();
        let mut seen: BTreeMap<FileColumn, usize> = BTreeMap::new();
        let mut fields = Vec::new();
        let mut seen_fields: BTreeMap<String, usize> = BTreeMap::new();
        for (i, name) in names.iter().enumerate() {
            let column = FileColumn::from_header(name);
            let field = column
                .is_none()
                .then(|| {
                    keys.iter()
                        .find(|k| normalize_header(k) == normalize_header(name))
                })
                .flatten()
                .cloned();
            if let Some(key) = &field {
                if let Some(first) = seen_fields.insert(key.clone(), i) {
                    return Err(format!(
                        "The columns {} and {} both hold {key}; keep one.",
                        column_letter(first),
                        column_letter(i)
                    ));
                }
            }
            if let Some(c) = column {
                if let Some(first) = seen.insert(c, i) {
                    return Err(format!(
                        "The columns {} and {} both hold {}; keep one.",
                        column_letter(first),
                        column_letter(i),
                        c.key()
                    ));
                }
                if c.read_only() {
                    read_only.push(name.trim().to_string());
                }
            } else if field.is_none() && !name.trim().is_empty() {
                unknown.push(name.trim().to_string());
            }
            columns.push(column.filter(|c| !c.read_only()));
            fields.push(field);
        }
        if !seen.contains_key(&FileColumn::Email) {
            let found = if names.iter().all(|n| n.trim().is_empty()) {
                "the first row is empty".to_string()
            } else {
                format!("the first row holds: {}", names.join(", "))
            };
            return Err(format!(
                "The file has no email column ({found}). The first row must name the columns, one of them email; download the template for an example."
            ));
        }
        Ok(Headers {
            columns,
            names: names.iter().map(|n| n.trim().to_string()).collect(),
            unknown,
            read_only,
            fields,
        })
    }
}

/// Spreadsheet column letters: 0 -> A, 25 -> Z, 26 -> AA.
pub fn column_letter(index: usize) -> String {
    let mut n = index + 1;
    let mut out = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        out.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// The delimiter of a CSV file, from its first line: the most frequent of comma,
/// semicolon and tab outside quotes (comma on a tie or when none appears).
pub fn detect_delimiter(text: &str) -> u8 {
    let text = text.trim_start_matches('\u{feff}');
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            '\n' | '\r' if !quoted => break,
            ',' if !quoted => counts[0] += 1,
            ';' if !quoted => counts[1] += 1,
            '\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let delimiters = [b',', b';', b'\t'];
    let mut best = 0;
    for i in 1..3 {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    delimiters[best]
}

fn formula_like(value: &str) -> bool {
    value
        .trim_start_matches('\'')
        .starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// A plain negative number ("-12.50") is data, not a formula.
fn negative_number(value: &str) -> bool {
    value.strip_prefix('-').is_some_and(|rest| {
        !rest.is_empty()
            && rest.chars().all(|c| c.is_ascii_digit() || c == '.')
            && rest.chars().filter(|c| *c == '.').count() <= 1
    })
}

/// A CSV cell a spreadsheet will not run as a formula: a value starting with
/// = + - @ tab or CR (after any leading apostrophes) gets one more `'` in front.
/// [`unneutralise`] is its exact inverse, so export then import is lossless.
pub fn neutralise(value: &str) -> Cow<'_, str> {
    if formula_like(value) && !negative_number(value) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    }
}

/// One CSV cell (RFC 4180): [`neutralise`]d against formulas, then quoted when it
/// holds a comma, quote or line break. Every CSV Roster writes is made of these.
pub fn csv_cell(value: &str) -> Cow<'_, str> {
    let cell = neutralise(value);
    if cell.contains([',', '"', '\n', '\r']) {
        Cow::Owned(format!("\"{}\"", cell.replace('"', "\"\"")))
    } else {
        cell
    }
}

/// Appends one CSV line of `cells` (CRLF-terminated) to `out`.
pub fn push_csv_line<S: AsRef<str>>(out: &mut String, cells: impl IntoIterator<Item = S>) {
    for (i, cell) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&csv_cell(cell.as_ref()));
    }
    out.push_str("\r\n");
}

/// Undoes [`neutralise`]: drops one leading `'` only where `neutralise` added one.
pub fn unneutralise(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if formula_like(rest) && !negative_number(rest) => rest,
        _ => cell,
    }
}

/// yes / no in any of the usual spellings.
pub fn parse_bool(raw: &str) -> Result<bool, String> {
    match raw.trim().to_lowercase().as_str() {
        "yes" | "y" | "true" | "1" | "x" | "ja" | "oui" | "sí" | "si" => Ok(true),
        "no" | "n" | "false" | "0" | "nein" | "non" => Ok(false),
        other => Err(format!("\"{other}\" is not yes or no.")),
    }
}

pub fn bool_text(value: bool) -> &'static str {
    if value {
        "yes"
    } else {
        "no"
    }
}

/// Comma-separated tag or group names.
pub fn split_names(raw: &str) -> Result<Vec<String>, String> {
    let names: Vec<String> = raw.split(',').map(|s| s.trim().to_string()).collect();
    clean_names(&names)
}

/// Names joined the way [`split_names`] reads them.
pub fn join_names(names: &[String]) -> String {
    names.join(", ")
}

/// One data row of an import, parsed. `None` fields leave the user's value as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportRow {
    /// The row's line in the file (1 is the header row).
    pub line: u64,
    pub email: Option<Email>,
    pub username: Option<Username>,
    pub phone: Option<Phone>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub job_title: Option<String>,
    pub company: Option<String>,
    pub address: Option<String>,
    pub language: Option<String>,
    pub status: Option<Status>,
    /// Lower-cased role name.
    pub role: Option<String>,
    pub balance: Option<i64>,
    pub email_opt_in: Option<bool>,
    pub note: Option<String>,
    pub tags: Option<Vec<String>>,
    pub groups: Option<Vec<String>>,
    pub password: Option<String>,
    pub send_invitation: bool,
    /// Non-empty custom field cells as written, by field key (checked by type later,
    /// against the field definitions).
    pub attributes: BTreeMap<String, String>,
}

/// Why a cell (or a whole row) was rejected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellError {
    /// The column as the file names it; empty when the row as a whole is at fault.
    pub column: String,
    pub message: String,
}

fn text(raw: &str, max: usize) -> Result<String, String> {
    let t = raw.trim();
    if t.chars().count() > max {
        Err(format!("Use at most {max} characters."))
    } else {
        Ok(t.to_string())
    }
}

impl ImportRow {
    /// Parses one row's cells (already un-neutralised text, in file order). Every bad
    /// cell is reported, named by its column.
    pub fn parse(
        line: u64,
        headers: &Headers,
        cells: &[String],
    ) -> Result<ImportRow, Vec<CellError>> {
        let mut row = ImportRow {
            line,
            ..ImportRow::default()
        };
        let mut errors = Vec::new();
        for (i, key) in headers.fields.iter().enumerate() {
            let Some(key) = key else { continue };
            let raw = cells.get(i).map(String::as_str).unwrap_or("");
            if !raw.trim().is_empty() {
                row.attributes.insert(key.clone(), raw.to_string());
            }
        }
        for (i, column) in headers.columns.iter().enumerate() {
            let Some(column) = column else { continue };
            let raw = cells.get(i).map(String::as_str).unwrap_or("");
            if raw.trim().is_empty() {
                continue;
            }
            if let Err(message) = row.set(*column, raw) {
                errors.push(CellError {
                    column: headers.names[i].clone(),
                    message,
                });
            }
        }
        if row.email.is_none()
            && !errors
                .iter()
                .any(|e| normalize_header(&e.column) == "email")
        {
            let column = headers
                .columns
                .iter()
                .position(|c| *c == Some(FileColumn::Email))
                .map(|i| headers.names[i].clone())
                .unwrap_or_else(|| "email".into());
            errors.insert(
                0,
                CellError {
                    column,
                    message: "Enter an email address: it identifies the user.".into(),
                },
            );
        }
        if errors.is_empty() {
            Ok(row)
        } else {
            Err(errors)
        }
    }

    fn set(&mut self, column: FileColumn, raw: &str) -> Result<(), String> {
        match column {
            FileColumn::Email => self.email = Some(Email::parse(raw)?),
            FileColumn::Username => self.username = Some(Username::parse(raw)?),
            FileColumn::Phone => self.phone = Some(Phone::parse(raw)?),
            FileColumn::FirstName => self.first_name = Some(text(raw, MAX_NAME_CHARS)?),
            FileColumn::LastName => self.last_name = Some(text(raw, MAX_NAME_CHARS)?),
            FileColumn::JobTitle => self.job_title = Some(text(raw, MAX_TEXT_CHARS)?),
            FileColumn::Company => self.company = Some(text(raw, MAX_TEXT_CHARS)?),
            // The user form's limit (an address is longer than a job title).
            FileColumn::Address => self.address = Some(text(raw, MAX_TEXT_CHARS * 2)?),
            // As the user form keeps it: indentation kept, trailing space dropped.
            FileColumn::Note => {
                let note = raw.trim_end();
                if note.chars().count() > MAX_NOTE_CHARS {
                    return Err(format!("Use at most {MAX_NOTE_CHARS} characters."));
                }
                self.note = Some(note.to_string())
            }
            FileColumn::Language => self.language = Some(parse_language(raw)?),
            FileColumn::Status => {
                let s = raw.trim().to_lowercase();
                self.status = Some(Status::parse(&s).ok_or_else(|| {
                    format!(
                        "\"{}\" is not a status: use active, banned or invited.",
                        raw.trim()
                    )
                })?)
            }
            FileColumn::Role => self.role = Some(raw.trim().to_lowercase()),
            FileColumn::Balance => self.balance = Some(parse_amount(raw)?),
            FileColumn::EmailOptIn => self.email_opt_in = Some(parse_bool(raw)?),
            FileColumn::Tags => self.tags = Some(split_names(raw)?),
            FileColumn::Groups => self.groups = Some(split_names(raw)?),
            FileColumn::Password => {
                crate::domain::account::check_password(raw)?;
                self.password = Some(raw.to_string())
            }
            FileColumn::SendInvitation => self.send_invitation = parse_bool(raw)?,
            FileColumn::Id
            | FileColumn::Devices
            | FileColumn::SignupDate
            | FileColumn::LastAccess => {}
        }
        Ok(())
    }
}

/// The format of a users file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FileFormat {
    Csv,
    Xlsx,
}

impl FileFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            FileFormat::Csv => "csv",
            FileFormat::Xlsx => "xlsx",
        }
    }

    pub fn parse(s: &str) -> Option<FileFormat> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" => Some(FileFormat::Csv),
            "xlsx" => Some(FileFormat::Xlsx),
            _ => None,
        }
    }

    /// From a file name's extension.
    pub fn from_file_name(name: &str) -> Option<FileFormat> {
        name.rsplit_once('.')
            .and_then(|(_, ext)| FileFormat::parse(ext))
    }
}

/// A rejected row of an import.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedRow {
    pub line: u64,
    /// The email cell as written (may be empty or invalid).
    pub email: String,
    pub errors: Vec<CellError>,
}

/// A row that updates an existing user, with the fields it changes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdatedRow {
    pub line: u64,
    pub email: String,
    pub fields: Vec<String>,
    /// The name the file gives ("" when it has no name columns).
    #[serde(default)]
    pub name: String,
}

/// Most updated rows a report lists one by one (all are counted).
pub const REPORT_UPDATED_ROWS: usize = 500;

/// A user an import creates, as the report lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedRow {
    pub line: u64,
    pub email: String,
    pub name: String,
}

/// Most new users a report lists one by one (all are counted).
pub const REPORT_CREATED_ROWS: usize = 50;

impl ImportRow {
    /// "First Last" as the file gives them.
    pub fn name(&self) -> String {
        let first = self.first_name.as_deref().unwrap_or_default().trim();
        let last = self.last_name.as_deref().unwrap_or_default().trim();
        format!("{first} {last}").trim().to_string()
    }
}

/// What an import did (or, in a preview, will do).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: u64,
    /// Every rejected row with its reasons.
    pub rejected_rows: Vec<RejectedRow>,
    /// The first [`REPORT_UPDATED_ROWS`] updated rows.
    pub updated_rows: Vec<UpdatedRow>,
    /// The first [`REPORT_CREATED_ROWS`] new users.
    #[serde(default)]
    pub created_rows: Vec<CreatedRow>,
    /// Field -> how many users it changes for.
    pub changed_fields: BTreeMap<String, u64>,
    pub new_tags: Vec<String>,
    pub new_groups: Vec<String>,
    /// File headers nobody knows.
    pub ignored_columns: Vec<String>,
    /// Known columns that an import does not write.
    pub read_only_columns: Vec<String>,
}

/// Where an import job is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobState {
    /// Uploaded; the preview is running.
    Previewing,
    /// The preview is ready; nothing is written yet.
    Previewed,
    Applying,
    Applied,
    Failed,
}

impl JobState {
    /// The `import_jobs.state` value.
    pub const fn as_db(self) -> &'static str {
        match self {
            JobState::Previewing => "uploaded",
            JobState::Previewed => "previewed",
            JobState::Applying => "applying",
            JobState::Applied => "applied",
            JobState::Failed => "failed",
        }
    }

    pub fn from_db(s: &str) -> Option<JobState> {
        [
            JobState::Previewing,
            JobState::Previewed,
            JobState::Applying,
            JobState::Applied,
            JobState::Failed,
        ]
        .into_iter()
        .find(|j| j.as_db() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            JobState::Previewing => "Checking",
            JobState::Previewed => "Ready to apply",
            JobState::Applying => "Applying",
            JobState::Applied => "Applied",
            JobState::Failed => "Failed",
        }
    }

    pub fn running(self) -> bool {
        matches!(self, JobState::Previewing | JobState::Applying)
    }
}

/// How far a running job is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Progress {
    pub phase: String,
    pub done: u64,
    pub total: u64,
}

impl Progress {
    /// Whole percent done (0 when the total is unknown).
    pub fn percent(&self) -> u64 {
        (self.done * 100)
            .checked_div(self.total)
            .unwrap_or(0)
            .min(100)
    }
}

/// An import job as the Imports pages show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportJob {
    pub id: i64,
    pub file_name: String,
    pub format: FileFormat,
    pub state: JobState,
    pub actor_email: Option<String>,
    #[serde(with = "chrono::serde::ts_seconds")]
    pub created_at: chrono::DateTime<chrono::Utc>,
    #[serde(with = "chrono::serde::ts_seconds_option")]
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The preview's report, or after applying, what was written.
    pub report: Option<ImportReport>,
    /// Whether the applied import skipped rejected rows.
    pub skipped_invalid: bool,
    pub progress: Option<Progress>,
    /// Why the job failed.
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(names: &[&str]) -> Headers {
        Headers::parse(&names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .expect("headers parse")
    }

    #[test]
    fn headers_match_ignoring_case_spaces_underscores_and_hyphens() {
        let cases = [
            ("First Name", Some(FileColumn::FirstName)),
            ("first_name", Some(FileColumn::FirstName)),
            ("FIRST-NAME", Some(FileColumn::FirstName)),
            ("\u{feff}Email", Some(FileColumn::Email)),
            (" e-mail ", Some(FileColumn::Email)),
            ("Surname", Some(FileColumn::LastName)),
            ("Signup date", Some(FileColumn::SignupDate)),
            ("Email opt-in", Some(FileColumn::EmailOptIn)),
            ("Send Invitation", Some(FileColumn::SendInvitation)),
            ("favourite colour", None),
        ];
        for (header, want) in cases {
            assert_eq!(FileColumn::from_header(header), want, "{header:?}");
        }
    }

    #[test]
    fn every_key_and_alias_names_one_column() {
        let mut seen = BTreeMap::new();
        for c in FileColumn::ALL {
            for name in std::iter::once(normalize_header(c.key()))
                .chain(c.aliases().iter().map(|a| a.to_string()))
            {
                if let Some(other) = seen.insert(name.clone(), c) {
                    assert_eq!(other, c, "{name} names two columns");
                }
            }
            assert_eq!(FileColumn::from_header(c.key()), Some(c), "{c:?}");
        }
    }

    #[test]
    fn header_row_lists_unknown_and_read_only_columns() {
        let h = headers(&["ID", "Email", "Shoe size", "Devices", "Tags"]);
        assert_eq!(
            h.columns,
            vec![
                None,
                Some(FileColumn::Email),
                None,
                None,
                Some(FileColumn::Tags)
            ]
        );
        assert_eq!(h.unknown, vec!["Shoe size"]);
        assert_eq!(h.read_only, vec!["ID", "Devices"]);
    }

    #[test]
    fn custom_field_headers_are_recognised_and_their_cells_kept() {
        let names: Vec<String> = ["Email", "Customer No", "plan", "Shoe size"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let keys = vec!["customer_no".to_string(), "plan".to_string()];
        let h = Headers::parse_with(&names, &keys).expect("headers");
        assert_eq!(
            h.fields,
            vec![None, Some("customer_no".into()), Some("plan".into()), None]
        );
        assert_eq!(h.unknown, vec!["Shoe size"]);
        let row = ImportRow::parse(
            2,
            &h,
            &["a@x.io".into(), "C-12".into(), "".into(), "9".into()],
        )
        .expect("row");
        assert_eq!(
            row.attributes,
            BTreeMap::from([("customer_no".to_string(), "C-12".to_string())])
        );
        let twice: Vec<String> = ["email", "plan", "Plan"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert!(Headers::parse_with(&twice, &keys)
            .unwrap_err()
            .contains("B and C"));
    }

    #[test]
    fn header_row_without_email_or_with_a_twin_is_refused() {
        let err = Headers::parse(&["name".into(), "phone".into()]).unwrap_err();
        assert!(err.contains("no email column"), "{err}");
        assert!(err.contains("name, phone"), "{err}");
        let err = Headers::parse(&["email".into(), "First name".into(), "first_name".into()])
            .unwrap_err();
        assert!(err.contains("B and C"), "{err}");
    }

    #[test]
    fn column_letters() {
        for (i, want) in [
            (0, "A"),
            (1, "B"),
            (25, "Z"),
            (26, "AA"),
            (27, "AB"),
            (701, "ZZ"),
            (702, "AAA"),
        ] {
            assert_eq!(column_letter(i), want, "{i}");
        }
    }

    #[test]
    fn delimiter_is_the_most_frequent_outside_quotes() {
        let cases = [
            ("email,first_name,last_name\na,b,c", b','),
            ("email;first_name;last_name\r\na;b;c", b';'),
            ("email\tfirst_name\tlast_name", b'\t'),
            ("\u{feff}email;\"a,b,c,d\";x", b';'),
            ("email", b','),
            ("a;b,c", b','),
            ("email;name\nx,y,z,w,v", b';'),
        ];
        for (text, want) in cases {
            assert_eq!(detect_delimiter(text) as char, want as char, "{text:?}");
        }
    }

    #[test]
    fn csv_cells_are_quoted_and_neutralised() {
        let cases = [
            ("plain", "plain"),
            ("a,b", "\"a,b\""),
            ("say \"hi\"", "\"say \"\"hi\"\"\""),
            ("two\nlines", "\"two\nlines\""),
            ("=1+2", "'=1+2"),
            ("+46701234567", "'+46701234567"),
            ("-5", "-5"),
            ("-1+2", "'-1+2"),
            ("@cmd", "'@cmd"),
            ("=a,b", "\"'=a,b\""),
            ("", ""),
        ];
        for (input, want) in cases {
            assert_eq!(csv_cell(input), want, "{input:?}");
        }
        let mut line = String::new();
        push_csv_line(&mut line, ["a", "=b", "c,d"]);
        assert_eq!(line, "a,'=b,\"c,d\"\r\n");
    }

    #[test]
    fn neutralise_guards_formulas_and_unneutralise_is_its_inverse() {
        let cases = [
            ("=SUM(A1)", "'=SUM(A1)"),
            ("+46701234567", "'+46701234567"),
            ("-cmd", "'-cmd"),
            ("@import", "'@import"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("'=x", "''=x"),
            ("-12.50", "-12.50"),
            ("'hello", "'hello"),
            ("hello", "hello"),
            ("", ""),
            ("a=b", "a=b"),
        ];
        for (value, want) in cases {
            assert_eq!(neutralise(value), want, "{value:?}");
            assert_eq!(
                unneutralise(&neutralise(value)),
                value,
                "{value:?} round trip"
            );
        }
    }

    #[test]
    fn neutralise_round_trips_every_short_string_of_tricky_characters() {
        let alphabet = ['\'', '=', '+', '-', '@', '\t', '\r', '1', '.', 'a'];
        let mut strings = vec![String::new()];
        for _ in 0..4 {
            let mut next = Vec::new();
            for s in &strings {
                for c in alphabet {
                    next.push(format!("{s}{c}"));
                }
            }
            strings.extend(next.clone());
            strings = strings
                .into_iter()
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
        }
        assert!(strings.len() > 10_000);
        for s in &strings {
            let cell = neutralise(s);
            assert!(
                !cell.starts_with(['=', '+', '@', '\t', '\r'])
                    && (!cell.starts_with('-') || negative_number(&cell)),
                "{s:?} -> {cell:?} could run as a formula"
            );
            assert_eq!(unneutralise(&cell), s, "{s:?}");
        }
    }

    #[test]
    fn booleans_in_the_usual_spellings() {
        for yes in ["yes", "Y", "TRUE", "1", "x", "ja"] {
            assert_eq!(parse_bool(yes), Ok(true), "{yes}");
        }
        for no in ["no", "N", "false", "0", "nein"] {
            assert_eq!(parse_bool(no), Ok(false), "{no}");
        }
        assert!(parse_bool("maybe").unwrap_err().contains("maybe"));
    }

    fn row(h: &Headers, cells: &[&str]) -> Result<ImportRow, Vec<CellError>> {
        ImportRow::parse(
            2,
            h,
            &cells.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )
    }

    #[test]
    fn a_row_parses_every_cell_and_leaves_empty_cells_unset() {
        let h = headers(&[
            "email",
            "username",
            "phone",
            "first_name",
            "status",
            "role",
            "balance",
            "tags",
            "groups",
            "email_opt_in",
            "language",
            "send_invitation",
            "note",
        ]);
        let r = row(
            &h,
            &[
                " Ada@Example.COM ",
                "ada",
                "0046 70-123 45 67",
                "Ada",
                "Banned",
                "Admin",
                "1,234.5",
                "vip, beta, VIP",
                "",
                "no",
                "de",
                "yes",
                "",
            ],
        )
        .expect("valid row");
        assert_eq!(
            r.email.as_ref().map(|e| e.as_str()),
            Some("ada@example.com")
        );
        assert_eq!(r.username.as_ref().map(|u| u.as_str()), Some("ada"));
        assert_eq!(r.phone.as_ref().map(|p| p.as_str()), Some("+46701234567"));
        assert_eq!(r.first_name.as_deref(), Some("Ada"));
        assert_eq!(r.last_name, None);
        assert_eq!(r.status, Some(Status::Banned));
        assert_eq!(r.role.as_deref(), Some("admin"));
        assert_eq!(r.balance, Some(123_450));
        assert_eq!(r.tags, Some(vec!["vip".to_string(), "beta".to_string()]));
        assert_eq!(
            r.groups, None,
            "an empty groups cell leaves groups as they are"
        );
        assert_eq!(r.email_opt_in, Some(false));
        assert_eq!(r.language.as_deref(), Some("de"));
        assert!(r.send_invitation);
        assert_eq!(r.note, None);
    }

    #[test]
    fn every_bad_cell_is_named_by_its_column() {
        let h = headers(&[
            "E-mail",
            "Phone",
            "Status",
            "Balance",
            "Email opt-in",
            "Password",
        ]);
        let errors = row(
            &h,
            &[
                "not-an-email",
                "12345",
                "gone",
                "12.345",
                "perhaps",
                "short",
            ],
        )
        .unwrap_err();
        let columns: Vec<&str> = errors.iter().map(|e| e.column.as_str()).collect();
        assert_eq!(
            columns,
            vec![
                "E-mail",
                "Phone",
                "Status",
                "Balance",
                "Email opt-in",
                "Password"
            ]
        );
        assert!(
            errors[2].message.contains("active, banned or invited"),
            "{errors:?}"
        );
    }

    #[test]
    fn a_row_without_an_email_is_rejected_on_the_email_column() {
        let h = headers(&["first_name", "Email"]);
        let errors = row(&h, &["Ada", ""]).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].column, "Email");
        let errors = row(&h, &["Ada"]).unwrap_err();
        assert_eq!(
            errors[0].column, "Email",
            "a short row lacks the email cell"
        );
    }

    #[test]
    fn notes_and_addresses_read_back_as_the_user_form_stores_them() {
        let h = headers(&["email", "note", "address"]);
        let address = "a".repeat(MAX_TEXT_CHARS * 2);
        let r = row(&h, &["a@x.io", "  indented\n- item  \n", &address]).expect("valid row");
        assert_eq!(r.note.as_deref(), Some("  indented\n- item"));
        assert_eq!(r.address.as_deref(), Some(address.as_str()));
        let too_long = format!("{address}a");
        let errors = row(&h, &["a@x.io", "", &too_long]).unwrap_err();
        assert_eq!(errors[0].column, "address");
    }

    #[test]
    fn names_join_and_split_back() {
        let names = vec!["vip".to_string(), "Early adopter".to_string()];
        assert_eq!(split_names(&join_names(&names)), Ok(names));
    }

    #[test]
    fn table_columns_become_file_columns_with_email_always_there() {
        assert_eq!(
            FileColumn::for_table(&[Column::Name, Column::Tags]),
            vec![
                FileColumn::Email,
                FileColumn::FirstName,
                FileColumn::LastName,
                FileColumn::Tags
            ]
        );
        assert_eq!(
            FileColumn::for_table(&Column::ALL).len(),
            13,
            "every table column has file columns"
        );
    }

    #[test]
    fn every_importable_column_is_in_the_template_with_a_description() {
        for c in FileColumn::ALL {
            assert!(!c.description().is_empty(), "{c:?}");
            assert_eq!(FileColumn::TEMPLATE.contains(&c), !c.read_only(), "{c:?}");
        }
        let h = headers(&FileColumn::TEMPLATE.map(|c| c.key()));
        let example: Vec<String> = FileColumn::TEMPLATE
            .iter()
            .map(|c| c.example().to_string())
            .collect();
        assert!(
            ImportRow::parse(2, &h, &example).is_ok(),
            "the template's example row imports"
        );
    }
}
