//! Defining custom profile fields: create, validation, order, archive, type changes
//! (refused while values would not convert, converting otherwise), permissions.

use app::domain::fields::{FieldDef, FieldKind};
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::helpers::{spawn_app, TestApp, TestUser};

impl TestApp {
    async fn field_call(&self, endpoint: &str, body: serde_json::Value) -> reqwest::Response {
        self.call(&self.client, endpoint, body).await
    }

    async fn define(&self, key: &str, label: &str, kind: &str, choices: &str) -> FieldDef {
        let response = self
            .field_call(
                "create_field",
                json!({ "form": { "key": key, "label": label, "kind": kind, "choices": choices, "required": false, "searchable": true } }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "define {key}");
        response.json().await.expect("field")
    }

    async fn fields(&self, archived: bool) -> Vec<FieldDef> {
        self.field_call("list_fields", json!({ "archived": archived }))
            .await
            .json()
            .await
            .expect("fields")
    }

    /// Sets a user's raw attribute value (JSON) directly.
    async fn set_attribute(&self, user: i64, key: &str, value: serde_json::Value) {
        let sql = match self.backend() {
            sea_orm::DbBackend::Postgres => {
                "UPDATE users SET attributes = jsonb_set(attributes, ARRAY[$1], $2::jsonb) WHERE id = $3"
            }
            _ => "UPDATE users SET attributes = json_set(attributes, '$.' || $1, json($2)) WHERE id = $3",
        };
        self.exec(sql, vec![key.into(), value.to_string().into(), user.into()])
            .await;
    }

    async fn attribute(&self, user: i64, key: &str) -> serde_json::Value {
        let sql = match self.backend() {
            sea_orm::DbBackend::Postgres => {
                "SELECT CAST(attributes -> $1 AS TEXT) AS v FROM users WHERE id = $2"
            }
            _ => "SELECT attributes -> ('$.' || $1) AS v FROM users WHERE id = $2",
        };
        let row = self
            .db
            .query_one_raw(sea_orm::Statement::from_sql_and_values(
                self.backend(),
                sql,
                vec![key.into(), user.into()],
            ))
            .await
            .expect("query")
            .expect("row");
        let text: Option<String> = row.try_get("", "v").expect("v");
        text.map(|t| serde_json::from_str::<serde_json::Value>(&t).expect("json"))
            .unwrap_or_default()
    }
}

#[tokio::test]
async fn fields_are_defined_listed_in_order_and_archived() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let plan = app
        .define("plan", "Plan", "choice", "Free\nPro\nTeam")
        .await;
    assert_eq!(plan.kind, FieldKind::Choice);
    assert_eq!(plan.choices, vec!["Free", "Pro", "Team"]);
    let birthday = app.define("Birth day", "Birthday", "date", "").await;
    assert_eq!(birthday.key, "birth_day");
    let keys = |v: Vec<FieldDef>| v.into_iter().map(|f| f.key).collect::<Vec<_>>();
    assert_eq!(keys(app.fields(false).await), vec!["plan", "birth_day"]);

    let reordered: Vec<FieldDef> = app
        .field_call("reorder_fields", json!({ "ids": [birthday.id, plan.id] }))
        .await
        .json()
        .await
        .expect("fields");
    assert_eq!(keys(reordered), vec!["birth_day", "plan"]);

    let archived: FieldDef = app
        .field_call(
            "archive_field",
            json!({ "id": birthday.id, "archived": true }),
        )
        .await
        .json()
        .await
        .expect("field");
    assert!(archived.archived);
    assert_eq!(
        keys(app.fields(false).await),
        vec!["plan"],
        "archived fields are hidden"
    );
    assert_eq!(
        keys(app.fields(true).await),
        vec!["birth_day", "plan"],
        "but kept"
    );
    assert_eq!(app.audit("field.create").await.len(), 2);
    assert_eq!(app.audit("field.reorder").await.len(), 1);
    assert_eq!(app.audit("field.archive").await.len(), 1);
}

