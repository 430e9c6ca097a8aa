//! Exports: every user, or exactly the table's current view (filters, sort and
//! visible columns), as CSV or XLSX; and the import templates.
//!
//! Users are read in id chunks in the view's order, so memory stays flat whatever the
//! size: CSV goes out chunk by chunk as it is written, XLSX is written in
//! rust_xlsxwriter's constant-memory mode to a temporary file.

use std::collections::HashMap;
use std::future::Future;
use std::path::Path;

use chrono::{DateTime, Utc};
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use sea_orm::ConnectionTrait;

use super::Reporter;
use crate::backend::sql::Sql;
use crate::backend::users::{ordered_ids_sql, resolve_tags};
use crate::backend::ServiceError;
use crate::domain::account::amount_text;
use crate::domain::transfer::{
    bool_text, join_names, neutralise, CellKind, FileColumn, FileFormat,
};
use crate::domain::UserQuery;

/// Users read per query.
const CHUNK: usize = 2000;

/// One user as a file row.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Record {
    pub id: i64,
    pub email: String,
    pub username: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub phone: Option<String>,
    pub status: String,
    pub role: String,
    pub balance: i64,
    pub tags: Vec<String>,
    pub groups: Vec<String>,
    pub job_title: String,
    pub company: String,
    pub address: String,
    pub language: String,
    pub email_opt_in: bool,
    pub note: String,
    pub devices: i64,
    pub created_at: DateTime<Utc>,
    pub last_access_at: Option<DateTime<Utc>>,
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl Record {
    /// The cell text of `column`, as the importer reads it back.
    pub fn text(&self, column: FileColumn) -> String {
        match column {
            FileColumn::Id => self.id.to_string(),
            FileColumn::Email => self.email.clone(),
            FileColumn::Username => self.username.clone().unwrap_or_default(),
            FileColumn::FirstName => self.first_name.clone(),
            FileColumn::LastName => self.last_name.clone(),
            FileColumn::Phone => self.phone.clone().unwrap_or_default(),
            FileColumn::Status => self.status.clone(),
            FileColumn::Role => self.role.clone(),
            FileColumn::Balance => amount_text(self.balance),
            FileColumn::Tags => join_names(&self.tags),
            FileColumn::Groups => join_names(&self.groups),
            FileColumn::JobTitle => self.job_title.clone(),
            FileColumn::Company => self.company.clone(),
            FileColumn::Address => self.address.clone(),
            FileColumn::Language => self.language.clone(),
            FileColumn::EmailOptIn => bool_text(self.email_opt_in).to_string(),
            FileColumn::Note => self.note.clone(),
            FileColumn::Devices => self.devices.to_string(),
            FileColumn::SignupDate => rfc3339(self.created_at),
            FileColumn::LastAccess => self.last_access_at.map(rfc3339).unwrap_or_default(),
            FileColumn::Password | FileColumn::SendInvitation => String::new(),
        }
    }
}

/// The ids of the users `query` matches, in its order.
pub async fn ordered_ids<C: ConnectionTrait>(
    db: &C,
    query: &UserQuery,
) -> Result<Vec<i64>, ServiceError> {
    let backend = db.get_database_backend();
    let tags = resolve_tags(db, query.tag_mode, &query.tags).await?;
    Ok(db
        .query_all_raw(ordered_ids_sql(backend, query, &tags).statement(backend))
        .await?
        .iter()
        .map(|r| r.try_get::<i64>("", "id"))
        .collect::<Result<_, _>>()?)
}

