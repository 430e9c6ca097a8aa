//! The users table: search, each filter, each sort, paging, totals, the drawer's
//! detail and the column preference. Expected results come from the inserted users.

use app::domain::{Column, SortDir, SortKey, UserQuery};
use chrono::{DateTime, Utc};
use reqwest::StatusCode;

use crate::helpers::{new_client, spawn_app, TestApp, TestUser};

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("timestamp")
}

/// A small, varied population; the signed-in owner (owner@roster.test) is also listed.
fn people() -> Vec<TestUser> {
    let mut v = Vec::new();
    let mut add = |first: &str, last: &str, f: &dyn Fn(&mut TestUser)| {
        let mut u = TestUser::new(first, last);
        f(&mut u);
        v.push(u);
    };
    add("Anna", "Smith", &|u| {
        u.phone = Some("+46701234567".into());
        u.company = "Globex".into();
        u.balance = 500;
        u.created_at = at("2024-01-10T08:00:00Z");
        u.last_access_at = Some(at("2025-02-01T10:00:00Z"));
        u.tags = vec!["vip", "beta"];
    });
    add("Bob", "Smithson", &|u| {
        u.status = "banned";
        u.job_title = "Analyst".into();
        u.balance = -20;
        u.created_at = at("2024-01-31T23:59:59Z");
        u.tags = vec!["vip"];
    });
    add("Carla", "Jones", &|u| {
        u.company = "Initech".into();
        u.balance = 12_000;
        u.created_at = at("2024-02-01T00:00:00Z");
        u.last_access_at = Some(at("2025-03-01T10:00:00Z"));
        u.tags = vec!["beta"];
    });
    add("dave", "o'brien", &|u| {
        u.status = "invited";
        u.username = None;
        u.balance = 7;
        u.created_at = at("2023-12-31T23:59:59Z");
    });
    add("Eve", "Li", &|u| {
        u.phone = Some("+15550001111".into());
        u.balance = 300;
        u.created_at = at("2024-06-01T12:00:00Z");
        u.last_access_at = Some(at("2024-07-01T10:00:00Z"));
        u.tags = vec!["churn-risk"];
    });
    add("Liam", "Anders", &|u| {
        u.job_title = "Smithy apprentice".into();
        u.balance = 42;
        u.created_at = at("2024-03-15T09:30:00Z");
    });
    v
}

