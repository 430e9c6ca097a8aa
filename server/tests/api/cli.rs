//! The binary's commands (`migrate`, `seed`, `create-admin`, `export`, `import`) run as
//! an operator runs them, against the test's database (SQLite or PostgreSQL).

use std::process::{Command, Output};

use reqwest::StatusCode;

use crate::helpers::{new_client, spawn_app, TestApp};

fn server(app: &TestApp, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_server"));
    command
        .args(args)
        .env("DATABASE_URL", &app.database_url)
        .env("RUST_LOG", "error");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("the server binary runs")
}

fn said(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test]
async fn the_commands_migrate_seed_make_an_admin_export_and_import() {
    let app = spawn_app().await;
    let users = || app.scalar_i64("SELECT count(*) FROM users", vec![]);

    let migrated = server(&app, &["migrate"], &[]);
    assert!(migrated.status.success(), "{}", said(&migrated));
    assert!(said(&migrated).contains("The database schema is up to date."));

    let before = users().await;
    let seeded = server(&app, &["seed", "--users", "40"], &[]);
    assert!(seeded.status.success(), "{}", said(&seeded));
    assert!(
        said(&seeded).contains("Seeded 40 users"),
        "{}",
        said(&seeded)
    );
    assert_eq!(users().await, before + 40);

    // An admin made by the command signs in over HTTP; a short password is refused.
    let short = server(
        &app,
        &["create-admin", "--email", "ops@cli.test"],
        &[("ROSTER_ADMIN_PASSWORD", "short")],
    );
    assert!(!short.status.success(), "{}", said(&short));
    let made = server(
        &app,
        &["create-admin", "--email", "ops@cli.test"],
        &[("ROSTER_ADMIN_PASSWORD", "cli-password-123")],
    );
    assert!(made.status.success(), "{}", said(&made));
    assert!(said(&made).contains("Admin ops@cli.test is ready"));
    let client = new_client();
    let signed_in = app
        .sign_in(&client, "ops@cli.test", "cli-password-123")
        .await;
    assert_eq!(signed_in.status(), StatusCode::OK);

    // Export every user, then a view.
    let dir = tempfile::tempdir().expect("temp dir");
    let all = dir.path().join("all.csv");
    let exported = server(&app, &["export", all.to_str().expect("path")], &[]);
    assert!(exported.status.success(), "{}", said(&exported));
    let text = std::fs::read_to_string(&all).expect("the export");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("id,email"), "{}", lines[0]);
    assert_eq!(
        lines.len() as i64,
        users().await + 1,
        "a header and every user"
    );
    let view = dir.path().join("view.xlsx");
    let exported = server(
        &app,
        &[
            "export",
            "--format",
            "xlsx",
            "--query",
            "q=ops@cli.test",
            view.to_str().expect("path"),
        ],
        &[],
    );
    assert!(exported.status.success(), "{}", said(&exported));
    assert!(
        said(&exported).contains("Wrote 1 users"),
        "{}",
        said(&exported)
    );

    // The whole export imported back changes nothing; a new file is previewed, then
    // applied; a bad row is named and nothing is written.
    let again = server(&app, &["import", all.to_str().expect("path")], &[]);
    assert!(again.status.success(), "{}", said(&again));
    assert!(
        said(&again).contains("0 to create, 0 to update"),
        "{}",
        said(&again)
    );
    let new = dir.path().join("new.csv");
    std::fs::write(
        &new,
        "email,first_name,last_name,tags\r\nnew.one@cli.test,New,One,cli\r\n",
    )
    .expect("file");
    let count = users().await;
    let preview = server(&app, &["import", new.to_str().expect("path")], &[]);
    assert!(said(&preview).contains("1 to create"), "{}", said(&preview));
    assert!(said(&preview).contains("Nothing was written"));
    assert_eq!(users().await, count);
    let applied = server(
        &app,
        &["import", new.to_str().expect("path"), "--apply"],
        &[],
    );
    assert!(applied.status.success(), "{}", said(&applied));
    assert!(said(&applied).contains("Applied."));
    assert_eq!(users().await, count + 1);
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "email,first_name\r\nnot-an-email,Bad\r\nfine@cli.test,Fine\r\n",
    )
    .expect("file");
    let refused = server(
        &app,
        &["import", bad.to_str().expect("path"), "--apply"],
        &[],
    );
    assert!(!refused.status.success(), "{}", said(&refused));
    assert!(
        said(&refused).contains("line 2: email"),
        "{}",
        said(&refused)
    );
    assert_eq!(users().await, count + 1, "all or nothing");
}