/// The records of `ids`, in the order given.
pub async fn records<C: ConnectionTrait>(db: &C, ids: &[i64]) -> Result<Vec<Record>, ServiceError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let mut q = Sql::new(
        "SELECT users.id, users.email, users.username, users.first_name, users.last_name, users.phone, \
         users.status, roles.name AS role, users.balance, users.job_title, users.company, users.address, \
         users.language, users.email_opt_in, users.note, users.created_at, users.last_access_at, \
         (SELECT count(*) FROM devices WHERE devices.user_id = users.id) AS devices \
         FROM users JOIN roles ON roles.id = users.role_id WHERE users.id IN (",
    );
    q.bind_list(ids.iter().copied()).push(")");
    let mut by_id: HashMap<i64, Record> = HashMap::with_capacity(ids.len());
    for r in db.query_all_raw(q.statement(backend)).await? {
        let rec = Record {
            id: r.try_get("", "id")?,
            email: r.try_get("", "email")?,
            username: r.try_get("", "username")?,
            first_name: r.try_get("", "first_name")?,
            last_name: r.try_get("", "last_name")?,
            phone: r.try_get("", "phone")?,
            status: r.try_get("", "status")?,
            role: r.try_get("", "role")?,
            balance: r.try_get("", "balance")?,
            tags: Vec::new(),
            groups: Vec::new(),
            job_title: r.try_get("", "job_title")?,
            company: r.try_get("", "company")?,
            address: r.try_get("", "address")?,
            language: r.try_get("", "language")?,
            email_opt_in: r.try_get("", "email_opt_in")?,
            note: r.try_get("", "note")?,
            devices: r.try_get("", "devices")?,
            created_at: r.try_get("", "created_at")?,
            last_access_at: r.try_get("", "last_access_at")?,
        };
        by_id.insert(rec.id, rec);
    }
    for (table, join, key, tags) in [
        ("tags", "user_tags", "tag_id", true),
        ("groups", "user_groups", "group_id", false),
    ] {
        let mut q = Sql::new(&format!(
            "SELECT j.user_id, t.name FROM {join} j JOIN {table} t ON t.id = j.{key} WHERE j.user_id IN ("
        ));
        q.bind_list(ids.iter().copied())
            .push(") ORDER BY j.user_id, lower(t.name)");
        for r in db.query_all_raw(q.statement(backend)).await? {
            let user: i64 = r.try_get("", "user_id")?;
            let name: String = r.try_get("", "name")?;
            if let Some(rec) = by_id.get_mut(&user) {
                if tags {
                    rec.tags.push(name);
                } else {
                    rec.groups.push(name);
                }
            }
        }
    }
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// One CSV line (RFC 4180, CRLF) of `cells`, each neutralised against formulas.
pub fn csv_line<S: AsRef<str>>(out: &mut Vec<u8>, cells: impl IntoIterator<Item = S>) {
    for (i, cell) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let cell = neutralise(cell.as_ref());
        if cell.contains([',', '"', '\n', '\r']) {
            out.push(b'"');
            out.extend_from_slice(cell.replace('"', "\"\"").as_bytes());
            out.push(b'"');
        } else {
            out.extend_from_slice(cell.as_bytes());
        }
    }
    out.extend_from_slice(b"\r\n");
}

/// What to export.
#[derive(Clone, Debug)]
pub struct ExportSpec {
    pub query: UserQuery,
    pub columns: Vec<FileColumn>,
    /// CSV only: start with a byte-order mark, for Excel.
    pub bom: bool,
}

/// Writes the CSV export of `spec`, handing each chunk of bytes to `emit`; stops
/// early when `emit` returns false (the download was cancelled). Returns the rows written.
pub async fn csv<C, F, Fut>(
    db: &C,
    spec: &ExportSpec,
    progress: &Reporter<'_>,
    mut emit: F,
) -> Result<u64, ServiceError>
where
    C: ConnectionTrait,
    F: FnMut(Vec<u8>) -> Fut,
    Fut: Future<Output = bool>,
{
    let mut head = Vec::new();
    if spec.bom {
        head.extend_from_slice("\u{feff}".as_bytes());
    }
    csv_line(&mut head, spec.columns.iter().map(|c| c.key()));
    if !emit(head).await {
        return Ok(0);
    }
    let ids = ordered_ids(db, &spec.query).await?;
    let total = ids.len() as u64;
    let mut written = 0u64;
    progress.report("Writing rows", 0, total);
    for chunk in ids.chunks(CHUNK) {
        let mut out = Vec::with_capacity(chunk.len() * 160);
        for rec in records(db, chunk).await? {
            csv_line(&mut out, spec.columns.iter().map(|c| rec.text(*c)));
            written += 1;
        }
        if !emit(out).await {
            break;
        }
        progress.report("Writing rows", written, total);
    }
    Ok(written)
}

fn xlsx_error(e: XlsxError) -> ServiceError {
    anyhow::anyhow!("writing the XLSX file: {e}").into()
}

