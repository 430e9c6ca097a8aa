//! `server`: the Roster command line (serve, migrate, seed, create-admin).

use std::net::SocketAddr;
use std::time::Instant;

use anyhow::Context;
use app::backend::dialect::Run;
use app::backend::{auth, db, seed, Config};
use clap::{Parser, Subcommand};
use rand::Rng;

mod cli;

#[derive(Parser)]
#[command(
    name = "server",
    version,
    about = "Roster: a self-hosted admin panel for user accounts"
)]
struct Cli {
    /// Database to use: a SQLite file (created if missing) or a PostgreSQL URL.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://roster.db?mode=rwc",
        global = true
    )]
    database_url: String,

    /// Most database connections to keep open.
    #[arg(
        long,
        env = "ROSTER_DB_CONNECTIONS",
        default_value_t = 8,
        global = true
    )]
    db_connections: u32,

    /// Log lines as readable text or as one JSON object each (for log collectors).
    #[arg(
        long,
        env = "ROSTER_LOG_FORMAT",
        value_enum,
        default_value_t = LogFormat::Text,
        global = true
    )]
    log_format: LogFormat,

    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the database, seed a demo when it is empty, and serve the app.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "ROSTER_ADDR", default_value = "127.0.0.1:3000")]
        addr: SocketAddr,
        /// Directory holding the built site (pkg/ with the WASM, JS and CSS; default:
        /// `site` beside this program when there is one, as `make release` lays it out,
        /// else target/site, as `make build` does).
        #[arg(long, env = "LEPTOS_SITE_ROOT")]
        site_root: Option<String>,
        /// How many demo users to create when the database has no users (0: none).
        #[arg(long, env = "ROSTER_DEMO_USERS", default_value_t = 1000)]
        demo_users: u64,
        /// Hours an idle admin session stays valid.
        #[arg(long, env = "ROSTER_SESSION_HOURS", default_value_t = 12)]
        session_hours: i64,
        /// Mark the session cookie Secure (set this when served over HTTPS).
        #[arg(long, env = "ROSTER_SECURE_COOKIES")]
        secure_cookies: bool,
        /// Seat quota: refuse to create users past this many (unlimited when unset).
        #[arg(long, env = "ROSTER_MAX_USERS")]
        max_users: Option<u64>,
        /// Seconds a delete can be undone before the users are removed for good.
        #[arg(long, env = "ROSTER_UNDO_SECONDS", default_value_t = 60)]
        undo_seconds: i64,
        /// Days of activity kept; older entries are purged in the background.
        #[arg(long, env = "ROSTER_ACTIVITY_RETENTION_DAYS", default_value_t = 365)]
        activity_retention_days: i64,
        /// Requests per minute one API key may send to /api/v1/events.
        #[arg(long, env = "ROSTER_EVENT_REQUESTS_PER_MINUTE", default_value_t = 600)]
        event_requests_per_minute: u32,
        /// Signups per minute from one IP address at /api/v1/signup.
        #[arg(long, env = "ROSTER_SIGNUPS_PER_MINUTE", default_value_t = 10)]
        signups_per_minute: u32,
        /// The address users reach Roster at, for links in invitation and reset emails
        /// (default: http://<addr>).
        #[arg(long, env = "ROSTER_PUBLIC_URL")]
        public_url: Option<String>,
        /// Send emails over SMTP, e.g. smtps://user:password@mail.example.com:465 or
        /// smtp://127.0.0.1:25; without it they stay in the outbox (the Outbox page).
        #[arg(long, env = "SMTP_URL", hide_env_values = true)]
        smtp_url: Option<String>,
        /// The sender of the emails.
        #[arg(long, env = "SMTP_FROM", default_value = "Roster <roster@localhost>")]
        smtp_from: String,
        /// Proxies whose X-Forwarded-For names the client, as CIDRs or addresses
        /// (e.g. "10.0.0.0/8, 127.0.0.1"); unset: the connecting peer is the client.
        #[arg(long, env = "ROSTER_TRUSTED_PROXIES", default_value = "", value_parser = parse_trusted_proxies)]
        trusted_proxies: app::backend::throttle::TrustedProxies,
        /// Serve Prometheus metrics at /metrics to requests with this bearer token
        /// (unset: /metrics is off).
        #[arg(long, env = "ROSTER_METRICS_TOKEN", hide_env_values = true)]
        metrics_token: Option<String>,
        /// Largest import file an admin may upload, in MB.
        #[arg(long, env = "ROSTER_MAX_UPLOAD_MB", default_value_t = app::domain::transfer::DEFAULT_MAX_UPLOAD_MB)]
        max_upload_mb: u64,
        /// Milliseconds a bulk action on all matching users is waited for before the
        /// page follows it as a background job instead.
        #[arg(long, env = "ROSTER_BULK_WAIT_MS", default_value_t = 2000)]
        bulk_wait_ms: u64,
        /// How many matches a filtered page of the users table counts exactly before it
        /// says "more than …" (the admin can count the rest on request). Counting costs
        /// about what reading that many matches does.
        #[arg(long, env = "ROSTER_EXACT_COUNT_UP_TO", default_value_t = app::domain::user::EXACT_COUNT_UP_TO)]
        exact_count_up_to: u64,
    },
    /// Import users from a CSV or XLSX file (upsert by email). Without --apply, only
    /// shows what the import would do.
    Import {
        /// The .csv or .xlsx file.
        file: std::path::PathBuf,
        /// Write the changes (otherwise nothing is written).
        #[arg(long)]
        apply: bool,
        /// With --apply: write the valid rows even when some rows are rejected.
        #[arg(long)]
        skip_invalid: bool,
    },
    /// Export users to a CSV or XLSX file: all of them, or those a users-page query
    /// string matches (e.g. 'q=smith&status=active&sort=last_name').
    Export {
        /// csv or xlsx.
        #[arg(long, default_value = "csv")]
        format: String,
        /// A users-page query string: filters, sort and hidden columns (`hide=`).
        #[arg(long)]
        query: Option<String>,
        /// Start the CSV with a byte-order mark (for Excel).
        #[arg(long)]
        bom: bool,
        /// Where to write the file.
        out: std::path::PathBuf,
    },
    /// Write a consistent copy of a live SQLite database to a new file (the server may
    /// keep running and writing), and check the copy. PostgreSQL: use pg_dump.
    Backup {
        /// The new file (it must not exist).
        out: std::path::PathBuf,
    },
    /// Create or update the database schema, then exit.
    Migrate,
    /// Add N deterministic demo users (with tags, groups, devices and activity).
    Seed {
        /// How many users to create.
        #[arg(long, default_value_t = 1000)]
        users: u64,
    },
    /// Create an owner admin (or make an existing user one, with a new password).
    CreateAdmin {
        /// The admin's email address (their sign-in).
        #[arg(long)]
        email: String,
        /// The password (at least 12 characters); asked for when not given.
        #[arg(long, env = "ROSTER_ADMIN_PASSWORD")]
        password: Option<String>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let logs = tracing_subscriber::fmt().with_env_filter(
        tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn".into()),
    );
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
    // The server checkpoints SQLite's log in the background, so no request waits
    // for it; one-off commands leave it to SQLite.
    let checkpoints = match cli.command {
        Command::Serve { .. } => db::Checkpoints::Background,
        _ => db::Checkpoints::Automatic,
    };
    let conn = db::open(&cli.database_url, cli.db_connections, checkpoints).await?;
    if let Command::Backup { out } = &cli.command {
        // A backup copies the database as it is: no migration first.
        let started = std::time::Instant::now();
        let done = app::backend::backup::backup(&conn, out).await?;
        println!(
            "Backed up {} users to {} ({:.1} MB, checked) in {:.1} s.",
            done.users,
            out.display(),
            done.bytes as f64 / 1_048_576.0,
            started.elapsed().as_secs_f64()
        );
        return Ok(());
    }
    server::prepare_database(&conn).await?;

    match cli.command {
        // Done above, before the migrations.
        Command::Backup { .. } => {}
        Command::Migrate => {
            println!("The database schema is up to date.");
        }
        Command::Seed { users } => seed_users(&conn, users).await?,
        Command::Import {
            file,
            apply,
            skip_invalid,
        } => cli::import(&conn, &file, apply, skip_invalid).await?,
        Command::Export {
            format,
            query,
            bom,
            out,
        } => cli::export(&conn, &format, query.as_deref(), bom, &out).await?,
        Command::CreateAdmin { email, password } => {
            let password = match password {
                Some(p) => p,
                None => prompt_password()?,
            };
            let id = auth::create_admin(&conn, &email, &password)
                .await
                .map_err(|e| anyhow::anyhow!("{}", describe(e)))?;
            println!("Admin {email} is ready (user id {id}).");
        }
        Command::Serve {
            addr,
            site_root,
            demo_users,
            session_hours,
            secure_cookies,
            max_users,
            undo_seconds,
            activity_retention_days,
            event_requests_per_minute,
            signups_per_minute,
            max_upload_mb,
            bulk_wait_ms,
            exact_count_up_to,
            public_url,
            smtp_url,
            smtp_from,
            trusted_proxies,
            metrics_token,
        } => {
            // A bad SMTP_URL stops the start, rather than losing emails later.
            let mailer = smtp_url
                .as_deref()
                .map(|url| server::mailer::Mailer::new(url, &smtp_from))
                .transpose()?;
            if demo_users > 0
                && seed::user_count(&conn)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?
                    == 0
            {
                seed_users(&conn, demo_users).await?;
                let password = random_password();
                auth::create_admin(&conn, DEMO_ADMIN, &password)
                    .await
                    .map_err(|e| anyhow::anyhow!("{}", describe(e)))?;
                println!();
                println!("  Demo admin created. Sign in at http://{addr}/login with");
                println!("    email:    {DEMO_ADMIN}");
                println!("    password: {password}");
                println!("  (shown only this once; `server create-admin` makes more admins)");
                println!();
            }
            let public_url = public_url.unwrap_or_else(|| format!("http://{addr}"));
            let config = Config {
                session_ttl: chrono::Duration::hours(session_hours),
                // Served over HTTPS (as the public address says): Secure cookies.
                secure_cookies: secure_cookies || public_url.starts_with("https://"),
                max_users,
                undo_window: chrono::Duration::seconds(undo_seconds.max(1)),
                activity_retention_days: activity_retention_days.max(1),
                event_requests_per_minute: event_requests_per_minute.max(1),
                signups_per_minute: signups_per_minute.max(1),
                max_upload_bytes: max_upload_mb.max(1) * 1024 * 1024,
                public_url,
                trusted_proxies,
                metrics_token: metrics_token.filter(|t| !t.trim().is_empty()),
                bulk_wait: std::time::Duration::from_millis(bulk_wait_ms),
                exact_count_up_to: exact_count_up_to.max(1),
                ..Config::default()
            };
            // A SQLite file has one server: what ran when it stopped was interrupted.
            // On PostgreSQL other servers may be at work; their leases tell.
            fail_abandoned_jobs(&conn, !conn.dialect().shared_by_servers()).await;
            db::spawn_checkpointer(conn.clone());
            spawn_purge(conn.clone(), config.clone());
            match mailer {
                Some(mailer) => {
                    tracing::info!("emails are sent over SMTP");
                    server::mailer::spawn(conn.clone(), mailer);
                }
                None => tracing::info!("SMTP_URL is not set: emails stay in the outbox (/outbox)"),
            }
            let site_root = site_root.unwrap_or_else(default_site_root);
            if !std::path::Path::new(&site_root).join("pkg").is_dir() {
                tracing::warn!(
                    site_root,
                    "no built site here (run `make build`): pages will not become interactive"
                );
            }
            let options = server::leptos_options(&site_root, addr);
            let router = server::router(conn, config, options);
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr}"))?;
            tracing::info!("Roster is listening on http://{addr}");
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(server::shutdown_signal())
            .await?;
            tracing::info!("Roster stopped");
        }
    }
    Ok(())
}

