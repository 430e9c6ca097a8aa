//! `server import` and `server export`: the same services as the web pages, with a
//! progress bar on the terminal.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use app::backend::transfer::{export, import, read, Reporter};
use app::backend::Config;
use app::domain::permissions::ALL;
use app::domain::transfer::{FileColumn, FileFormat, Progress};
use app::domain::{AdminInfo, Column, UserQuery};
use indicatif::{ProgressBar, ProgressStyle};
use sea_orm::DatabaseConnection;

/// Who the audit log names for command-line imports.
fn operator() -> AdminInfo {
    AdminInfo {
        id: 0,
        email: "command line".into(),
        name: "Command line".into(),
        role: "owner".into(),
        permissions: ALL.iter().map(|p| p.to_string()).collect(),
        must_change_password: false,
    }
}

fn bar() -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg:>16} [{bar:40}] {pos}/{len} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

fn on_progress(bar: &ProgressBar) -> impl Fn(&Progress) + Sync + '_ {
    move |p: &Progress| {
        bar.set_message(p.phase.clone());
        bar.set_length(p.total);
        bar.set_position(p.done);
    }
}

pub async fn import(
    db: &DatabaseConnection,
    file: &Path,
    apply: bool,
    skip_invalid: bool,
) -> anyhow::Result<()> {
    let name = file.display().to_string();
    let format = FileFormat::from_file_name(&name)
        .with_context(|| format!("{name}: the name must end in .csv or .xlsx"))?;
    let size = std::fs::metadata(file)
        .with_context(|| format!("cannot read {name}"))?
        .len();
    if size > read::MAX_FILE_BYTES {
        anyhow::bail!(
            "{name}: the file is {} MB; the most an import reads is {} MB. Split it into smaller files.",
            size / (1024 * 1024),
            read::MAX_FILE_BYTES / (1024 * 1024)
        );
    }
    let data = std::fs::read(file).with_context(|| format!("cannot read {name}"))?;
    let started = Instant::now();
    let table = read::read(&data, format).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    drop(data);
    let bar = bar();
    let callback = on_progress(&bar);
    let reporter = Reporter::callback(&callback);
    let outcome = import::run(
        db,
        &Config::default(),
        &operator(),
        &table,
        import::Options {
            apply,
            skip_invalid,
        },
        None,
        &reporter,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{}", crate::describe(e)))?;
    bar.finish_and_clear();
    let r = &outcome.report;
    println!(
        "{name}: {} rows: {} to create, {} to update, {} unchanged, {} rejected ({:.1} s).",
        r.rows,
        r.created,
        r.updated,
        r.unchanged,
        r.rejected,
        started.elapsed().as_secs_f64()
    );
    if !r.ignored_columns.is_empty() {
        println!(
            "Ignored columns (unknown): {}",
            r.ignored_columns.join(", ")
        );
    }
    if !r.new_tags.is_empty() {
        println!("New tags: {}", r.new_tags.join(", "));
    }
    if !r.new_groups.is_empty() {
        println!("New groups: {}", r.new_groups.join(", "));
    }
    for row in r.rejected_rows.iter().take(50) {
        let reasons: Vec<String> = row
            .errors
            .iter()
            .map(|e| format!("{}: {}", e.column, e.message))
            .collect();
        println!("  line {}: {}", row.line, reasons.join("; "));
    }
    if r.rejected_rows.len() > 50 {
        println!("  … and {} more rejected rows", r.rejected_rows.len() - 50);
    }
    match (apply, outcome.written) {
        (false, _) => println!("Nothing was written (a preview). Run again with --apply to write."),
        (true, true) => println!("Applied."),
        (true, false) => anyhow::bail!(
            "nothing was written: {} rows are rejected. Fix them, or add --skip-invalid to write the valid rows.",
            r.rejected
        ),
    }
    Ok(())
}

pub async fn export(
    db: &DatabaseConnection,
    format: &str,
    query: Option<&str>,
    bom: bool,
    out: &Path,
) -> anyhow::Result<()> {
    let format = FileFormat::parse(format).context("--format must be csv or xlsx")?;
    let (query, columns) = match query {
        Some(q) => {
            let query = UserQuery::from_query_string(q);
            let hidden = query.hidden.clone().unwrap_or_default();
            let visible: Vec<Column> = Column::ALL
                .into_iter()
                .filter(|c| !hidden.contains(c))
                .collect();
            let columns = if query.hidden.is_some() {
                FileColumn::for_table(&visible)
            } else {
                FileColumn::EXPORTED.to_vec()
            };
            (query, columns)
        }
        None => (
            UserQuery {
                sort: app::domain::SortKey::Id,
                dir: app::domain::SortDir::Asc,
                ..UserQuery::default()
            },
            FileColumn::EXPORTED.to_vec(),
        ),
    };
    let fields = app::backend::fields::list(db, false)
        .await
        .map_err(|e| anyhow::anyhow!("{}", crate::describe(e)))?;
    let spec = export::ExportSpec {
        query,
        columns,
        fields,
        bom,
    };
    let started = Instant::now();
    let bar = bar();
    let callback = on_progress(&bar);
    let reporter = Reporter::callback(&callback);
    let rows = match format {
        FileFormat::Csv => {
            use std::io::Write;
            let file = std::fs::File::create(out)
                .with_context(|| format!("cannot create {}", out.display()))?;
            let mut writer = std::io::BufWriter::with_capacity(1 << 20, file);
            let mut failed: Option<std::io::Error> = None;
            let rows = export::csv(db, &spec, &reporter, |chunk| {
                let ok = match writer.write_all(&chunk) {
                    Ok(()) => true,
                    Err(e) => {
                        failed = Some(e);
                        false
                    }
                };
                std::future::ready(ok)
            })
            .await
            .map_err(|e| anyhow::anyhow!("{}", crate::describe(e)))?;
            if let Some(e) = failed {
                return Err(e).with_context(|| format!("writing {}", out.display()));
            }
            writer.flush()?;
            rows
        }
        FileFormat::Xlsx => export::xlsx(db, &spec, &reporter, out)
            .await
            .map_err(|e| anyhow::anyhow!("{}", crate::describe(e)))?,
    };
    bar.finish_and_clear();
    let peak = peak_memory_mb()
        .map(|mb| format!(" (peak memory {mb:.0} MB)"))
        .unwrap_or_default();
    println!(
        "Wrote {rows} users to {} in {:.1} s{peak}.",
        out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// This process's peak resident memory (Linux `VmHWM`), in MB.
pub fn peak_memory_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