/// The header row: bold, frozen, with widths that fit the usual values.
fn write_header(ws: &mut Worksheet, columns: &[FileColumn]) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold();
    for (i, c) in columns.iter().enumerate() {
        let col = i as u16;
        ws.write_string_with_format(0, col, c.key(), &bold)?;
        let width = match c {
            FileColumn::Email | FileColumn::Address | FileColumn::Note => 32,
            FileColumn::SignupDate | FileColumn::LastAccess => 20,
            FileColumn::Tags | FileColumn::Groups | FileColumn::Company => 24,
            _ => 14,
        };
        ws.set_column_width(col, width)?;
    }
    ws.set_freeze_panes(1, 0)?;
    Ok(())
}

/// Writes one record's cells, typed: numbers, booleans, dates as dates, the rest as
/// text (never a formula; leading zeros and + stay).
fn write_record(
    ws: &mut Worksheet,
    row: u32,
    rec: &Record,
    columns: &[FileColumn],
    formats: &Formats,
) -> Result<(), XlsxError> {
    for (i, c) in columns.iter().enumerate() {
        let col = i as u16;
        match (c.kind(), c) {
            (CellKind::Integer, FileColumn::Id) => {
                ws.write_number(row, col, rec.id as f64)?;
            }
            (CellKind::Integer, _) => {
                ws.write_number(row, col, rec.devices as f64)?;
            }
            (CellKind::Amount, _) => {
                ws.write_number_with_format(row, col, rec.balance as f64 / 100.0, &formats.amount)?;
            }
            (CellKind::Bool, _) => {
                ws.write_boolean(row, col, rec.email_opt_in)?;
            }
            (CellKind::DateTime, FileColumn::SignupDate) => {
                ws.write_datetime_with_format(row, col, rec.created_at.naive_utc(), &formats.date)?;
            }
            (CellKind::DateTime, _) => {
                if let Some(at) = rec.last_access_at {
                    ws.write_datetime_with_format(row, col, at.naive_utc(), &formats.date)?;
                }
            }
            (CellKind::Text, _) => {
                let text = rec.text(*c);
                if !text.is_empty() {
                    ws.write_string(row, col, text)?;
                }
            }
        }
    }
    Ok(())
}

struct Formats {
    amount: Format,
    date: Format,
}

impl Formats {
    fn new() -> Self {
        Formats {
            amount: Format::new().set_num_format("0.00"),
            date: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
        }
    }
}

/// Writes the XLSX export of `spec` to `path`. Returns the rows written.
pub async fn xlsx<C: ConnectionTrait>(
    db: &C,
    spec: &ExportSpec,
    progress: &Reporter<'_>,
    path: &Path,
) -> Result<u64, ServiceError> {
    let ids = ordered_ids(db, &spec.query).await?;
    let total = ids.len() as u64;
    let mut workbook = Workbook::new();
    let tmp = path.parent().unwrap_or_else(|| Path::new("."));
    workbook.set_tempdir(tmp).map_err(xlsx_error)?;
    let formats = Formats::new();
    let mut written = 0u64;
    {
        let ws = workbook
            .add_worksheet_with_constant_memory()
            .map_err(xlsx_error)?
            .set_name("Users")
            .map_err(xlsx_error)?;
        write_header(ws, &spec.columns).map_err(xlsx_error)?;
        progress.report("Writing rows", 0, total);
        for chunk in ids.chunks(CHUNK) {
            let recs = records(db, chunk).await?;
            for rec in &recs {
                written += 1;
                write_record(ws, written as u32, rec, &spec.columns, &formats)
                    .map_err(xlsx_error)?;
            }
            progress.report("Writing rows", written, total);
        }
    }
    progress.report("Compressing", written, total);
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || workbook.save(&path))
        .await
        .map_err(|e| anyhow::anyhow!("XLSX task failed: {e}"))?
        .map_err(xlsx_error)?;
    Ok(written)
}

/// The CSV template: the header row and one example row.
pub fn template_csv() -> Vec<u8> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    csv_line(&mut out, FileColumn::TEMPLATE.iter().map(|c| c.key()));
    csv_line(&mut out, FileColumn::TEMPLATE.iter().map(|c| c.example()));
    out
}