#[tokio::test]
async fn bad_definitions_are_refused_field_by_field() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let response = app
        .field_call(
            "create_field",
            json!({ "form": { "key": "Email", "label": "", "kind": "choice", "choices": " ", "required": false, "searchable": true } }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = response.json().await.expect("json");
    let errors = &body["Validation"];
    assert!(
        errors["key"][0]
            .as_str()
            .is_some_and(|m| m.contains("built-in")),
        "{body}"
    );
    assert!(
        errors["label"][0]
            .as_str()
            .is_some_and(|m| m.contains("Enter a label")),
        "{body}"
    );
    assert!(
        errors["choices"][0]
            .as_str()
            .is_some_and(|m| m.contains("at least one choice")),
        "{body}"
    );

    app.define("plan", "Plan", "text", "").await;
    let twice = app
        .field_call(
            "create_field",
            json!({ "form": { "key": "plan", "label": "Plan again", "kind": "text", "choices": "", "required": false, "searchable": true } }),
        )
        .await;
    assert_eq!(twice.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(twice.text().await.expect("body").contains("exists"));
}

#[tokio::test]
async fn a_type_change_is_refused_while_values_do_not_convert_and_converts_them_otherwise() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let field = app
        .define("customer_no", "Customer number", "text", "")
        .await;
    let a = app.insert_user(TestUser::new("Ann", "One")).await;
    let b = app.insert_user(TestUser::new("Bob", "Two")).await;
    let c = app.insert_user(TestUser::new("Cid", "Three")).await;
    app.set_attribute(a, "customer_no", json!("1,200")).await;
    app.set_attribute(b, "customer_no", json!("77")).await;
    app.set_attribute(c, "customer_no", json!("n/a")).await;

    let to_number = json!({ "id": field.id, "form": { "key": "customer_no", "label": "Customer number", "kind": "number", "choices": "", "required": false, "searchable": true } });
    let refused = app.field_call("update_field", to_number.clone()).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let message = refused.text().await.expect("body");
    assert!(
        message.contains("1 user has a value that does not convert to number"),
        "{message}"
    );
    assert!(message.contains("\\\"n/a\\\""), "{message}");
    assert_eq!(
        app.fields(false).await[0].kind,
        FieldKind::Text,
        "nothing changed"
    );
    assert_eq!(app.attribute(a, "customer_no").await, json!("1,200"));

    app.set_attribute(c, "customer_no", json!("3")).await;
    let changed = app.field_call("update_field", to_number).await;
    let status = changed.status();
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        changed.text().await.unwrap_or_default()
    );
    assert_eq!(app.fields(false).await[0].kind, FieldKind::Number);
    assert_eq!(app.attribute(a, "customer_no").await, json!(1200.0));
    assert_eq!(app.attribute(b, "customer_no").await, json!(77.0));
    let updates = app.audit("field.update").await;
    assert_eq!(updates.len(), 1);
    assert_eq!(
        updates[0].before.as_ref().map(|b| b["kind"].clone()),
        Some(json!("text"))
    );
    assert_eq!(
        updates[0].after.as_ref().map(|a| a["kind"].clone()),
        Some(json!("number"))
    );
}

#[tokio::test]
async fn removing_a_choice_in_use_is_refused_and_the_key_is_fixed() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let field = app.define("plan", "Plan", "choice", "Free, Pro").await;
    let a = app.insert_user(TestUser::new("Ann", "One")).await;
    app.set_attribute(a, "plan", json!("Pro")).await;
    let form = |key: &str, choices: &str| json!({ "id": field.id, "form": { "key": key, "label": "Plan", "kind": "choice", "choices": choices, "required": false, "searchable": true } });
    let refused = app.field_call("update_field", form("plan", "Free")).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused
        .text()
        .await
        .expect("body")
        .contains("not among the new choices"));
    let renamed = app
        .field_call("update_field", form("tier", "Free, Pro, Team"))
        .await;
    assert_eq!(renamed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(renamed.text().await.expect("body").contains("key is fixed"));
    let ok = app
        .field_call("update_field", form("plan", "Free, Pro, Team"))
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(
        app.fields(false).await[0].choices,
        vec!["Free", "Pro", "Team"]
    );
}

