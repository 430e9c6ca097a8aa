//! The file endpoints: exports (CSV streamed as it is written, XLSX built in constant
//! memory then sent), the import templates, the upload that starts an import, and the
//! rejected rows of an import. Each checks the admin's session and permission.

use app::backend::transfer::{export, jobs, read, Reporter};
use app::backend::{auth, prefs, ServiceError};
use app::domain::permissions::{USERS_EXPORT, USERS_IMPORT};
use app::domain::transfer::{FileColumn, FileFormat};
use app::domain::{AdminInfo, Column, UserQuery};
use axum::body::Body;
use axum::extract::{Multipart, Path, RawQuery, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::{Access, Endpoint, ServerState};

/// The file endpoints, with the permission each needs.
pub fn endpoints(max_upload_bytes: u64) -> Vec<Endpoint> {
    use app::domain::permissions::AUDIT_READ;
    vec![
        Endpoint::new(
            Method::GET,
            "/users/export.csv",
            Access::Admin(USERS_EXPORT),
            get(export_csv),
        ),
        Endpoint::new(
            Method::GET,
            "/users/export.xlsx",
            Access::Admin(USERS_EXPORT),
            get(export_xlsx),
        ),
        Endpoint::new(
            Method::GET,
            "/imports/template.csv",
            Access::Admin(USERS_IMPORT),
            get(template_csv),
        ),
        Endpoint::new(
            Method::GET,
            "/imports/template.xlsx",
            Access::Admin(USERS_IMPORT),
            get(template_xlsx),
        ),
        Endpoint::new(
            Method::GET,
            "/imports/{id}/rejected",
            Access::Admin(USERS_IMPORT),
            get(rejected_rows),
        ),
        Endpoint::new(
            Method::GET,
            "/audit.csv",
            Access::Admin(AUDIT_READ),
            get(audit_csv),
        ),
        Endpoint::new(
            Method::POST,
            "/imports/upload",
            Access::Admin(USERS_IMPORT),
            post(upload).layer(axum::extract::DefaultBodyLimit::max(
                // Room for the multipart framing around the file.
                (max_upload_bytes + 64 * 1024) as usize,
            )),
        ),
    ]
}

/// The signed-in admin holding `permission`, or the response refusing the request.
pub async fn admin_for(
    state: &ServerState,
    headers: &HeaderMap,
    permission: &str,
) -> Result<AdminInfo, Response> {
    let token = app::api::cookie::session_token_in(headers, &state.app.config);
    let result = async {
        let token = token.ok_or(ServiceError::Unauthorized)?;
        let admin = auth::admin_for_token(&state.app.db, &state.app.config, &token).await?;
        auth::require(&admin, permission)?;
        Ok(admin)
    }
    .await;
    result.map_err(error_response)
}

/// A service error as a file route answers it: the status and the sentence.
pub fn error_response(err: ServiceError) -> Response {
    let (status, err) = app::api::edge::app_error(err);
    (status, err.summary()).into_response()
}

fn attachment(content_type: &str, name: &str) -> [(header::HeaderName, String); 3] {
    [
        (header::CONTENT_TYPE, content_type.to_string()),
        (header::CONTENT_DISPOSITION, content_disposition(name)),
        (header::CACHE_CONTROL, "no-store".to_string()),
    ]
}

const CSV: &str = "text/csv; charset=utf-8";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// What an export request asks for: `all=1` exports every user and column; otherwise
/// the query string is the table's view (its filters, sort and hidden columns; without
/// `hide`, the admin's saved choice). `bom=1` adds a BOM (CSV), `token` names the
/// progress entry the page polls.
async fn export_spec(
    state: &ServerState,
    admin: &AdminInfo,
    raw: &str,
) -> Result<(export::ExportSpec, Option<String>), ServiceError> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .collect();
    let flag = |name: &str| {
        pairs
            .iter()
            .any(|(k, v)| k == name && (v == "1" || v == "true"))
    };
    let fields = app::backend::fields::list(&state.app.db, false).await?;
    let token = pairs
        .iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| {
            v.chars()
                .filter(char::is_ascii_alphanumeric)
                .take(40)
                .collect::<String>()
        })
        .filter(|t| !t.is_empty());
    let spec = if flag("all") {
        export::ExportSpec {
            query: UserQuery {
                sort: app::domain::SortKey::Id,
                dir: app::domain::SortDir::Asc,
                ..UserQuery::default()
            },
            columns: FileColumn::EXPORTED.to_vec(),
            fields: fields.clone(),
            bom: flag("bom"),
        }
    } else {
        let query = UserQuery::from_query_string(raw);
        let hidden = match &query.hidden {
            Some(h) => h.clone(),
            None => prefs::hidden_columns(&state.app.db, admin.id).await?,
        };
        let visible: Vec<Column> = Column::ALL
            .into_iter()
            .filter(|c| !hidden.contains(c))
            .collect();
        export::ExportSpec {
            query,
            columns: FileColumn::for_table(&visible),
            fields,
            bom: flag("bom"),
        }
    };
    Ok((spec, token))
}