async fn populated() -> (TestApp, Vec<TestUser>) {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let people = people();
    for p in &people {
        app.insert_user(p.clone()).await;
    }
    (app, people)
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn emails_where(people: &[TestUser], f: impl Fn(&TestUser) -> bool) -> Vec<String> {
    sorted(
        people
            .iter()
            .filter(|p| f(p))
            .map(|p| p.email.clone())
            .collect(),
    )
}

#[tokio::test]
async fn search_matches_substrings_across_fields_without_enter() {
    let (app, people) = populated().await;
    type Expect = Box<dyn Fn(&TestUser) -> bool>;
    let cases: Vec<(&str, Expect)> = vec![
        (
            "smith",
            Box::new(|p| {
                let blob =
                    format!("{} {} {} {}", p.first, p.last, p.email, p.job_title).to_lowercase();
                blob.contains("smith")
            }),
        ),
        ("SMITHSON", Box::new(|p| p.last == "Smithson")),
        ("mithso", Box::new(|p| p.last == "Smithson")),
        ("globex", Box::new(|p| p.company == "Globex")),
        ("analyst", Box::new(|p| p.job_title == "Analyst")),
        ("carla.jones@example", Box::new(|p| p.first == "Carla")),
        ("anna_smith", Box::new(|p| p.first == "Anna")),
        (
            "+46 70-123 45 67",
            Box::new(|p| p.phone.as_deref() == Some("+46701234567")),
        ),
        ("0001111", Box::new(|p| p.first == "Eve")),
        ("o'brien", Box::new(|p| p.last == "o'brien")),
        ("anna smith", Box::new(|p| p.first == "Anna")),
        ("jo carla", Box::new(|p| p.first == "Carla")),
        ("li", Box::new(|p| p.last == "Li" || p.first == "Liam")),
        ("Ev", Box::new(|p| p.first == "Eve")),
        ("zzzzzz", Box::new(|_| false)),
        ("100%_x", Box::new(|_| false)),
    ];
    for (q, want) in cases {
        let query = UserQuery {
            q: q.into(),
            per_page: 100,
            ..Default::default()
        };
        let page = app.list(&query).await;
        let got = sorted(page.rows.iter().map(|r| r.email.clone()).collect());
        assert_eq!(got, emails_where(&people, &*want), "search {q:?}");
        assert_eq!(page.total, got.len() as u64, "total for {q:?}");
    }
}

#[tokio::test]
async fn search_follows_edits_to_the_indexed_fields() {
    let (app, _) = populated().await;
    assert_eq!(app.emails("q=zebulon").await.len(), 0);
    assert_eq!(
        app.emails("q=initech").await,
        vec!["carla.jones@example.com"]
    );
    app.exec(
        "UPDATE users SET company = 'Zebulon Inc' WHERE email = 'carla.jones@example.com'",
        vec![],
    )
    .await;
    assert_eq!(
        app.emails("q=zebulon").await,
        vec!["carla.jones@example.com"]
    );
    assert!(
        app.emails("q=initech").await.is_empty(),
        "the old company no longer matches"
    );
    app.exec(
        "DELETE FROM users WHERE email = 'carla.jones@example.com'",
        vec![],
    )
    .await;
    assert!(
        app.emails("q=zebulon").await.is_empty(),
        "deleted users leave the index"
    );
}

#[tokio::test]
async fn status_filter_and_its_totals() {
    let (app, people) = populated().await;
    let owner = 1; // the signed-in owner is active
    for (status, qs) in [
        ("active", "status=active"),
        ("banned", "status=banned"),
        ("invited", "status=invited"),
    ] {
        let page = app.list_qs(&format!("{qs}&per_page=100")).await;
        let mut want = emails_where(&people, |p| p.status == status);
        if status == "active" {
            want.push(crate::helpers::ADMIN_EMAIL.into());
            want.sort();
        }
        assert_eq!(
            sorted(page.rows.iter().map(|r| r.email.clone()).collect()),
            want,
            "{status}"
        );
        assert_eq!(page.total, want.len() as u64, "{status} total");
        assert!(
            page.rows.iter().all(|r| r.status.as_str() == status),
            "{status} rows"
        );
    }
    assert_eq!(
        app.list_qs("status=all").await.total,
        (people.len() + owner) as u64
    );
    // The totals follow status changes.
    app.exec(
        "UPDATE users SET status = 'banned' WHERE email = 'anna.smith@example.com'",
        vec![],
    )
    .await;
    assert_eq!(app.list_qs("status=banned").await.total, 2);
}

#[tokio::test]
async fn signup_date_range_is_inclusive_by_day() {
    let (app, people) = populated().await;
    let page = app
        .list_qs("from=2024-01-01&to=2024-01-31&per_page=100")
        .await;
    let want = emails_where(&people, |p| {
        p.created_at >= at("2024-01-01T00:00:00Z") && p.created_at < at("2024-02-01T00:00:00Z")
    });
    assert_eq!(
        want.len(),
        2,
        "Anna and Bob, the last second of January included"
    );
    assert_eq!(
        sorted(page.rows.iter().map(|r| r.email.clone()).collect()),
        want
    );
    assert_eq!(page.total, 2);
    let from_only = app.list_qs("from=2024-03-01&per_page=100").await;
    let want = emails_where(&people, |p| p.created_at >= at("2024-03-01T00:00:00Z"));
    let mut got: Vec<String> = from_only.rows.iter().map(|r| r.email.clone()).collect();
    got.retain(|e| e != crate::helpers::ADMIN_EMAIL);
    assert_eq!(sorted(got), want);
    let to_only = app.list_qs("to=2023-12-31").await;
    assert_eq!(
        to_only
            .rows
            .iter()
            .map(|r| r.email.as_str())
            .collect::<Vec<_>>(),
        ["dave.o'brien@example.com"]
    );
}

#[tokio::test]
async fn tag_filter_has_all_any_and_none() {
    let (app, people) = populated().await;
    let has = |p: &TestUser, t: &str| p.tags.contains(&t);
    let all = app.list_qs("tags=vip,beta&tag_mode=all&per_page=100").await;
    assert_eq!(
        sorted(all.rows.iter().map(|r| r.email.clone()).collect()),
        emails_where(&people, |p| has(p, "vip") && has(p, "beta"))
    );
    let any = app.list_qs("tags=vip,beta&tag_mode=any&per_page=100").await;
    assert_eq!(
        sorted(any.rows.iter().map(|r| r.email.clone()).collect()),
        emails_where(&people, |p| has(p, "vip") || has(p, "beta"))
    );
    assert_eq!(any.total, 3);
    let none = app
        .list_qs("tags=vip,beta&tag_mode=none&per_page=100")
        .await;
    let mut want = emails_where(&people, |p| !has(p, "vip") && !has(p, "beta"));
    want.push(crate::helpers::ADMIN_EMAIL.into());
    assert_eq!(
        sorted(none.rows.iter().map(|r| r.email.clone()).collect()),
        sorted(want)
    );
    // Tag names match case-insensitively; an unknown tag in "all" matches nobody.
    assert_eq!(app.list_qs("tags=VIP").await.total, 2);
    assert_eq!(
        app.list_qs("tags=vip,nosuchtag&tag_mode=all").await.total,
        0
    );
    assert_eq!(
        app.list_qs("tags=vip,nosuchtag&tag_mode=any").await.total,
        2
    );
    // Combined with search and status.
    let combined = app.list_qs("q=smith&status=active&tags=vip").await;
    assert_eq!(
        combined
            .rows
            .iter()
            .map(|r| r.email.as_str())
            .collect::<Vec<_>>(),
        ["anna.smith@example.com"]
    );
    assert_eq!(combined.total, 1);
    // Tag counts per row and per tag.
    let anna = combined.rows.first().expect("anna");
    assert_eq!(anna.tags, 2);
    let tags = app.tags().await;
    let vip = tags.iter().find(|t| t.name == "vip").expect("vip tag");
    assert_eq!(vip.users, 2);
}

#[tokio::test]
async fn every_sort_key_orders_both_ways_with_id_as_tiebreak() {
    let (app, people) = populated().await;
    // Only the test people: the owner's fields are not part of the expectation.
    let owner = crate::helpers::ADMIN_EMAIL;
    let ids_by_email = {
        let page = app.list_qs("per_page=100").await;
        page.rows
            .iter()
            .map(|r| (r.email.clone(), r.id))
            .collect::<std::collections::HashMap<_, _>>()
    };
    for key in SortKey::ALL {
        for dir in [SortDir::Asc, SortDir::Desc] {
            let query = UserQuery {
                sort: key,
                dir,
                per_page: 100,
                ..Default::default()
            };
            let got: Vec<String> = app
                .list(&query)
                .await
                .rows
                .into_iter()
                .map(|r| r.email)
                .filter(|e| e != owner)
                .collect();
            let mut want: Vec<&TestUser> = people.iter().collect();
            want.sort_by(|a, b| {
                let ord = match key {
                    SortKey::Id => std::cmp::Ordering::Equal,
                    SortKey::FirstName => (a.first.to_lowercase(), a.last.to_lowercase())
                        .cmp(&(b.first.to_lowercase(), b.last.to_lowercase())),
                    SortKey::LastName => (a.last.to_lowercase(), a.first.to_lowercase())
                        .cmp(&(b.last.to_lowercase(), b.first.to_lowercase())),
                    SortKey::Username => a
                        .username
                        .as_ref()
                        .map(|s| s.to_lowercase())
                        .cmp(&b.username.as_ref().map(|s| s.to_lowercase())),
                    SortKey::Email => a.email.cmp(&b.email),
                    SortKey::SignupDate => a.created_at.cmp(&b.created_at),
                    SortKey::LastAccess => a.last_access_at.cmp(&b.last_access_at),
                    SortKey::Balance => a.balance.cmp(&b.balance),
                };
                ord.then(ids_by_email[&a.email].cmp(&ids_by_email[&b.email]))
            });
            if dir == SortDir::Desc {
                want.reverse();
            }
            let want: Vec<String> = want.into_iter().map(|p| p.email.clone()).collect();
            assert_eq!(got, want, "sort {key:?} {dir:?}");
        }
    }
}

#[tokio::test]
async fn equal_names_are_ordered_by_the_other_name_then_by_id() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    // Inserted out of order, so the id alone would give another order.
    let names = [
        ("Sam", "Young"),
        ("Sam", "Adams"),
        ("amy", "Adams"),
        ("Sam", "adams"),
        ("Zed", "Adams"),
        ("sam", "Miller"),
    ];
    for (i, (first, last)) in names.iter().enumerate() {
        let mut u = TestUser::new(first, last);
        u.email = format!("tie{i}@example.com");
        u.username = Some(format!("tie{i}"));
        app.insert_user(u).await;
    }
    let app = &app;
    let order = |qs: &'static str| async move {
        let mut emails = app.emails(qs).await;
        emails.retain(|e| e.starts_with("tie"));
        emails
    };
    // "Sam Adams" (tie1) and "Sam adams" (tie3) are equal names: the id decides.
    let by_first = ["tie2", "tie1", "tie3", "tie5", "tie0", "tie4"];
    let by_last = ["tie2", "tie1", "tie3", "tie4", "tie5", "tie0"];
    let emails =
        |ids: &[&str]| -> Vec<String> { ids.iter().map(|i| format!("{i}@example.com")).collect() };
    let reversed = |ids: &[&str]| -> Vec<String> {
        let mut v = emails(ids);
        v.reverse();
        v
    };
    assert_eq!(
        order("sort=first_name&dir=asc&per_page=100").await,
        emails(&by_first)
    );
    assert_eq!(
        order("sort=first_name&dir=desc&per_page=100").await,
        reversed(&by_first)
    );
    assert_eq!(
        order("sort=last_name&dir=asc&per_page=100").await,
        emails(&by_last)
    );
    assert_eq!(
        order("sort=last_name&dir=desc&per_page=100").await,
        reversed(&by_last)
    );
    // The same through the search index (its own plan on each database).
    assert_eq!(
        order("q=adams&sort=first_name&dir=asc").await,
        emails(&["tie2", "tie1", "tie3", "tie4"])
    );
    assert_eq!(
        order("q=sam&sort=last_name&dir=desc").await,
        emails(&["tie0", "tie5", "tie3", "tie1"])
    );
}