#[tokio::test]
async fn only_admins_who_manage_fields_may_change_them() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let field = app.define("plan", "Plan", "text", "").await;
    for role in ["support", "viewer"] {
        let client = app.sign_in_as(&format!("{role}@example.com"), role).await;
        let listed = app
            .call(&client, "list_fields", json!({ "archived": false }))
            .await;
        assert_eq!(listed.status(), StatusCode::OK, "{role} reads the fields");
        for (endpoint, body) in [
            (
                "create_field",
                json!({ "form": { "key": "x_y", "label": "X", "kind": "text", "choices": "", "required": false, "searchable": true } }),
            ),
            (
                "update_field",
                json!({ "id": field.id, "form": { "key": "plan", "label": "P", "kind": "text", "choices": "", "required": false, "searchable": true } }),
            ),
            ("archive_field", json!({ "id": field.id, "archived": true })),
            ("reorder_fields", json!({ "ids": [field.id] })),
        ] {
            assert_eq!(
                app.call(&client, endpoint, body).await.status(),
                StatusCode::FORBIDDEN,
                "{role}: {endpoint}"
            );
        }
    }
    assert_eq!(app.fields(false).await[0].label, "Plan");
}

/// The drawer's form for `d` with these custom field entries.
fn edit_form(d: &app::domain::UserDetail, attributes: serde_json::Value) -> serde_json::Value {
    let mut form = crate::helpers::edit_form(d);
    form["attributes"] = attributes;
    form
}

#[tokio::test]
async fn values_are_set_in_the_drawer_checked_by_type_and_audited() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    app.define("plan", "Plan", "choice", "Free, Pro").await;
    app.define("seats", "Seats", "number", "").await;
    let required = app
        .field_call(
            "create_field",
            json!({ "form": { "key": "region", "label": "Region", "kind": "text", "choices": "", "required": true, "searchable": true } }),
        )
        .await;
    assert_eq!(required.status(), StatusCode::OK);
    let id = app.insert_user(TestUser::new("Ann", "One")).await;
    let detail = app.user_detail(id).await;
    assert!(detail.attributes.is_empty());

    let bad = app
        .field_call(
            "update_user",
            json!({ "id": id, "form": edit_form(&detail, json!({ "plan": "Gold", "seats": "many", "region": "" })) }),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = bad.json().await.expect("json");
    let errors = &body["Validation"];
    assert!(
        errors["field.plan"][0]
            .as_str()
            .is_some_and(|m| m.contains("is not one of: Free, Pro")),
        "{body}"
    );
    assert!(
        errors["field.seats"][0]
            .as_str()
            .is_some_and(|m| m.contains("is not a number")),
        "{body}"
    );
    assert!(
        errors["field.region"][0]
            .as_str()
            .is_some_and(|m| m.contains("required")),
        "{body}"
    );
    assert!(
        app.user_detail(id).await.attributes.is_empty(),
        "nothing saved"
    );

    let ok = app
        .field_call(
            "update_user",
            json!({ "id": id, "form": edit_form(&detail, json!({ "plan": "pro", "seats": "12", "region": "EU" })) }),
        )
        .await;
    assert_eq!(ok.status(), StatusCode::OK, "{:?}", ok.text().await);
    let saved = app.user_detail(id).await;
    assert_eq!(saved.attributes.get("plan"), Some(&json!("Pro")));
    assert_eq!(saved.attributes.get("seats"), Some(&json!(12.0)));
    assert_eq!(saved.attributes.get("region"), Some(&json!("EU")));
    let audit = app.audit("user.update").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(
        audit[0].after.as_ref().map(|a| a["fields"]["plan"].clone()),
        Some(json!("Pro"))
    );

    // A value is cleared by an empty entry; keys the form leaves out stay.
    let cleared = app
        .field_call(
            "update_user",
            json!({ "id": id, "form": edit_form(&saved, json!({ "seats": "" })) }),
        )
        .await;
    assert_eq!(cleared.status(), StatusCode::OK);
    let after = app.user_detail(id).await;
    assert_eq!(after.attributes.get("seats"), None);
    assert_eq!(after.attributes.get("plan"), Some(&json!("Pro")));
}