/// The export an admin with `users.export` asks for, or the response refusing it.
async fn export_request(
    state: &ServerState,
    headers: &HeaderMap,
    raw: Option<&str>,
) -> Result<(export::ExportSpec, Option<String>), Response> {
    let admin = admin_for(state, headers, USERS_EXPORT).await?;
    export_spec(state, &admin, raw.unwrap_or(""))
        .await
        .map_err(error_response)
}

async fn export_csv(
    State(state): State<ServerState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let (spec, token) = match export_request(&state, &headers, raw.as_deref()).await {
        Ok(request) => request,
        Err(refused) => return refused,
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let app = state.app.clone();
    tokio::spawn(async move {
        let key = token.map(|t| format!("export:{t}"));
        let reporter = match &key {
            Some(k) => Reporter::new(&app.jobs, k.clone()),
            None => Reporter::silent(),
        };
        let sender = tx.clone();
        let result = export::csv(&app.db, &spec, &reporter, |chunk| {
            let sender = sender.clone();
            async move { sender.send(Ok(chunk)).await.is_ok() }
        })
        .await;
        if let Err(e) = result {
            tracing::error!(error = ?e, "CSV export failed");
            let _ = tx
                .send(Err(std::io::Error::other(
                    "the export failed on the server",
                )))
                .await;
        }
        reporter.report("Done", 1, 1);
    });
    let mut rx = rx;
    let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let name = export::file_name(FileFormat::Csv, app::backend::now());
    (attachment(CSV, &name), Body::from_stream(stream)).into_response()
}

async fn export_xlsx(
    State(state): State<ServerState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let (spec, token) = match export_request(&state, &headers, raw.as_deref()).await {
        Ok(request) => request,
        Err(refused) => return refused,
    };
    let result = async {
        let dir = tempfile::tempdir().map_err(anyhow::Error::from)?;
        let path = dir.path().join("export.xlsx");
        let reporter = match &token {
            Some(t) => Reporter::new(&state.app.jobs, format!("export:{t}")),
            None => Reporter::silent(),
        };
        export::xlsx(&state.app.db, &spec, &reporter, &path).await?;
        reporter.report("Done", 1, 1);
        let file = tokio::fs::File::open(&path)
            .await
            .map_err(anyhow::Error::from)?;
        Ok::<_, ServiceError>((dir, file))
    }
    .await;
    match result {
        Ok((dir, file)) => {
            // The directory (and the file) go when the body has been sent.
            let stream = tokio_util::io::ReaderStream::new(file);
            let stream = futures_util::StreamExt::map(stream, move |chunk| {
                let _keep = &dir;
                chunk
            });
            let name = export::file_name(FileFormat::Xlsx, app::backend::now());
            (attachment(XLSX, &name), Body::from_stream(stream)).into_response()
        }
        Err(e) => error_response(e),
    }
}

async fn template_csv(State(state): State<ServerState>, headers: HeaderMap) -> Response {
    if let Err(r) = admin_for(&state, &headers, USERS_IMPORT).await {
        return r;
    }
    let fields = match app::backend::fields::list(&state.app.db, false).await {
        Ok(f) => f,
        Err(e) => return error_response(e),
    };
    (
        attachment(CSV, "roster-import-template.csv"),
        export::template_csv(&fields),
    )
        .into_response()
}

async fn template_xlsx(State(state): State<ServerState>, headers: HeaderMap) -> Response {
    if let Err(r) = admin_for(&state, &headers, USERS_IMPORT).await {
        return r;
    }
    let fields = match app::backend::fields::list(&state.app.db, false).await {
        Ok(f) => f,
        Err(e) => return error_response(e),
    };
    match export::template_xlsx(&fields) {
        Ok(bytes) => (attachment(XLSX, "roster-import-template.xlsx"), bytes).into_response(),
        Err(e) => error_response(e),
    }
}

/// `attachment` with a file name that may come from an upload: an ASCII fallback with
/// quotes, backslashes and controls replaced, and the exact name in RFC 5987's
/// `filename*` (percent-encoded UTF-8), so no name can break out of the header.
pub fn content_disposition(name: &str) -> String {
    let fallback: String = name
        .chars()
        .take(200)
        .map(|c| {
            if (c.is_ascii_graphic() && c != '"' && c != '\\') || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut exact = String::new();
    for b in name.bytes().take(600) {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            exact.push(b as char);
        } else {
            exact.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{exact}")
}

async fn rejected_rows(
    State(state): State<ServerState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    if let Err(r) = admin_for(&state, &headers, USERS_IMPORT).await {
        return r;
    }
    match jobs::error_file(&state.app.db, &state.app.jobs, id).await {
        Ok((bytes, name, format)) => {
            let ct = match format {
                FileFormat::Csv => CSV,
                FileFormat::Xlsx => XLSX,
            };
            (attachment(ct, &name), bytes).into_response()
        }
        Err(e) => error_response(e),
    }
}

fn back_to_imports(message: &str) -> Response {
    let q: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("error", message)
        .finish();
    Redirect::to(&format!("/imports?{q}")).into_response()
}

/// `POST /imports/upload` (multipart, field `file`): stores the file, starts its
/// preview and sends the browser to the job's page. Problems go back to the Imports
/// page as `?error=`.
async fn upload(
    State(state): State<ServerState>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Response {
    let admin = match admin_for(&state, &headers, USERS_IMPORT).await {
        Ok(a) => a,
        Err(r) if r.status() == StatusCode::UNAUTHORIZED => {
            return Redirect::to("/login").into_response()
        }
        Err(r) => return r,
    };
    let limit = state.app.config.max_upload_bytes;
    let mut file: Option<(String, Vec<u8>)> = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(mut field)) if field.name() == Some("file") => {
                let name = field.file_name().unwrap_or_default().to_string();
                let mut data = Vec::new();
                loop {
                    match field.chunk().await {
                        Ok(Some(chunk)) => {
                            data.extend_from_slice(&chunk);
                            if data.len() as u64 > limit {
                                return back_to_imports(&read::too_large(limit).0);
                            }
                        }
                        Ok(None) => break,
                        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                            return back_to_imports(&read::too_large(limit).0)
                        }
                        Err(e) => {
                            return back_to_imports(&format!(
                                "The upload failed: {}",
                                e.body_text()
                            ))
                        }
                    }
                }
                file = Some((name, data));
            }
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return back_to_imports(&read::too_large(limit).0)
            }
            Err(e) => return back_to_imports(&format!("The upload failed: {}", e.body_text())),
        }
    }
    let Some((name, data)) = file.filter(|(name, _)| !name.is_empty()) else {
        return back_to_imports("Choose a CSV or XLSX file to import.");
    };
    match jobs::create(&state.app, &admin, &name, data).await {
        Ok(id) => {
            if headers.get("x-roster-fetch").is_some() {
                (
                    StatusCode::CREATED,
                    axum::Json(serde_json::json!({ "id": id })),
                )
                    .into_response()
            } else {
                Redirect::to(&format!("/imports/{id}")).into_response()
            }
        }
        Err(ServiceError::Validation(fields)) => {
            back_to_imports(&fields.into_values().flatten().collect::<Vec<_>>().join(" "))
        }
        Err(e) => error_response(e),
    }
}