/// Fails the imports and bulk actions whose server stopped (all running ones with
/// `every_running`), and says so in the log.
async fn fail_abandoned_jobs(conn: &sea_orm::DatabaseConnection, every_running: bool) {
    let at = app::backend::now();
    match app::backend::transfer::jobs::fail_abandoned(conn, at, every_running).await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(jobs = n, "imports whose server stopped are marked failed"),
        Err(e) => tracing::warn!(error = ?e, "marking abandoned imports failed"),
    }
    match app::backend::bulk_jobs::fail_abandoned(conn, at, every_running).await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            jobs = n,
            "bulk actions whose server stopped are marked failed"
        ),
        Err(e) => tracing::warn!(error = ?e, "marking abandoned bulk actions failed"),
    }
}

/// `site` beside the executable (a release folder), else `target/site` (the source tree).
fn default_site_root() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join("site")))
        .filter(|site| site.join("pkg").is_dir())
        .map_or_else(
            || "target/site".into(),
            |site| site.to_string_lossy().into_owned(),
        )
}

/// Removes deleted users for good once their undo window has passed (every 10 s),
/// and activity past its retention (at start and every hour).
fn spawn_purge(conn: sea_orm::DatabaseConnection, config: Config) {
    use sea_orm::ConnectionTrait;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(10));
        let mut last_retention: Option<Instant> = None;
        loop {
            tick.tick().await;
            if last_retention.is_none_or(|t| t.elapsed().as_secs() >= 3600) {
                last_retention = Some(Instant::now());
                if let Some(sql) = conn.dialect().routine_statistics() {
                    if let Err(e) = conn.execute_unprepared(sql).await {
                        tracing::warn!(error = ?e, "refreshing the planner's statistics failed");
                    }
                }
                match app::backend::events::purge_old_activity(
                    &conn,
                    config.activity_retention_days,
                )
                .await
                {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(entries = n, "purged activity past its retention"),
                    Err(e) => tracing::warn!(error = ?e, "purging old activity failed"),
                }
            }
            match app::backend::transfer::jobs::drop_stale_passwords(&conn, app::backend::now())
                .await
            {
                Ok(0) => {}
                Ok(n) => tracing::info!(files = n, "deleted unapplied uploads holding passwords"),
                Err(e) => tracing::warn!(error = ?e, "deleting unapplied password uploads failed"),
            }
            // Imports and bulk actions whose server stopped (its lease ran out) are
            // failed by whichever server looks first (where servers share a database).
            if conn.dialect().shared_by_servers() {
                fail_abandoned_jobs(&conn, false).await;
            }
            if conn.dialect().shared_by_servers() {
                if let Err(e) = app::backend::limits::purge_shared(&conn).await {
                    tracing::warn!(error = ?e, "forgetting old rate-limit counts failed");
                }
            }
            if let Err(e) = app::backend::users::fold_counts(&conn).await {
                tracing::warn!(error = ?e, "folding the user totals failed");
            }
            match app::backend::bulk::purge_expired(&conn, &config, app::backend::now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(users = n, "purged deleted users"),
                Err(e) => tracing::warn!(error = ?e, "purging deleted users failed"),
            }
        }
    });
}