#[tokio::test]
async fn fields_are_columns_of_imports_exports_and_templates() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    app.define("plan", "Plan", "choice", "Free, Pro").await;
    app.define("seats", "Seats", "number", "").await;
    app.define("renewal", "Renewal", "date", "").await;

    let file = [
        "email,first_name,Plan,seats,renewal",
        "ann@example.com,Ann,pro,3,31.01.2027",
        "bob@example.com,Bob,Gold,2,",
        "cid@example.com,Cid,,x,",
    ]
    .join("\r\n")
    .into_bytes();
    let job = app.preview("fields.csv", file).await;
    let r = job.report.clone().expect("report");
    assert_eq!((r.created, r.rejected), (1, 2), "{:?}", r.rejected_rows);
    assert_eq!(
        r.rejected_rows[0].errors[0].column, "Plan",
        "named as the file names it"
    );
    assert!(r.rejected_rows[0].errors[0]
        .message
        .contains("is not one of: Free, Pro"));
    assert_eq!(r.rejected_rows[1].errors[0].column, "seats");
    let (_, applied) = app.apply(job.id, true).await;
    assert_eq!(applied.state, app::domain::transfer::JobState::Applied);
    let ann = app.user_detail(app.user_id("ann@example.com").await).await;
    assert_eq!(ann.attributes.get("plan"), Some(&json!("Pro")));
    assert_eq!(ann.attributes.get("seats"), Some(&json!(3.0)));
    assert_eq!(ann.attributes.get("renewal"), Some(&json!("2027-01-31")));

    // Exports carry the fields; an unchanged export re-imports as no change.
    let csv = app
        .download("/users/export.csv?all=1")
        .await
        .text()
        .await
        .expect("csv");
    let mut lines = csv.trim_start_matches('\u{feff}').lines();
    let header = lines.next().expect("header");
    assert!(header.ends_with(",plan,seats,renewal"), "{header}");
    assert!(csv.contains(",Pro,3,2027-01-31"), "{csv}");
    for format in ["csv", "xlsx"] {
        let bytes = app
            .download(&format!("/users/export.{format}?all=1"))
            .await
            .bytes()
            .await
            .expect("body")
            .to_vec();
        let job = app.preview(&format!("again.{format}"), bytes).await;
        let r = job.report.expect("report");
        assert_eq!(
            (r.created, r.updated, r.rejected),
            (0, 0, 0),
            "{format}: {:?}",
            r.rejected_rows
        );
    }

    // An update changes only the field it names.
    let job = app
        .preview("update.csv", b"email,seats\r\nann@example.com,5".to_vec())
        .await;
    let r = job.report.clone().expect("report");
    assert_eq!(r.updated_rows[0].fields, vec!["seats"]);
    app.apply(job.id, false).await;
    let ann = app.user_detail(app.user_id("ann@example.com").await).await;
    assert_eq!(ann.attributes.get("seats"), Some(&json!(5.0)));
    assert_eq!(ann.attributes.get("plan"), Some(&json!("Pro")));

    // The templates have a column per field, the XLSX a line explaining it.
    let template = app
        .download("/imports/template.csv")
        .await
        .text()
        .await
        .expect("template");
    assert!(
        template
            .lines()
            .next()
            .is_some_and(|h| h.ends_with(",plan,seats,renewal")),
        "{template}"
    );
    let xlsx = app
        .download("/imports/template.xlsx")
        .await
        .bytes()
        .await
        .expect("xlsx")
        .to_vec();
    let mut workbook: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx)).expect("workbook");
    use calamine::Reader;
    let columns = workbook.worksheet_range("Columns").expect("Columns sheet");
    let plan_row = columns
        .rows()
        .find(|row| row[0] == "plan")
        .expect("a row explaining plan");
    assert_eq!(
        plan_row[2].to_string(),
        "Custom field \"Plan\". One of: Free, Pro."
    );
}

