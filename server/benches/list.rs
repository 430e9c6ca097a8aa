//! `make bench`: seeds SQLite with N users (1,000,000 by default, kept between runs in
//! target/bench.db), times the users list query server-side, and measures the release
//! WASM + JS. Prints a table and appends one JSON line per figure to
//! bench-results/<timestamp>.jsonl. A benchmark, not a test: nothing here fails on speed.

use std::io::Write;
use std::time::{Duration, Instant};

use app::backend::dialect::Run;
use app::backend::{db, seed, users};
use app::domain::UserQuery;

struct Figure {
    name: String,
    value: f64,
    unit: &'static str,
    n: u64,
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Cargo runs benches from the package directory; paths below are the workspace's.
    std::env::set_current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))?;
    let n: u64 = arg("--users")
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let runs: usize = arg("--runs").map(|s| s.parse()).transpose()?.unwrap_or(60);
    let path = arg("--db").unwrap_or_else(|| format!("target/bench-{n}.db"));
    // `--database-url postgres://…`: the same generated users on PostgreSQL; its
    // figures are written with a `pg.` prefix.
    let url = arg("--database-url").unwrap_or_else(|| format!("sqlite://{path}?mode=rwc"));
    let path = if url.starts_with("postgres") {
        url.clone()
    } else {
        path
    };
    let mut figures = Vec::new();
    // `--hostile-only`: the refused files' memory alone (no database to seed).
    if std::env::args().any(|a| a == "--hostile-only") {
        hostile_figures(&mut figures)?;
        return write_figures(&figures);
    }

    let conn = db::connect(&url, 4).await?;
    server::prepare_database(&conn).await?;
    // The admin the HTTP figures sign in as is removed when they end; an interrupted
    // run may have left it.
    remove_http_admin(&conn).await?;
    if url.starts_with("postgres") {
        // The figures depend on it: README asks for 1-2 GB at a million users.
        let row = conn
            .one(app::backend::sql::Sql::new(
                "SELECT CAST(setting AS BIGINT) * 8 / 1024 AS mb FROM pg_settings WHERE name = 'shared_buffers'",
            ))
            .await?
            .ok_or_else(|| anyhow::anyhow!("no shared_buffers setting"))?;
        let mb: i64 = row.try_get("", "mb")?;
        println!("PostgreSQL shared_buffers: {mb} MB");
        if mb < 1024 {
            println!(
                "  (below the 1-2 GB README asks for at a million users: expect slower searches)"
            );
        }
        figures.push(Figure {
            name: "settings.shared_buffers_mb".into(),
            value: mb as f64,
            unit: "MB",
            n,
        });
    }
    let have = seed::user_count(&conn)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if have != n {
        anyhow::ensure!(
            have == 0,
            "{path} holds {have} users, not {n}: delete it and run again"
        );
        println!("Seeding {n} users into {path} (kept for later runs)…");
        let started = Instant::now();
        let mut last = Instant::now();
        seed::seed(&conn, n, |done| {
            if last.elapsed() >= Duration::from_secs(15) {
                println!("  {done} / {n} ({:.0} s)", started.elapsed().as_secs_f64());
                last = Instant::now();
            }
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        let secs = started.elapsed().as_secs_f64();
        println!("Seeded in {secs:.1} s");
        figures.push(Figure {
            name: "seed.wall_s".into(),
            value: secs,
            unit: "s",
            n,
        });
    }
    use sea_orm::ConnectionTrait;

    // `--transfer-only`: the import and export figures alone.
    if std::env::args().any(|a| a == "--transfer-only") {
        transfer_figures(&path, &mut figures).await?;
        hostile_figures(&mut figures)?;
        return write_figures(&figures);
    }

    // The last page of the whole list at the default page size (deep paging).
    let last_page = format!(
        "sort=last_name&page={}",
        n.div_ceil(u64::from(app::domain::PAGE_SIZES[0])).max(1)
    );
    let cases = [
        ("no_filter", ""),
        ("sort_last_name_last_page", last_page.as_str()),
        ("search_smith", "q=smith"),
        ("search_status_tag", "q=smith&status=active&tags=vip"),
        ("sort_last_name_page_1000", "sort=last_name&page=1000"),
        ("short_prefix_li", "q=li"),
        ("tag_any_vip", "tags=vip&tag_mode=any"),
        ("tag_none_vip", "tags=vip&tag_mode=none"),
        ("search_smith_sort_last_name", "q=smith&sort=last_name"),
        ("signup_range", "from=2024-01-01&to=2024-03-31"),
    ];
    // `--http-only`: the figures over HTTP alone; `--load-only`: the load test alone.
    if std::env::args().any(|a| a == "--http-only") {
        http_figures(&conn, &url, n, &cases, Phases::CASES, &mut figures).await?;
        return write_figures(&figures);
    }
    if std::env::args().any(|a| a == "--load-only") {
        http_figures(&conn, &url, n, &cases, Phases::LOAD, &mut figures).await?;
        return write_figures(&figures);
    }
    println!();
    println!(
        "{:<28} {:>10} {:>10} {:>10}",
        "list query (server time)", "p50 ms", "p95 ms", "rows/total"
    );
    for (name, qs) in cases {
        list_figure(&conn, name, qs, runs, n, &mut figures).await?;
    }

    // Custom profile fields: five defined (set up once, kept in the database), then a
    // filter on a choice field and a search for a searchable text field's value.
    custom_fields(&conn, &bench_admin()).await?;
    for (name, qs) in [
        ("custom_field_filter", "f.plan=is:Team"),
        ("custom_field_search", "q=C-0012345"),
    ] {
        list_figure(&conn, name, qs, runs, n, &mut figures).await?;
    }
    println!();

    // The total on its own (unfiltered, as the table header shows it).
    let count = users::count_sql(
        conn.dialect(),
        &UserQuery::default(),
        &users::Filters::of(&UserQuery::default(), users::TagFilter::Off),
    );
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        conn.one(&count).await?;
        times.push(started.elapsed());
    }
    times.sort();
    let (p50, p95) = (percentile(&times, 0.5), percentile(&times, 0.95));
    println!("{:<28} {p50:>10.2} {p95:>10.2}", "total_count");
    figures.push(Figure {
        name: "list.total_count.p50".into(),
        value: p50,
        unit: "ms",
        n,
    });
    figures.push(Figure {
        name: "list.total_count.p95".into(),
        value: p95,
        unit: "ms",
        n,
    });

    // What users get over HTTP: the same cases against the server binary, then many
    // admins at once (the load test).
    http_figures(&conn, &url, n, &cases, Phases::BOTH, &mut figures).await?;

    // `--list-only`: the list figures alone (a quicker run while working on queries).
    if std::env::args().any(|a| a == "--list-only") {
        return write_figures(&figures);
    }

    // Bulk commands on "all matching": one transaction each, audited per user. Each
    // is undone afterwards, so the database stays as seeded.
    let bench_admin = bench_admin();
    let config = app::backend::Config::default();
    println!();
    println!(
        "{:<28} {:>10} {:>10}",
        "bulk on all matching", "wall s", "users"
    );
    for (name, qs) in [("smith", "q=smith"), ("banned", "status=banned")] {
        use app::backend::bulk;
        use app::domain::{BulkAction, Selection};
        let selection = Selection::Matching(UserQuery::from_query_string(qs));
        let run = |action: BulkAction| {
            let (conn, admin, selection) = (&conn, &bench_admin, &selection);
            async move {
                let started = Instant::now();
                let result = bulk::apply(conn, admin, selection, &action)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                anyhow::Ok((started.elapsed().as_secs_f64(), result))
            }
        };
        let (add_s, added) = run(BulkAction::AddTag("bench-bulk".into())).await?;
        let (remove_s, _) = run(BulkAction::RemoveTag("bench-bulk".into())).await?;
        let (delete_s, deleted) = run(BulkAction::Delete).await?;
        let started = Instant::now();
        bulk::undo_delete(
            &conn,
            &config,
            &bench_admin,
            deleted.deletion_id.unwrap_or_default(),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        let undo_s = started.elapsed().as_secs_f64();
        for (what, secs) in [
            ("tag_add", add_s),
            ("tag_remove", remove_s),
            ("delete", delete_s),
            ("undo_delete", undo_s),
        ] {
            println!(
                "{:<28} {secs:>10.2} {:>10}",
                format!("{what} ({name})"),
                added.affected
            );
            figures.push(Figure {
                name: format!("bulk.{what}_{name}.wall_s"),
                value: secs,
                unit: "s",
                n: added.affected,
            });
        }
    }
    conn.execute_unprepared("DELETE FROM audit_log WHERE actor_email = 'bench@roster.test'; DELETE FROM tags WHERE name = 'bench-bulk';")
        .await?;

    // Activity: ingest 100,000 events in batches of 500 for one user, then time the
    // first page of that user's timeline. The events are removed again afterwards.
    {
        use app::backend::{events, timeline};
        let user = 1_i64;
        let batches = 200;
        let started = Instant::now();
        let mut accepted = 0;
        for b in 0..batches {
            let events: Vec<events::EventIn> = (0..500)
                .map(|i| {
                    serde_json::from_value(serde_json::json!({
                        "user": user,
                        "kind": if i % 5 == 0 { "feature" } else { "page_view" },
                        "name": format!("/bench/{b}/{i}"),
                        "detail": { "batch": b }
                    }))
                })
                .collect::<Result<_, _>>()?;
            accepted += events::ingest(&conn, 0, events)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .accepted;
        }
        let secs = started.elapsed().as_secs_f64();
        let per_s = accepted as f64 / secs;
        println!();
        println!(
            "{:<28} {per_s:>10.0} events/s ({accepted} in {secs:.2} s, batches of 500)",
            "ingest"
        );
        figures.push(Figure {
            name: "events.ingest.per_s".into(),
            value: per_s,
            unit: "events/s",
            n: accepted as u64,
        });
        let mut times = Vec::with_capacity(runs);
        for i in 0..runs + 3 {
            let started = Instant::now();
            let page = timeline::page(&conn, user, &[], 0, 50, true)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            if i >= 3 {
                times.push(started.elapsed());
            }
            anyhow::ensure!(page.entries.len() == 50 && page.more, "a full first page");
        }
        times.sort();
        let (p50, p95) = (percentile(&times, 0.5), percentile(&times, 0.95));
        println!(
            "{:<28} {p50:>10.2} {p95:>10.2}  (user with {accepted}+ events)",
            "timeline first page ms"
        );
        figures.push(Figure {
            name: "timeline.first_page.p50".into(),
            value: p50,
            unit: "ms",
            n: accepted as u64,
        });
        figures.push(Figure {
            name: "timeline.first_page.p95".into(),
            value: p95,
            unit: "ms",
            n: accepted as u64,
        });
        conn.execute_unprepared("DELETE FROM activities WHERE source = 'api key 0'")
            .await?;
    }

    transfer_figures(&path, &mut figures).await?;
    hostile_figures(&mut figures)?;

    // Release WASM + JS as the server sends them: the content-named files and their
    // brotli copies made at build time.
    let site = "target/site";
    let hashes = std::fs::read_to_string(format!("{site}/hash.txt"))
        .map_err(|e| anyhow::anyhow!("{site}/hash.txt: {e}; run `make front-release`"))?;
    let (mut wasm_raw, mut brotli_bytes) = (0u64, 0u64);
    for line in hashes.lines() {
        let Some((kind, hash)) = line.split_once(": ") else {
            continue;
        };
        if kind == "js" || kind == "wasm" {
            let file = format!("{site}/pkg/roster.{hash}.{kind}");
            wasm_raw += std::fs::metadata(&file)?.len();
            brotli_bytes += std::fs::metadata(format!("{file}.br"))
                .map_err(|e| anyhow::anyhow!("{file}.br: {e}; is node installed?"))?
                .len();
        }
    }
    let raw_kb = wasm_raw as f64 / 1024.0;
    let br_kb = brotli_bytes as f64 / 1024.0;
    println!();
    println!(
        "{:<28} {:>10.1} KB raw {:>8.1} KB brotli",
        "release WASM + JS", raw_kb, br_kb
    );
    figures.push(Figure {
        name: "wasm.raw_kb".into(),
        value: raw_kb,
        unit: "KB",
        n: 1,
    });
    figures.push(Figure {
        name: "wasm.brotli_kb".into(),
        value: br_kb,
        unit: "KB",
        n: 1,
    });

    write_figures(&figures)
}

/// Appends the figures as JSON lines to bench-results/<timestamp>.jsonl.
fn write_figures(figures: &[Figure]) -> anyhow::Result<()> {
    std::fs::create_dir_all("bench-results")?;
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let out = format!("bench-results/{stamp}.jsonl");
    let mut file = std::fs::File::create(&out)?;
    let prefix = if arg("--database-url").is_some_and(|u| u.starts_with("postgres")) {
        "pg."
    } else {
        ""
    };
    for f in figures {
        writeln!(
            file,
            "{}",
            serde_json::json!({ "name": format!("{prefix}{}", f.name), "value": (f.value * 1000.0).round() / 1000.0, "unit": f.unit, "n": f.n })
        )?;
    }
    println!("\nWrote {} figures to {out}", figures.len());
    Ok(())
}

/// Runs `server` with `args` against the bench database; returns (wall s, peak
/// memory MB as the command reports it from its own `VmHWM`).
fn run_server(url: &str, args: &[&str]) -> anyhow::Result<(f64, f64)> {
    let started = Instant::now();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .output()?;
    let secs = started.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&output.stdout);
    anyhow::ensure!(
        output.status.success(),
        "server {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let peak = stdout
        .split("(peak memory ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse::<f64>().ok())
        .ok_or_else(|| anyhow::anyhow!("no peak memory in {stdout:?}"))?;
    Ok((secs, peak))
}

/// Files no users file looks like, each given to `server import` (a process of its
/// own, so its peak memory is the refusal's): the peak resident memory in MB as
/// `/usr/bin/time` reports it, `hostile.<case>.peak_mb`. Every one must be refused.
fn hostile_figures(figures: &mut Vec<Figure>) -> anyhow::Result<()> {
    use std::io::Write;
    let dir = tempfile::tempdir()?;
    let file = |name: &str, bytes: &[u8]| -> anyhow::Result<std::path::PathBuf> {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes)?;
        Ok(path)
    };
    let utf16: Vec<u8> = [0xff, 0xfe]
        .into_iter()
        .chain(
            (0..200_000)
                .map(|i| format!("user{i}@example.com,First,Last\r\n"))
                .collect::<String>()
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    let wide = format!("email,{}\r\n", vec!["column"; 1_000_000].join(","));
    let mut one_line = b"email,note\r\na@example.com,".to_vec();
    one_line.extend(std::iter::repeat_n(b'x', 500 * 1024 * 1024));
    let huge = dir.path().join("huge.csv");
    std::fs::File::create(&huge)?.set_len(2 * 1024 * 1024 * 1024)?;
    // An XLSX whose sheet inflates to 512 MB while its headers claim 1,000 bytes.
    let mut lying = Vec::new();
    {
        let mut z = zip::ZipWriter::new(std::io::Cursor::new(&mut lying));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        z.start_file("xl/worksheets/sheet1.xml", opts)?;
        let chunk = vec![b'<'; 1024 * 1024];
        for _ in 0..512 {
            z.write_all(&chunk)?;
        }
        z.finish()?;
    }
    let claimed = 1000u32.to_le_bytes();
    for (sig, offset) in [(b"PK\x03\x04", 22), (b"PK\x01\x02", 24)] {
        let at = lying
            .windows(4)
            .position(|w| w == sig)
            .ok_or_else(|| anyhow::anyhow!("no zip signature"))?;
        lying[at + offset..at + offset + 4].copy_from_slice(&claimed);
    }
    let cases = [
        ("utf16_csv", file("utf16.csv", &utf16)?),
        ("million_columns_csv", file("wide.csv", wide.as_bytes())?),
        ("one_line_500mb_csv", file("one-line.csv", &one_line)?),
        ("over_1gb_csv", huge),
        ("lying_xlsx", file("lying.xlsx", &lying)?),
    ];
    drop(one_line);
    let db = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("hostile.db").display()
    );
    println!();
    println!("{:<28} {:>10}  refusal", "hostile file", "peak MB");
    for (name, path) in cases {
        let output = std::process::Command::new("/usr/bin/time")
            .args(["-f", "%M", env!("CARGO_BIN_EXE_server"), "import"])
            .arg(&path)
            .env("DATABASE_URL", &db)
            .env("RUST_LOG", "error")
            .output()
            .map_err(|e| anyhow::anyhow!("/usr/bin/time: {e} (Debian's package time)"))?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        anyhow::ensure!(!output.status.success(), "{name} was not refused");
        let kb: f64 = stderr
            .lines()
            .last()
            .and_then(|l| l.trim().parse().ok())
            .ok_or_else(|| anyhow::anyhow!("no peak memory in {stderr:?}"))?;
        let said = stderr
            .lines()
            .find(|l| l.contains("Error"))
            .unwrap_or_default()
            .chars()
            .take(90)
            .collect::<String>();
        println!("{name:<28} {:>10.0}  {said}", kb / 1024.0);
        figures.push(Figure {
            name: format!("hostile.{name}.peak_mb"),
            value: kb / 1024.0,
            unit: "MB",
            n: std::fs::metadata(&path)?.len(),
        });
    }
    Ok(())
}

/// Runs of each case over HTTP; the figure is their median.
const HTTP_RUNS: usize = 20;
const HTTP_ADMIN: &str = "http-bench@roster.test";

async fn remove_http_admin(conn: &sea_orm::DatabaseConnection) -> anyhow::Result<()> {
    let mut delete = app::backend::sql::Sql::new("DELETE FROM users WHERE email = ");
    delete.bind(HTTP_ADMIN);
    conn.exec(delete).await?;
    Ok(())
}

/// The list cases as users get them: `list_users` (the JSON the page fetches while
/// typing) and the server-rendered users page, from the release server binary started
/// on the bench database, signed in, over loopback. Figures `http.<case>.list_p50` and
/// `http.<case>.page_p50`.
/// Which HTTP figures to take: each list case alone, and the load test.
#[derive(Clone, Copy)]
struct Phases {
    cases: bool,
    load: bool,
}

impl Phases {
    const CASES: Phases = Phases {
        cases: true,
        load: false,
    };
    const LOAD: Phases = Phases {
        cases: false,
        load: true,
    };
    const BOTH: Phases = Phases {
        cases: true,
        load: true,
    };
}

async fn http_figures(
    conn: &sea_orm::DatabaseConnection,
    url: &str,
    n: u64,
    cases: &[(&str, &str)],
    phases: Phases,
    figures: &mut Vec<Figure>,
) -> anyhow::Result<()> {
    use sea_orm::ConnectionTrait;
    let result = http_cases(conn, url, n, cases, phases, figures).await;
    // The load test's tag goes again (its edits stay: new job titles).
    let cleanup = format!(
        "DELETE FROM user_tags WHERE tag_id IN (SELECT id FROM tags WHERE name = '{LOAD_TAG}'); \
         DELETE FROM tags WHERE name = '{LOAD_TAG}'"
    );
    conn.execute_unprepared(&cleanup).await?;
    remove_http_admin(conn).await?;
    result
}

async fn http_cases(
    conn: &sea_orm::DatabaseConnection,
    url: &str,
    n: u64,
    cases: &[(&str, &str)],
    phases: Phases,
    figures: &mut Vec<Figure>,
) -> anyhow::Result<()> {
    const EMAIL: &str = HTTP_ADMIN;
    const PASSWORD: &str = "http-bench-password-1";
    // The admin may exist from an earlier run; its password is set again either way.
    let _ = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .args(["create-admin", "--email", EMAIL])
        .env("DATABASE_URL", url)
        .env("ROSTER_ADMIN_PASSWORD", PASSWORD)
        .env("RUST_LOG", "error")
        .output()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .args([
            "serve",
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--demo-users",
            "0",
        ])
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()?;
    // Ends the server however this function returns.
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _server = Kill(child);
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "sec-fetch-site",
        reqwest::header::HeaderValue::from_static("same-origin"),
    );
    let client = reqwest::Client::builder()
        .default_headers(headers)
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let mut ready = false;
    for _ in 0..300 {
        if client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::ensure!(ready, "the server at {base} never became ready");
    let signed_in = client
        .post(format!("{base}/api/sign_in"))
        .form(&[("email", EMAIL), ("password", PASSWORD)])
        .send()
        .await?;
    anyhow::ensure!(
        signed_in.status().is_success(),
        "sign-in failed: {}",
        signed_in.status()
    );
    let cookie = signed_in
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next())
        .collect::<Vec<_>>()
        .join("; ");
    if phases.cases {
        case_figures(&client, &base, n, cases, figures).await?;
    }
    if phases.load {
        load_figures(conn, &client, &base, &cookie, n, cases, figures).await?;
    }
    Ok(())
}