const DEMO_ADMIN: &str = "admin@example.com";

async fn seed_users(conn: &sea_orm::DatabaseConnection, users: u64) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut last_report = Instant::now();
    println!("Seeding {users} demo users…");
    seed::seed(conn, users, |done| {
        if last_report.elapsed().as_secs() >= 5 || done == users {
            println!(
                "  {done} / {users} users ({:.0} s)",
                started.elapsed().as_secs_f64()
            );
            last_report = Instant::now();
        }
    })
    .await
    .map_err(|e| anyhow::anyhow!("{}", describe(e)))?;
    println!(
        "Seeded {users} users in {:.1} s.",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn describe(err: app::backend::ServiceError) -> String {
    match err {
        app::backend::ServiceError::Validation(fields) => fields
            .into_iter()
            .map(|(field, messages)| format!("{field}: {}", messages.join(" ")))
            .collect::<Vec<_>>()
            .join("; "),
        other => format!("{other:#}"),
    }
}

fn prompt_password() -> anyhow::Result<String> {
    let first = rpassword::prompt_password("Password (at least 12 characters): ")?;
    let second = rpassword::prompt_password("Repeat the password: ")?;
    anyhow::ensure!(first == second, "the two passwords differ");
    Ok(first)
}

fn random_password() -> String {
    const CHARS: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rngs::OsRng;
    (0..16)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect()
}

fn parse_trusted_proxies(list: &str) -> Result<app::backend::throttle::TrustedProxies, String> {
    app::backend::throttle::TrustedProxies::parse(list)
}