#[tokio::test]
async fn creating_users_asks_for_required_fields_and_checks_values() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let required = app
        .field_call(
            "create_field",
            json!({ "form": { "key": "region", "label": "Region", "kind": "choice", "choices": "EU, US", "required": true, "searchable": true } }),
        )
        .await;
    assert_eq!(required.status(), StatusCode::OK);
    let member = app
        .scalar_i64("SELECT id FROM roles WHERE name = 'member'", vec![])
        .await;
    let user = |email: &str, region: Option<&str>| {
        let mut u = json!({
            "first_name": "New", "last_name": "Person", "email": email, "username": "", "phone": "+46701234567",
            "role_id": member, "groups": [], "language": "en", "password_choice": "Invite", "password": ""
        });
        if let Some(r) = region {
            u["attributes"] = json!({ "region": r });
        }
        u
    };
    let missing = app
        .field_call(
            "create_users",
            json!({ "users": [user("a@example.com", None)] }),
        )
        .await;
    assert_eq!(missing.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = missing.json().await.expect("json");
    assert!(
        body["Validation"]["0.field.region"][0]
            .as_str()
            .is_some_and(|m| m.contains("required")),
        "{body}"
    );
    let bad = app
        .field_call(
            "create_users",
            json!({ "users": [user("a@example.com", Some("Mars"))] }),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad
        .text()
        .await
        .expect("body")
        .contains("is not one of: EU, US"));
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE email = 'a@example.com'")
            .await,
        0
    );

    let ok = app
        .field_call(
            "create_users",
            json!({ "users": [user("a@example.com", Some("eu"))] }),
        )
        .await;
    assert_eq!(ok.status(), StatusCode::OK, "{:?}", ok.text().await);
    let detail = app.user_detail(app.user_id("a@example.com").await).await;
    assert_eq!(detail.attributes.get("region"), Some(&json!("EU")));
}