async fn case_figures(
    client: &reqwest::Client,
    base: &str,
    n: u64,
    cases: &[(&str, &str)],
    figures: &mut Vec<Figure>,
) -> anyhow::Result<()> {
    println!();
    println!(
        "{:<28} {:>10} {:>10} {:>10}",
        "over HTTP (p50 of 20)", "list ms", "page ms", "total"
    );
    for (name, qs) in cases {
        let query = UserQuery::from_query_string(qs);
        let body = serde_json::json!({ "query": query });
        let (mut list, mut page) = (Vec::new(), Vec::new());
        let mut total = 0;
        for i in 0..HTTP_RUNS + 2 {
            let started = Instant::now();
            let response = client
                .post(format!("{base}/api/list_users"))
                .json(&body)
                .send()
                .await?;
            anyhow::ensure!(
                response.status().is_success(),
                "list_users {qs}: {}",
                response.status()
            );
            let listed: app::domain::UserPage = response.json().await?;
            let list_ms = started.elapsed().as_secs_f64() * 1000.0;
            let started = Instant::now();
            let response = client.get(format!("{base}/users?{qs}")).send().await?;
            anyhow::ensure!(
                response.status().is_success(),
                "/users?{qs}: {}",
                response.status()
            );
            let html = response.text().await?;
            let page_ms = started.elapsed().as_secs_f64() * 1000.0;
            // The page is rendered with its rows, not a loading state.
            if let Some(first) = listed.rows.first() {
                anyhow::ensure!(
                    html.contains(&first.email),
                    "/users?{qs} lacks its first row"
                );
            }
            if i >= 2 {
                list.push(list_ms);
                page.push(page_ms);
            }
            total = listed.total;
        }
        let (list_p50, page_p50) = (median(&mut list), median(&mut page));
        println!("{name:<28} {list_p50:>10.2} {page_p50:>10.2} {total:>10}");
        for (what, value) in [("list_p50", list_p50), ("page_p50", page_p50)] {
            figures.push(Figure {
                name: format!("http.{name}.{what}"),
                value,
                unit: "ms",
                n,
            });
        }
    }
    Ok(())
}