#[tokio::test]
async fn paging_slices_the_sorted_list_and_keeps_the_total() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    for i in 0..60 {
        let mut u = TestUser::new("Page", &format!("User{i:02}"));
        u.email = format!("page{i:02}@example.com");
        u.username = Some(format!("page{i:02}"));
        app.insert_user(u).await;
    }
    let all: Vec<String> = (0..60).map(|i| format!("page{i:02}@example.com")).collect();
    let p1 = app.list_qs("q=page&sort=email").await;
    assert_eq!(p1.total, 60);
    assert_eq!(p1.per_page, 25);
    assert_eq!(
        p1.rows.iter().map(|r| r.email.clone()).collect::<Vec<_>>(),
        all[..25]
    );
    let p3 = app.list_qs("q=page&sort=email&page=3").await;
    assert_eq!(
        p3.rows.iter().map(|r| r.email.clone()).collect::<Vec<_>>(),
        all[50..]
    );
    assert_eq!(p3.page_count(), 3);
    let p2_of_50 = app.list_qs("q=page&sort=email&page=2&per_page=50").await;
    assert_eq!(p2_of_50.rows.len(), 10);
    let past_end = app.list_qs("q=page&sort=email&page=9").await;
    assert!(past_end.rows.is_empty());
    assert_eq!(
        past_end.total, 60,
        "the total is known even past the last page"
    );
    let hundred = app.list_qs("per_page=100").await;
    assert_eq!(hundred.rows.len(), 61);
    assert_eq!(
        hundred.total, 61,
        "unfiltered total from the counter table includes the owner"
    );
}