/// The XLSX template: a Users sheet (header and example row) and a Columns sheet
/// explaining every column and its allowed values.
pub fn template_xlsx() -> Result<Vec<u8>, ServiceError> {
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap();
    {
        let ws = workbook
            .add_worksheet()
            .set_name("Users")
            .map_err(xlsx_error)?;
        write_header(ws, &FileColumn::TEMPLATE).map_err(xlsx_error)?;
        for (i, c) in FileColumn::TEMPLATE.iter().enumerate() {
            let col = i as u16;
            match c.kind() {
                CellKind::Amount => {
                    let value: f64 = c.example().parse().unwrap_or(0.0);
                    ws.write_number_with_format(1, col, value, &Formats::new().amount)
                        .map_err(xlsx_error)?;
                }
                CellKind::Bool => {
                    ws.write_boolean(1, col, c.example() == "yes")
                        .map_err(xlsx_error)?;
                }
                _ if !c.example().is_empty() => {
                    ws.write_string(1, col, c.example()).map_err(xlsx_error)?;
                }
                _ => {}
            }
        }
    }
    {
        let ws = workbook
            .add_worksheet()
            .set_name("Columns")
            .map_err(xlsx_error)?;
        for (col, (title, width)) in [
            ("column", 18.0),
            ("required", 10.0),
            ("what it holds and the values allowed", 90.0),
        ]
        .into_iter()
        .enumerate()
        {
            ws.write_string_with_format(0, col as u16, title, &bold)
                .map_err(xlsx_error)?;
            ws.set_column_width(col as u16, width).map_err(xlsx_error)?;
        }
        let described = FileColumn::TEMPLATE
            .iter()
            .chain(FileColumn::EXPORTED.iter().filter(|c| c.read_only()));
        for (i, c) in described.enumerate() {
            let row = i as u32 + 1;
            ws.write_string(row, 0, c.key()).map_err(xlsx_error)?;
            ws.write_string(row, 1, if *c == FileColumn::Email { "yes" } else { "no" })
                .map_err(xlsx_error)?;
            ws.write_string_with_format(row, 2, c.description(), &wrap)
                .map_err(xlsx_error)?;
        }
        ws.set_freeze_panes(1, 0).map_err(xlsx_error)?;
    }
    workbook.save_to_buffer().map_err(xlsx_error)
}

/// The download name of an export.
pub fn file_name(format: FileFormat, at: DateTime<Utc>) -> String {
    format!("users-{}.{}", at.format("%Y%m%d-%H%M%S"), format.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_lines_quote_and_neutralise() {
        let mut out = Vec::new();
        csv_line(
            &mut out,
            [
                "a,b",
                "say \"hi\"",
                "=1+1",
                "+4670",
                "-12.50",
                "line\nbreak",
                "",
            ],
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"a,b\",\"say \"\"hi\"\"\",'=1+1,'+4670,-12.50,\"line\nbreak\",\r\n"
        );
    }

    #[test]
    fn the_templates_hold_the_header_and_an_example_that_imports() {
        use crate::backend::transfer::read::read;
        use crate::domain::transfer::{Headers, ImportRow};
        for (format, data) in [
            (FileFormat::Csv, template_csv()),
            (FileFormat::Xlsx, template_xlsx().expect("template")),
        ] {
            let table = read(&data, format).expect("template reads");
            let headers = Headers::parse(&table.headers).expect("headers");
            assert_eq!(
                headers.columns.len(),
                FileColumn::TEMPLATE.len(),
                "{format:?}"
            );
            assert!(
                headers.unknown.is_empty(),
                "{format:?}: {:?}",
                headers.unknown
            );
            assert_eq!(table.rows.len(), 1, "{format:?}");
            let row = ImportRow::parse(table.rows[0].0, &headers, &table.rows[0].1)
                .unwrap_or_else(|e| panic!("{format:?}: {e:?}"));
            assert_eq!(
                row.email.map(|e| e.as_str().to_string()).as_deref(),
                Some("ada.lovelace@example.com")
            );
            assert_eq!(row.balance, Some(1250), "{format:?}");
            assert_eq!(row.email_opt_in, Some(true), "{format:?}");
        }
    }
}