/// The tag the load test's writes add (removed when the HTTP figures end).
const LOAD_TAG: &str = "load-test";

/// Many admins at once: wrk (server/benches/load.lua) keeps 64 connections busy for
/// LOAD_SECONDS (60) with `list_users` over the list cases and common searches, filters
/// and pages, one request in ten a write (an edit saved with the version it was read
/// at, or a tag added). Figures `load.*`: requests/s, p50/p99, and the answers by kind
/// (a server error or a socket error is a failure; a conflict is a clear answer).
async fn load_figures(
    conn: &sea_orm::DatabaseConnection,
    client: &reqwest::Client,
    base: &str,
    cookie: &str,
    n: u64,
    cases: &[(&str, &str)],
    figures: &mut Vec<Figure>,
) -> anyhow::Result<()> {
    const CONNECTIONS: u32 = 64;
    const THREADS: u32 = 2;
    const EDITS: usize = 4000;
    let seconds: u64 = std::env::var("LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    if std::process::Command::new("wrk")
        .arg("-v")
        .output()
        .is_err()
    {
        println!("!!! SKIPPED: the load test (wrk is not installed; `make bench` installs it)");
        return Ok(());
    }
    let dir = std::path::Path::new("target/load");
    std::fs::create_dir_all(dir)?;

    // Reads: each list case, and common searches with a filter, a sort or a page.
    let mut reads: Vec<String> = cases.iter().map(|(_, qs)| qs.to_string()).collect();
    for name in [
        "smith", "johnson", "garcia", "li", "mar", "anna", "lee", "brown", "k", "son",
    ] {
        for extra in [
            "",
            "&status=active",
            "&status=banned",
            "&tags=vip",
            "&sort=last_name",
            "&page=3",
        ] {
            reads.push(format!("q={name}{extra}"));
        }
    }
    for page in [2, 10, 100, 500] {
        reads.push(format!("sort=last_name&page={page}"));
    }
    let reads: Vec<String> = reads
        .iter()
        .map(|qs| serde_json::json!({ "query": UserQuery::from_query_string(qs) }).to_string())
        .collect();
    std::fs::write(dir.join("reads.txt"), reads.join("\n"))?;

    // Writes: members spread over the table, each edited at most once (with the
    // version read now) and tagged at most once.
    let step = (n / EDITS as u64).max(1);
    let mut select = app::backend::sql::Sql::new(
        "SELECT id FROM users WHERE role_id = (SELECT id FROM roles WHERE name = 'member') AND id % ",
    );
    select
        .bind(step as i64)
        .push(" = 0 ORDER BY id LIMIT ")
        .bind(EDITS as i64);
    let ids: Vec<i64> = conn
        .all(select)
        .await?
        .iter()
        .map(|r| r.try_get::<i64>("", "id"))
        .collect::<Result<_, _>>()?;
    anyhow::ensure!(!ids.is_empty(), "no members to edit");
    let mut edits = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        let detail = users::detail(conn, *id)
            .await
            .map_err(|e| anyhow::anyhow!("user {id}: {e}"))?;
        let mut form = app::domain::account::UserEditForm::of(&detail);
        form.job_title = format!("Load tester {i}");
        edits.push(serde_json::json!({ "id": id, "form": form }).to_string());
    }
    std::fs::write(dir.join("edits.txt"), edits.join("\n"))?;
    let tags: Vec<String> = ids
        .iter()
        .rev()
        .map(|id| {
            serde_json::json!({ "selection": { "Ids": [id] }, "action": { "AddTag": LOAD_TAG } })
                .to_string()
        })
        .collect();
    std::fs::write(dir.join("tags.txt"), tags.join("\n"))?;
    // The session is live (wrk sends its cookie).
    let probe = client
        .post(format!("{base}/api/list_users"))
        .header(reqwest::header::COOKIE, cookie)
        .json(&serde_json::json!({ "query": UserQuery::default() }))
        .send()
        .await?;
    anyhow::ensure!(
        probe.status().is_success(),
        "list_users: {}",
        probe.status()
    );

    println!();
    println!(
        "load: {CONNECTIONS} connections for {seconds} s, {} read cases, 1 request in 10 a write…",
        reads.len()
    );
    let output = std::process::Command::new("wrk")
        .args([
            "-t",
            &THREADS.to_string(),
            "-c",
            &CONNECTIONS.to_string(),
            "-d",
            &format!("{seconds}s"),
            "--timeout",
            "10s",
            "-s",
            "server/benches/load.lua",
            "-H",
            &format!("Cookie: {cookie}"),
            "-H",
            "sec-fetch-site: same-origin",
            "-H",
            "content-type: application/json",
            base,
        ])
        .env("LOAD_DIR", dir)
        .env("LOAD_THREADS", THREADS.to_string())
        .output()?;
    let said = String::from_utf8_lossy(&output.stdout);
    anyhow::ensure!(
        output.status.success(),
        "wrk failed: {said}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = said
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .ok_or_else(|| anyhow::anyhow!("no figures from wrk: {said}"))?;
    let result: serde_json::Value = serde_json::from_str(line)?;
    let get = |k: &str| result[k].as_f64().unwrap_or(f64::NAN);
    println!(
        "  {:.0} requests/s, p50 {:.1} ms, p99 {:.1} ms, max {:.0} ms; {} ok, {} writes, {} conflicts, {} server errors, {} other, {} socket errors, {} timeouts",
        get("rps"), get("p50_ms"), get("p99_ms"), get("max_ms"), get("ok"), get("writes"),
        get("conflicts"), get("server_errors"), get("other_status"), get("socket_errors"), get("timeouts")
    );
    let saved = app::backend::sql::Sql::new(
        "SELECT count(*) AS n FROM users WHERE job_title LIKE 'Load tester %'",
    );
    let edited: i64 = conn
        .one(saved)
        .await?
        .map(|r| r.try_get("", "n"))
        .transpose()?
        .unwrap_or(0);
    println!("  {edited} users carry a load-test edit");
    for (name, unit) in [
        ("rps", "req/s"),
        ("p50_ms", "ms"),
        ("p90_ms", "ms"),
        ("p99_ms", "ms"),
        ("server_errors", "requests"),
        ("socket_errors", "requests"),
        ("timeouts", "requests"),
        ("conflicts", "requests"),
        ("other_status", "requests"),
        ("writes", "requests"),
    ] {
        figures.push(Figure {
            name: format!("load.{name}"),
            value: get(name),
            unit,
            n,
        });
    }
    Ok(())
}

/// Runs of each import and export; the figure is their median (this machine's
/// timings vary by a second from run to run).
const TRANSFER_RUNS: usize = 3;

fn median(runs: &mut [f64]) -> f64 {
    runs.sort_by(f64::total_cmp);
    runs[runs.len() / 2]
}

fn runs_text(runs: &[f64]) -> String {
    runs.iter()
        .map(|r| format!("{r:.2}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Import of 100,000 new users (preview, then apply) from CSV and XLSX into an empty
/// database, and export of every user of the bench database to CSV and XLSX, each in
/// its own `server` process so that its peak memory is its own.
/// The URL of a SQLite file or a PostgreSQL database given as the bench's `--db` path.
fn url_of(path: &str) -> String {
    if path.starts_with("postgres") {
        path.to_string()
    } else {
        format!("sqlite://{path}?mode=rwc")
    }
}

/// A new, empty database beside the bench's own for one import run: a SQLite file in
/// `dir`, or a PostgreSQL database dropped again by [`drop_scratch`].
async fn scratch_database(
    bench_url: &str,
    dir: &std::path::Path,
    name: &str,
) -> anyhow::Result<String> {
    use sea_orm::ConnectionTrait;
    if !bench_url.starts_with("postgres") {
        return Ok(format!(
            "sqlite://{}?mode=rwc",
            dir.join(format!("{name}.db")).display()
        ));
    }
    let base = bench_url.rsplit_once('/').map_or(bench_url, |(b, _)| b);
    let admin = db::connect(&format!("{base}/postgres"), 1).await?;
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))
        .await?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await?;
    Ok(format!("{base}/{name}"))
}

async fn drop_scratch(url: &str) -> anyhow::Result<()> {
    use sea_orm::ConnectionTrait;
    if let Some((base, name)) = url.rsplit_once('/').filter(|_| url.starts_with("postgres")) {
        let admin = db::connect(&format!("{base}/postgres"), 1).await?;
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await?;
    }
    Ok(())
}

async fn transfer_figures(db_path: &str, figures: &mut Vec<Figure>) -> anyhow::Result<()> {
    use app::backend::transfer::{import, read, Reporter};
    use app::domain::transfer::FileFormat;
    const ROWS: u64 = 100_000;
    let bench_url = url_of(db_path);
    let total = seed::user_count(&db::connect(&bench_url, 1).await?)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let admin = bench_admin();
    println!();
    println!(
        "{:<28} {:>10} {:>10} {:>10}",
        "files", "wall s", "peak MB", "rows"
    );

    // The files: 100,000 rows with every importable column.
    let header = [
        "email",
        "username",
        "first_name",
        "last_name",
        "phone",
        "status",
        "role",
        "balance",
        "tags",
        "groups",
        "company",
        "language",
        "email_opt_in",
    ];
    let row = |i: u64, prefix: &str| -> Vec<String> {
        vec![
            format!("{prefix}.{i}@import.bench"),
            format!("{prefix}{i}"),
            format!("First{i}"),
            format!("Last{}", i % 977),
            format!("+4471{:08}", i),
            if i.is_multiple_of(10) {
                "banned".into()
            } else {
                "active".into()
            },
            "member".into(),
            format!("{}.{:02}", i % 5000, i % 100),
            format!("t{}, bench", i % 20),
            format!("g{}", i % 7),
            format!("Company {}", i % 300),
            "en".into(),
            if i.is_multiple_of(2) {
                "yes".into()
            } else {
                "no".into()
            },
        ]
    };
    let dir = tempfile::tempdir()?;
    let csv_path = dir.path().join("import.csv");
    {
        let mut out = Vec::new();
        app::backend::transfer::export::csv_line(&mut out, header);
        for i in 0..ROWS {
            app::backend::transfer::export::csv_line(&mut out, row(i, "csv"));
        }
        std::fs::write(&csv_path, out)?;
    }
    let xlsx_path = dir.path().join("import.xlsx");
    {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet_with_constant_memory()?;
        for (c, h) in header.iter().enumerate() {
            ws.write_string(0, c as u16, *h)?;
        }
        for i in 0..ROWS {
            for (c, v) in row(i, "xlsx").iter().enumerate() {
                ws.write_string(i as u32 + 1, c as u16, v)?;
            }
        }
        wb.save(&xlsx_path)?;
    }

    for (format, path) in [(FileFormat::Csv, &csv_path), (FileFormat::Xlsx, &xlsx_path)] {
        let mut runs = Vec::new();
        for run in 0..TRANSFER_RUNS {
            let import_url = scratch_database(
                &bench_url,
                dir.path(),
                &format!("roster_bench_import_{}_{run}", format.as_str()),
            )
            .await?;
            // Connected as the server is: its checkpointer copies the log meanwhile.
            let conn = db::open(&import_url, 4, db::Checkpoints::Background).await?;
            server::prepare_database(&conn).await?;
            db::spawn_checkpointer(conn.clone());
            let started = Instant::now();
            let data = std::fs::read(path)?;
            let table = read::read(&data, format).map_err(|e| anyhow::anyhow!("{e}"))?;
            let config = app::backend::Config::default();
            let preview = import::run(
                &conn,
                &config,
                &admin,
                &table,
                import::Options::default(),
                None,
                &Reporter::silent(),
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            let applied = import::run(
                &conn,
                &config,
                &admin,
                &table,
                import::Options {
                    apply: true,
                    skip_invalid: false,
                },
                Some(import::Previewed {
                    report: &preview.report,
                    rights: &admin,
                }),
                &Reporter::silent(),
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            let secs = started.elapsed().as_secs_f64();
            anyhow::ensure!(
                preview.report == applied.report && applied.report.created == ROWS,
                "the {format:?} import did not create {ROWS} users as previewed"
            );
            conn.close().await?;
            drop_scratch(&import_url).await?;
            runs.push(secs);
        }
        let secs = median(&mut runs);
        println!(
            "{:<28} {secs:>10.2} {:>10} {ROWS:>10}  (median of {})",
            format!("import {} (preview+apply)", format.as_str()),
            "",
            runs_text(&runs)
        );
        figures.push(Figure {
            name: format!("import.{}_100k.wall_s", format.as_str()),
            value: secs,
            unit: "s",
            n: ROWS,
        });
    }

    for format in ["csv", "xlsx"] {
        let out = dir.path().join(format!("export.{format}"));
        let out_arg = out.display().to_string();
        let (mut runs, mut peak) = (Vec::new(), 0f64);
        for _ in 0..TRANSFER_RUNS {
            let (secs, run_peak) =
                run_server(&bench_url, &["export", "--format", format, &out_arg])?;
            runs.push(secs);
            peak = peak.max(run_peak);
        }
        let secs = median(&mut runs);
        let size_mb = std::fs::metadata(&out)?.len() as f64 / (1024.0 * 1024.0);
        println!(
            "{:<28} {secs:>10.2} {peak:>10.1} {total:>10}  ({size_mb:.0} MB file; median of {}, largest peak)",
            format!("export {format} (all users)"),
            runs_text(&runs)
        );
        figures.push(Figure {
            name: format!("export.{format}_1m.wall_s"),
            value: secs,
            unit: "s",
            n: total,
        });
        figures.push(Figure {
            name: format!("export.{format}_1m.peak_mb"),
            value: peak,
            unit: "MB",
            n: total,
        });
    }
    Ok(())
}

/// Times the list query for `qs` (server side: page and count) and records p50 and p95.
async fn list_figure(
    conn: &sea_orm::DatabaseConnection,
    name: &str,
    qs: &str,
    runs: usize,
    n: u64,
    figures: &mut Vec<Figure>,
) -> anyhow::Result<()> {
    let query = UserQuery::from_query_string(qs);
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for i in 0..runs + 3 {
        let started = Instant::now();
        let page = users::list(conn, &query, app::domain::user::EXACT_COUNT_UP_TO)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if i >= 3 {
            times.push(started.elapsed());
        }
        last = Some(page);
    }
    times.sort();
    let (p50, p95) = (percentile(&times, 0.5), percentile(&times, 0.95));
    let page = last.expect("ran at least once");
    println!(
        "{name:<28} {p50:>10.2} {p95:>10.2} {:>5}/{}{}",
        page.rows.len(),
        page.total,
        if page.exact { "" } else { "+" }
    );
    figures.push(Figure {
        name: format!("list.{name}.p50"),
        value: p50,
        unit: "ms",
        n,
    });
    figures.push(Figure {
        name: format!("list.{name}.p95"),
        value: p95,
        unit: "ms",
        n,
    });
    // Where the page stopped counting, what the exact count costs when an admin asks
    // for it ("Count them all", or "Select all matching").
    if !page.exact {
        let mut times = Vec::with_capacity(runs.min(10));
        let mut exact = 0;
        for _ in 0..runs.min(10) {
            let started = Instant::now();
            exact = users::count(conn, &query)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            times.push(started.elapsed());
        }
        times.sort();
        let p50 = percentile(&times, 0.5);
        println!(
            "{:<28} {p50:>10.2} {:>10} {exact:>11}",
            "  exact count on request", ""
        );
        figures.push(Figure {
            name: format!("count.{name}.p50"),
            value: p50,
            unit: "ms",
            n,
        });
    }
    Ok(())
}

/// Defines five profile fields (text, choice, number, date, yes/no) and gives every
/// user a value of each, unless that was done in an earlier run.
async fn custom_fields(
    conn: &sea_orm::DatabaseConnection,
    admin: &app::domain::AdminInfo,
) -> anyhow::Result<()> {
    use app::backend::fields;
    use app::domain::fields::FieldForm;
    use sea_orm::ConnectionTrait;
    let defined = fields::list(conn, true)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let wanted = [
        ("customer_number", "Customer number", "text", ""),
        ("plan", "Plan", "choice", "Free\nPro\nTeam\nEnterprise"),
        ("seats", "Seats", "number", ""),
        ("renewal", "Renewal", "date", ""),
        ("newsletter", "Newsletter", "bool", ""),
    ];
    if wanted.iter().all(|w| defined.iter().any(|d| d.key == w.0)) {
        return Ok(());
    }
    println!("Defining 5 profile fields and filling them for every user (kept for later runs)…");
    let started = Instant::now();
    for (key, label, kind, choices) in wanted {
        if defined.iter().any(|d| d.key == key) {
            continue;
        }
        let form = FieldForm {
            key: key.into(),
            label: label.into(),
            kind: kind.into(),
            choices: choices.into(),
            required: false,
            searchable: true,
        };
        fields::create(conn, admin, &form)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    // Plans: Free 70 %, Pro 20 %, Team 7.5 %, Enterprise 2.5 %.
    let fill = if conn.get_database_backend() == sea_orm::DbBackend::Postgres {
        "UPDATE users SET attributes = jsonb_build_object(\
            'customer_number', 'C-' || lpad(id::text, 7, '0'), \
            'plan', CASE WHEN id % 40 = 0 THEN 'Enterprise' WHEN id % 40 < 4 THEN 'Team' \
                         WHEN id % 40 < 12 THEN 'Pro' ELSE 'Free' END, \
            'seats', ((id * 7919) % 500)::float8, \
            'renewal', to_char(date '2026-01-01' + (id % 730)::int, 'YYYY-MM-DD'), \
            'newsletter', id % 3 = 0)"
    } else {
        "UPDATE users SET attributes = json_object(\
            'customer_number', printf('C-%07d', id), \
            'plan', CASE WHEN id % 40 = 0 THEN 'Enterprise' WHEN id % 40 < 4 THEN 'Team' \
                         WHEN id % 40 < 12 THEN 'Pro' ELSE 'Free' END, \
            'seats', CAST((id * 7919) % 500 AS REAL), \
            'renewal', date('2026-01-01', '+' || (id % 730) || ' days'), \
            'newsletter', json(CASE WHEN id % 3 = 0 THEN 'true' ELSE 'false' END))"
    };
    conn.execute_unprepared(fill).await?;
    // As after an import of this size, the product's own statistics refresh.
    app::backend::db::refresh_statistics(conn).await;
    println!("  done in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// The owner the bench's commands run as (audit entries name bench@roster.test).
fn bench_admin() -> app::domain::AdminInfo {
    app::domain::AdminInfo {
        id: 0,
        email: "bench@roster.test".into(),
        name: "Bench".into(),
        role: "owner".into(),
        permissions: app::domain::permissions::ALL
            .iter()
            .map(|p| p.to_string())
            .collect(),
        must_change_password: false,
    }
}