#[tokio::test]
async fn rows_carry_role_device_and_tag_counts() {
    let (app, _) = populated().await;
    let anna_id = app.list_qs("q=anna.smith").await.rows[0].id;
    app.exec(
        "INSERT INTO devices (user_id, name, platform, created_at) VALUES ($1, 'Phone', 'iOS', $2), ($1, 'Laptop', 'macOS', $2)",
        vec![anna_id.into(), Utc::now().into()],
    )
    .await;
    let row = app.list_qs("q=anna.smith").await.rows.remove(0);
    assert_eq!(
        (row.devices, row.tags, row.role.as_str(), row.balance),
        (2, 2, "member", 500)
    );
    assert_eq!(row.phone.as_deref(), Some("+46701234567"));
    assert_eq!(row.last_access_at, Some(at("2025-02-01T10:00:00Z")));
}

#[tokio::test]
async fn the_drawer_detail_has_every_field_tags_groups_and_devices() {
    let (app, _) = populated().await;
    let id = app.list_qs("q=anna.smith").await.rows[0].id;
    app.exec(
        "INSERT INTO groups (name, created_at) VALUES ('Sales', $1)",
        vec![Utc::now().into()],
    )
    .await;
    app.exec("INSERT INTO user_groups (user_id, group_id) SELECT $1, id FROM groups WHERE name = 'Sales'", vec![id.into()]).await;
    app.exec(
        "INSERT INTO devices (user_id, name, platform, created_at) VALUES ($1, 'Pixel 8', 'Android', $2)",
        vec![id.into(), Utc::now().into()],
    )
    .await;
    let user = app.user_detail(id).await;
    assert_eq!(user.display_name(), "Anna Smith");
    assert_eq!(user.email, "anna.smith@example.com");
    assert_eq!(user.company, "Globex");
    assert_eq!(user.role.name, "member");
    assert_eq!(
        user.tags
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>(),
        ["beta", "vip"]
    );
    assert_eq!(
        user.groups
            .iter()
            .map(|g| g.name.as_str())
            .collect::<Vec<_>>(),
        ["Sales"]
    );
    assert_eq!(user.devices.len(), 1);
    assert_eq!(user.devices[0].platform, "Android");
    assert_eq!(user.version, 1);

    let missing = app.get_user(999_999).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let error: app::domain::AppError = missing.json().await.expect("error");
    assert!(
        matches!(error, app::domain::AppError::NotFound(_)),
        "{error:?}"
    );
}

