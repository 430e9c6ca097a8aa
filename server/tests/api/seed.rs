//! The demo seeder: deterministic, complete, and refusing to run twice.

use app::backend::seed;

use crate::helpers::spawn_app;

#[tokio::test]
async fn seeding_is_deterministic_and_fills_every_table() {
    let a = spawn_app().await;
    let b = spawn_app().await;
    seed::seed(&a.db, 120, |_| {}).await.expect("seed a");
    seed::seed(&b.db, 120, |_| {}).await.expect("seed b");
    let sql = "SELECT email, first_name, last_name, status, balance FROM users ORDER BY email";
    let dump = |app: &crate::helpers::TestApp| {
        let db = app.db.clone();
        let backend = app.backend();
        async move {
            use sea_orm::ConnectionTrait;
            db.query_all_raw(sea_orm::Statement::from_string(backend, sql))
                .await
                .expect("dump")
                .iter()
                .map(|r| {
                    let email: String = r.try_get("", "email").expect("email");
                    let balance: i64 = r.try_get("", "balance").expect("balance");
                    format!("{email} {balance}")
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(dump(&a).await, dump(&b).await);
    assert_eq!(
        a.scalar_i64("SELECT count(*) FROM users", vec![]).await,
        120
    );
    for table in [
        "user_tags",
        "user_groups",
        "devices",
        "activities",
        "tags",
        "groups",
    ] {
        let n = a
            .scalar_i64(&format!("SELECT count(*) FROM {table}"), vec![])
            .await;
        assert!(n > 0, "{table} is empty after seeding");
    }
    // Consistent people: a device or any activity only for someone who has been seen.
    for table in ["devices", "activities"] {
        let unseen = a
            .scalar_i64(
                &format!(
                    "SELECT count(*) FROM {table} t JOIN users u ON u.id = t.user_id \
                     WHERE u.last_access_at IS NULL"
                ),
                vec![],
            )
            .await;
        assert_eq!(unseen, 0, "{table} of users never seen");
    }
    let seen_without_activity = a
        .scalar_i64(
            "SELECT count(*) FROM users u WHERE u.last_access_at IS NOT NULL \
             AND NOT EXISTS (SELECT 1 FROM activities t WHERE t.user_id = u.id)",
            vec![],
        )
        .await;
    assert_eq!(seen_without_activity, 0, "users seen but with no activity");
    let again = seed::seed(&a.db, 10, |_| {}).await;
    assert!(again.is_err(), "seeding the same demo twice is refused");
    assert_eq!(
        a.scalar_i64("SELECT count(*) FROM users", vec![]).await,
        120,
        "nothing half-written"
    );
}

#[tokio::test]
async fn seeded_counts_agree_with_the_counter_table() {
    let app = spawn_app().await;
    seed::seed(&app.db, 250, |_| {}).await.expect("seed");
    for status in ["active", "banned", "invited"] {
        let real = app
            .scalar_i64(
                "SELECT count(*) FROM users WHERE status = $1",
                vec![status.into()],
            )
            .await;
        let kept = app
            .scalar_i64(
                "SELECT CAST(coalesce(sum(n), 0) AS BIGINT) FROM user_counts WHERE status = $1",
                vec![status.into()],
            )
            .await;
        assert_eq!(real, kept, "{status}");
    }
}