#[tokio::test]
async fn the_table_filters_sorts_and_searches_by_custom_fields() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    app.define("plan", "Plan", "choice", "Free\nPro\nTeam")
        .await;
    app.define("seats", "Seats", "number", "").await;
    app.define("renewal", "Renewal", "date", "").await;
    app.define("vip", "VIP", "bool", "").await;
    let note = app.define("tier_note", "Tier note", "text", "").await;
    app.define("colors", "Colors", "multi_choice", "Red\nGreen\nBlue")
        .await;
    let hidden = app
        .field_call(
            "create_field",
            json!({ "form": { "key": "secret", "label": "Secret", "kind": "text", "choices": "", "required": false, "searchable": false } }),
        )
        .await;
    assert_eq!(hidden.status(), StatusCode::OK);
    let people = [
        (
            "Ann",
            json!({ "plan": "Pro", "seats": 12.0, "renewal": "2026-03-01", "vip": true,
                    "tier_note": "Platinum reseller", "colors": ["Red", "Blue"] }),
        ),
        (
            "Bob",
            json!({ "plan": "Free", "seats": 3.0, "renewal": "2027-01-15", "vip": false,
                    "tier_note": "trial", "colors": ["Green"], "secret": "zanzibar" }),
        ),
        (
            "Cid",
            json!({ "plan": "Team", "seats": 250.0, "renewal": "2026-12-31", "vip": true }),
        ),
        ("Dee", json!({})),
    ];
    for (first, values) in &people {
        let id = app.insert_user(TestUser::new(first, "Field")).await;
        for (key, value) in values.as_object().expect("object") {
            app.set_attribute(id, key, value.clone()).await;
        }
    }
    let names = |page: app::domain::UserPage| -> Vec<String> {
        page.rows
            .into_iter()
            .filter(|r| r.last_name == "Field")
            .map(|r| r.first_name)
            .collect()
    };
    // Newest first unless sorted: Dee, Cid, Bob, Ann.
    let cases: &[(&str, &[&str])] = &[
        ("f.plan=is:Pro", &["Ann"]),
        ("f.plan=is:pro,team", &["Cid", "Ann"]),
        ("f.plan=not:Free", &["Dee", "Cid", "Ann"]),
        ("f.plan=is:Gold", &[]),
        ("f.seats=range:10..", &["Cid", "Ann"]),
        ("f.seats=range:3..12", &["Bob", "Ann"]),
        ("f.renewal=range:2026-06-01..2026-12-31", &["Cid"]),
        ("f.vip=yes", &["Cid", "Ann"]),
        ("f.vip=no", &["Bob"]),
        ("f.tier_note=contains:PLATIN", &["Ann"]),
        ("f.colors=is:Blue", &["Ann"]),
        ("f.colors=is:green,blue", &["Bob", "Ann"]),
        ("f.colors=not:Red", &["Dee", "Cid", "Bob"]),
        ("f.plan=not:Free&f.vip=yes", &["Cid", "Ann"]),
        // A filter that fits no field, or not the field's type, is ignored.
        ("f.nothing=is:x", &["Dee", "Cid", "Bob", "Ann"]),
        ("f.seats=contains:x", &["Dee", "Cid", "Bob", "Ann"]),
        // No value sorts first ascending, last descending.
        ("sort=field.seats", &["Dee", "Bob", "Ann", "Cid"]),
        ("sort=field.seats&dir=desc", &["Cid", "Ann", "Bob", "Dee"]),
        ("sort=field.plan", &["Dee", "Bob", "Ann", "Cid"]),
        ("sort=field.renewal&dir=desc", &["Bob", "Cid", "Ann", "Dee"]),
        ("sort=field.vip&f.plan=not:Free", &["Dee", "Ann", "Cid"]),
        // Searchable text and choice values are in the search index; others are not.
        ("q=reseller", &["Ann"]),
        ("q=platinum+field", &["Ann"]),
        ("q=zanzibar", &[]),
    ];
    for (qs, want) in cases {
        let page = app.list_qs(qs).await;
        let filtered =
            qs.contains("f.plan") || qs.contains("f.seats=range") || qs.starts_with("q=");
        let total = page.total;
        let got = names(page);
        assert_eq!(got, *want, "{qs}");
        if filtered && !qs.contains("not:") {
            assert_eq!(
                total,
                want.len() as u64,
                "{qs}: the count agrees with the rows"
            );
        }
    }
    // The rows carry the values as the table shows them.
    let page = app.list_qs("f.plan=is:Pro").await;
    let ann = page
        .rows
        .iter()
        .find(|r| r.first_name == "Ann")
        .expect("Ann");
    assert_eq!(ann.fields.get("seats").map(String::as_str), Some("12"));
    assert_eq!(
        ann.fields.get("colors").map(String::as_str),
        Some("Red, Blue")
    );
    assert_eq!(ann.fields.get("vip").map(String::as_str), Some("yes"));

    // A field leaving the search takes its values out of the index, and back.
    let form = |searchable: bool| json!({ "id": note.id, "form": { "key": "tier_note", "label": "Tier note", "kind": "text", "choices": "", "required": false, "searchable": searchable } });
    assert_eq!(
        app.field_call("update_field", form(false)).await.status(),
        StatusCode::OK
    );
    assert!(names(app.list_qs("q=reseller").await).is_empty());
    assert_eq!(
        app.field_call("update_field", form(true)).await.status(),
        StatusCode::OK
    );
    assert_eq!(names(app.list_qs("q=reseller").await), ["Ann"]);
    let archive = app
        .field_call("archive_field", json!({ "id": note.id, "archived": true }))
        .await;
    assert_eq!(archive.status(), StatusCode::OK);
    assert!(
        names(app.list_qs("q=reseller").await).is_empty(),
        "archived fields are not searched"
    );
    assert_eq!(
        names(app.list_qs("f.tier_note=contains:platin").await).len(),
        4,
        "a filter on an archived field is ignored"
    );

    // A filtered, field-sorted view exports exactly the table's users in its order.
    let export = app
        .client
        .get(format!(
            "{}/users/export.csv?f.plan=not:Free&sort=field.seats&dir=desc",
            app.address
        ))
        .send()
        .await
        .expect("export");
    assert_eq!(export.status(), StatusCode::OK);
    let body = export.text().await.expect("csv");
    let exported: Vec<&str> = body
        .lines()
        .skip(1)
        .filter(|l| l.contains("Field"))
        .map(|l| {
            l.split(',')
                .find(|c| ["Ann", "Cid", "Dee"].contains(c))
                .unwrap_or("")
        })
        .collect();
    assert_eq!(exported, ["Cid", "Ann", "Dee"]);
}

#[tokio::test]
async fn field_columns_are_remembered_per_admin() {
    let app = spawn_app().await;
    app.sign_in_owner().await;
    let saved: Vec<String> = app
        .field_call(
            "save_field_columns",
            json!({ "keys": ["plan", "plan", "Bad Key", "seats"] }),
        )
        .await
        .json()
        .await
        .expect("saved");
    assert_eq!(saved, ["plan", "seats"]);
    let read: Vec<String> = app
        .field_call("get_field_columns", json!({}))
        .await
        .json()
        .await
        .expect("read");
    assert_eq!(read, saved);
}