#[tokio::test]
async fn hidden_columns_are_remembered_per_admin() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    assert!(
        app.hidden(&app.client).await.is_empty(),
        "nothing hidden at first"
    );
    let saved: Vec<Column> = app
        .save_hidden(
            &app.client,
            &[Column::Phone, Column::Balance, Column::Phone],
        )
        .await
        .json()
        .await
        .expect("saved");
    assert_eq!(
        saved,
        vec![Column::Phone, Column::Balance],
        "normalised: known, distinct, in display order"
    );
    assert_eq!(
        app.hidden(&app.client).await,
        vec![Column::Phone, Column::Balance]
    );

    // A second admin has their own choice.
    let other = new_client();
    app::backend::auth::create_admin(&app.db, "other@roster.test", "other-password-1")
        .await
        .expect("admin");
    assert_eq!(
        app.sign_in(&other, "other@roster.test", "other-password-1")
            .await
            .status(),
        StatusCode::OK
    );
    assert!(app.hidden(&other).await.is_empty());
    app.save_hidden(&other, &[Column::Tags]).await;
    assert_eq!(
        app.hidden(&app.client).await,
        vec![Column::Phone, Column::Balance],
        "unchanged for the first admin"
    );

    // Showing everything again is remembered too.
    app.save_hidden(&app.client, &[]).await;
    assert!(app.hidden(&app.client).await.is_empty());
}