/// Most entries one audit CSV holds.
const AUDIT_CSV_ROWS: i64 = 1_000_000;

/// `GET /audit.csv?<the audit page's query string>`: the filtered log as CSV.
async fn audit_csv(
    State(state): State<ServerState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    if let Err(r) = admin_for(&state, &headers, app::domain::permissions::AUDIT_READ).await {
        return r;
    }
    use app::backend::audit::chunk_after;
    use app::domain::audit::{audit_csv_lines, AUDIT_CSV_HEADER};
    /// Entries read per query while streaming.
    const CHUNK: i64 = 2000;
    let query = app::domain::audit::AuditQuery::from_query_string(raw.as_deref().unwrap_or(""));
    let db = state.app.db.clone();
    // The first chunk is read before answering, so a failure is a clean error page;
    // the rest streams (keyset by (at, id)), memory flat however long the log.
    let first = match chunk_after(&db, &query, None, CHUNK).await {
        Ok(entries) => entries,
        Err(e) => return error_response(e),
    };
    let head = format!("\u{feff}{AUDIT_CSV_HEADER}{}", audit_csv_lines(&first));
    let after = first.last().map(|e| (e.at, e.id));
    let more = first.len() as i64 == CHUNK;
    let rest = futures_util::stream::unfold(
        (after, more, first.len() as i64),
        move |(after, more, sent)| {
            let (db, query) = (db.clone(), query.clone());
            async move {
                if !more || sent >= AUDIT_CSV_ROWS {
                    return None;
                }
                match chunk_after(&db, &query, after, CHUNK).await {
                    Ok(entries) if entries.is_empty() => None,
                    Ok(entries) => {
                        let next = entries.last().map(|e| (e.at, e.id));
                        let full = entries.len() as i64 == CHUNK;
                        let n = entries.len() as i64;
                        let bytes = axum::body::Bytes::from(audit_csv_lines(&entries));
                        Some((Ok::<_, std::io::Error>(bytes), (next, full, sent + n)))
                    }
                    Err(e) => {
                        tracing::error!(error = ?e, "audit CSV failed midway");
                        Some((
                            Err(std::io::Error::other("the audit CSV failed on the server")),
                            (None, false, sent),
                        ))
                    }
                }
            }
        },
    );
    // Fused: the compression layer polls once more after the end.
    let stream = futures_util::StreamExt::fuse(futures_util::StreamExt::chain(
        futures_util::stream::once(async move {
            Ok::<_, std::io::Error>(axum::body::Bytes::from(head))
        }),
        rest,
    ));
    (attachment(CSV, "audit-log.csv"), Body::from_stream(stream)).into_response()
}

#[cfg(test)]
mod tests {
    use super::content_disposition;

    #[test]
    fn upload_names_cannot_break_out_of_content_disposition() {
        let header = content_disposition("evil\"; filename=x.exe\r\nSet-Cookie: a=b.csv");
        assert!(!header.contains('\r') && !header.contains('\n'), "{header}");
        assert!(
            header.starts_with(
                "attachment; filename=\"evil_; filename=x.exe__Set-Cookie: a=b.csv\"; "
            ),
            "{header}"
        );
        assert!(axum::http::HeaderValue::from_str(&header).is_ok());
        assert_eq!(
            content_disposition("Kundär.csv"),
            "attachment; filename=\"Kund_r.csv\"; filename*=UTF-8''Kund%C3%A4r.csv"
        );
    }
}