#[tokio::test]
async fn the_users_page_renders_rows_on_the_server() {
    let (app, _) = populated().await;
    let html = app
        .client
        .get(format!("{}/users?q=smithson", app.address))
        .header("accept", "text/html")
        .send()
        .await
        .expect("page");
    assert_eq!(html.status(), StatusCode::OK);
    let body = html.text().await.expect("body");
    assert!(
        body.contains("bob.smithson@example.com"),
        "the matching row is in the HTML"
    );
    assert!(
        !body.contains("carla.jones@example.com"),
        "other rows are filtered out"
    );
    assert!(
        body.contains("<table") && body.contains("aria-label=\"Users\""),
        "a real, named table"
    );
}

/// A filtered page counts its matches only up to EXACT_COUNT_UP_TO (or the end of the
/// page asked for) and says so; `count_users` gives the exact figure.
#[tokio::test]
async fn a_filtered_page_counts_up_to_a_limit_and_count_users_counts_all() {
    use app::domain::user::EXACT_COUNT_UP_TO;
    let app = spawn_app().await;
    app.sign_in_owner().await;
    app::backend::seed::seed(&app.db, EXACT_COUNT_UP_TO + 40, |_| {})
        .await
        .expect("seed");
    let everyone = app.scalar_i64("SELECT count(*) FROM users", vec![]).await as u64;
    assert!(everyone > EXACT_COUNT_UP_TO);

    // The plain list and a status alone are kept by triggers: always exact.
    let plain = app.list_qs("").await;
    assert_eq!((plain.total, plain.exact), (everyone, true));
    let active = app
        .scalar_i64("SELECT count(*) FROM users WHERE status = 'active'", vec![])
        .await as u64;
    let by_status = app.list_qs("status=active").await;
    assert_eq!((by_status.total, by_status.exact), (active, true));

    // A filter matching everyone (a signup range from long ago) stops counting.
    let wide = "from=1970-01-01";
    let page = app.list_qs(wide).await;
    assert_eq!((page.total, page.exact), (EXACT_COUNT_UP_TO, false));
    assert_eq!(page.rows.len(), 25, "the page itself is whole");
    // The exact figure, on request.
    let response = app
        .call(
            &app.client,
            "count_users",
            serde_json::json!({ "query": UserQuery::from_query_string(wide) }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let counted: u64 = response.json().await.expect("a count");
    assert_eq!(counted, everyone);

    // Past the limit, a page counts to its own end at least: the last page knows it
    // is the last.
    let last = everyone.div_ceil(25);
    let page = app.list_qs(&format!("{wide}&page={last}")).await;
    assert_eq!((page.total, page.exact), (everyone, true));
    assert_eq!(page.rows.len() as u64, everyone - (last - 1) * 25);

    // A narrow filter is counted exactly.
    let tagged = app
        .scalar_i64(
            "SELECT count(*) FROM user_tags WHERE tag_id = (SELECT id FROM tags WHERE name = 'vip')",
            vec![],
        )
        .await as u64;
    assert!(
        tagged > 0 && tagged <= EXACT_COUNT_UP_TO,
        "{tagged} vip users"
    );
    let vip = app.list_qs("tags=vip").await;
    assert_eq!((vip.total, vip.exact), (tagged, true));
}
