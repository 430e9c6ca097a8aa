//! Deterministic demo data: realistic users with tags, groups, devices and activity.
//! The same `n` always gives the same users. Rows go in as multi-row INSERTs in
//! batches, one transaction per batch, so a million users take minutes, not hours.

use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{ConnectionTrait, DatabaseConnection, Value};

use super::dialect::Run;
use super::sql::Sql;
use super::{roles, ServiceError};
use crate::domain::permissions::DEFAULT_ROLE;

const FIRST_NAMES: &[&str] = &[
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "William",
    "Elizabeth",
    "David",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Anna",
    "Lars",
    "Ingrid",
    "Erik",
    "Sofia",
    "Mohammed",
    "Fatima",
    "Wei",
    "Mei",
    "Hiroshi",
    "Yuki",
    "Carlos",
    "Lucia",
    "Pierre",
    "Camille",
    "Hans",
    "Greta",
    "Olga",
    "Ivan",
    "Priya",
    "Arjun",
    "Aisha",
    "Omar",
    "Chloe",
    "Liam",
    "Noah",
    "Emma",
    "Olivia",
    "Ava",
    "Mateo",
    "Leila",
    "Nia",
    "Kofi",
    "Amara",
    "Sven",
    "Astrid",
    "Bjorn",
    "Freya",
    "Diego",
    "Valentina",
    "Luca",
    "Giulia",
    "Tomasz",
    "Zofia",
];
const LAST_NAMES: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Andersson",
    "Johansson",
    "Karlsson",
    "Nilsson",
    "Larsson",
    "Svensson",
    "Muller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Dubois",
    "Moreau",
    "Laurent",
    "Rossi",
    "Russo",
    "Ferrari",
    "Kowalski",
    "Nowak",
    "Tanaka",
    "Suzuki",
    "Sato",
    "Wang",
    "Li",
    "Zhang",
    "Chen",
    "Patel",
    "Sharma",
    "Khan",
    "Ali",
    "Okafor",
    "Mensah",
    "O'Brien",
    "Murphy",
    "Kelly",
    "Novak",
    "Ivanov",
    "Petrov",
    "Silva",
    "Santos",
    "Costa",
];
const COMPANIES: &[&str] = &[
    "Acme Corp",
    "Globex",
    "Initech",
    "Umbrella Health",
    "Stark Industries",
    "Wayne Enterprises",
    "Hooli",
    "Vandelay Imports",
    "Nordic Timber",
    "Blue Harbor Bank",
    "Sunrise Foods",
    "Pixel Forge",
    "Helios Energy",
    "Atlas Logistics",
    "Quantum Labs",
    "",
    "",
];
const JOB_TITLES: &[&str] = &[
    "Engineer",
    "Designer",
    "Product Manager",
    "Sales Lead",
    "Accountant",
    "Nurse",
    "Teacher",
    "Analyst",
    "Support Agent",
    "Marketing Manager",
    "Consultant",
    "Student",
    "Founder",
    "Operations Lead",
    "",
];
const CITIES: &[&str] = &[
    "Stockholm",
    "Berlin",
    "Paris",
    "London",
    "Madrid",
    "Rome",
    "Warsaw",
    "Tokyo",
    "New York",
    "Toronto",
    "Lagos",
    "Mumbai",
    "Sydney",
    "Sao Paulo",
    "Dublin",
    "Oslo",
];
const STREETS: &[&str] = &[
    "Main Street",
    "Park Avenue",
    "Oak Road",
    "Harbor Way",
    "King Street",
    "Elm Lane",
];
const DOMAINS: &[&str] = &[
    "example.com",
    "example.org",
    "mail.example.net",
    "company.test",
];
const LANGUAGES: &[&str] = &["en", "en", "en", "sv", "de", "fr", "es", "it", "pl", "ja"];
const PHONE_PREFIXES: &[&str] = &["+1555", "+4670", "+4915", "+4478", "+3361"];
const SOURCES: &[&str] = &["admin", "import", "self_signup", "self_signup", "api"];
/// Tag names and colours.
pub const TAGS: &[(&str, &str)] = &[
    ("vip", "#b45309"),
    ("beta", "#7c3aed"),
    ("churn-risk", "#dc2626"),
    ("enterprise", "#1d4ed8"),
    ("newsletter", "#0f766e"),
    ("early-adopter", "#9333ea"),
    ("partner", "#15803d"),
    ("trial", "#64748b"),
    ("priority-support", "#be123c"),
    ("mobile", "#0369a1"),
    ("eu", "#4338ca"),
    ("us", "#b91c1c"),
];
const GROUPS: &[&str] = &[
    "Sales",
    "Engineering",
    "Customers",
    "Partners",
    "Beta testers",
    "Staff",
    "Press",
    "Investors",
];
const DEVICES: &[(&str, &str)] = &[
    ("iPhone 15", "iOS"),
    ("Pixel 8", "Android"),
    ("Galaxy S24", "Android"),
    ("MacBook Pro", "macOS"),
    ("ThinkPad X1", "Windows"),
    ("iPad Air", "iPadOS"),
    ("Firefox on Linux", "Linux"),
];
const PAGES: &[&str] = &[
    "/dashboard",
    "/billing",
    "/settings",
    "/reports",
    "/projects",
    "/help",
];
const FEATURES: &[&str] = &[
    "export_report",
    "invite_teammate",
    "create_project",
    "upload_file",
    "change_plan",
];

/// Users per transaction.
const BATCH: usize = 2_000;
/// Rows per INSERT statement (keeps bound parameters well under both backends' limits).
const ROWS_PER_INSERT: usize = 400;

/// The instant the demo data is anchored to, so seeding is reproducible.
pub fn anchor() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0)
        .single()
        .unwrap_or_default()
}

/// How many users (of any kind) the database holds.
pub async fn user_count<C: ConnectionTrait>(db: &C) -> Result<u64, ServiceError> {
    let q = Sql::new("SELECT count(*) AS n FROM users");
    let row = db.one(&q).await?;
    Ok(row
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0)
        .max(0) as u64)
}

/// Inserts `n` demo users (plus the tags and groups they use). Refuses when demo
/// users are already present, since the same data would collide. `progress` is
/// called after each batch with the number of users written so far.
pub async fn seed(
    db: &DatabaseConnection,
    n: u64,
    mut progress: impl FnMut(u64),
) -> Result<(), ServiceError> {
    let mut probe = Sql::new("SELECT count(*) AS n FROM users WHERE email LIKE ");
    probe.bind("%.0@example.com");
    let existing = db
        .one(&probe)
        .await?
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0);
    if existing > 0 {
        return Err(ServiceError::Conflict(
            "this database already holds demo users; seed an empty database".into(),
        ));
    }
    let member = roles::role_id(db, DEFAULT_ROLE)
        .await?
        .ok_or_else(|| anyhow::anyhow!("built-in roles are missing; run migrate first"))?;
    let other_roles = [
        roles::role_id(db, "viewer").await?,
        roles::role_id(db, "support").await?,
    ];
    let tag_ids = ensure_named(db, "tags", TAGS.iter().map(|(n, c)| (*n, *c)).collect()).await?;
    let group_ids = ensure_named(db, "groups", GROUPS.iter().map(|n| (*n, "")).collect()).await?;

    let mut rng = StdRng::seed_from_u64(0x5EED_0F20_51E4);
    let mut done = 0u64;
    while done < n {
        let count = (n - done).min(BATCH as u64);
        let batch: Vec<DemoUser> = (done..done + count)
            .map(|i| {
                DemoUser::generate(
                    i,
                    &mut rng,
                    member,
                    &other_roles,
                    tag_ids.len(),
                    group_ids.len(),
                )
            })
            .collect();
        write_batch(db, &batch, &tag_ids, &group_ids).await?;
        done += count;
        progress(done);
    }
    crate::backend::db::refresh_statistics(db).await;
    Ok(())
}

/// Inserts the named rows that are missing and returns all their ids in order.
async fn ensure_named<C: ConnectionTrait>(
    db: &C,
    table: &str,
    names: Vec<(&str, &str)>,
) -> Result<Vec<i64>, ServiceError> {
    let mut ids = Vec::new();
    for (name, extra) in names {
        let extra_col = if table == "tags" {
            "color"
        } else {
            "description"
        };
        let mut ins = Sql::new(&format!(
            "INSERT INTO {table} (name, {extra_col}, created_at) VALUES ("
        ));
        ins.bind(name)
            .push(", ")
            .bind(extra)
            .push(", ")
            .bind(anchor())
            .push(") ON CONFLICT DO NOTHING");
        db.exec(&ins).await?;
        let mut q = Sql::new(&format!("SELECT id FROM {table} WHERE lower(name) = "));
        q.bind(name.to_lowercase());
        let row = db
            .one(&q)
            .await?
            .ok_or_else(|| anyhow::anyhow!("{table} {name} vanished"))?;
        ids.push(row.try_get("", "id")?);
    }
    Ok(ids)
}

struct DemoUser {
    values: Vec<Value>,
    email: String,
    tags: Vec<usize>,
    groups: Vec<usize>,
    devices: Vec<(usize, DateTime<Utc>)>,
    activities: Vec<(DateTime<Utc>, &'static str, &'static str)>,
}

const USER_COLUMNS: &str = "email, username, phone, first_name, last_name, job_title, company, address, \
    language, status, role_id, balance, email_opt_in, email_opt_in_changed_at, note, signup_source, \
    created_at, updated_at, last_access_at";

impl DemoUser {
    fn generate(
        i: u64,
        rng: &mut StdRng,
        member: i64,
        other_roles: &[Option<i64>],
        tags: usize,
        groups: usize,
    ) -> DemoUser {
        let first = FIRST_NAMES[rng.gen_range(0..FIRST_NAMES.len())];
        let last = LAST_NAMES[rng.gen_range(0..LAST_NAMES.len())];
        let slug = |s: &str| s.to_lowercase().replace(['\'', ' '], "");
        let domain = DOMAINS[(i % DOMAINS.len() as u64) as usize];
        let email = format!("{}.{}.{i}@{domain}", slug(first), slug(last));
        let username = format!("{}{}{i}", slug(first), slug(last));
        let phone = (rng.gen_range(0..100) < 85).then(|| {
            format!(
                "{}{:07}",
                PHONE_PREFIXES[(i % PHONE_PREFIXES.len() as u64) as usize],
                i
            )
        });
        let status = match rng.gen_range(0..100) {
            0..=89 => "active",
            90..=95 => "banned",
            _ => "invited",
        };
        let role = match rng.gen_range(0..1000) {
            0..=14 => other_roles[0].unwrap_or(member),
            15..=24 => other_roles[1].unwrap_or(member),
            _ => member,
        };
        // Signups spread over three years before the anchor, roughly in id order.
        let span = Duration::days(3 * 365).num_seconds();
        let created =
            anchor() - Duration::seconds(span) + Duration::seconds(rng.gen_range(0..span));
        let last_access = (status != "invited" && rng.gen_range(0..100) < 85).then(|| {
            created
                + Duration::seconds(rng.gen_range(0..=(anchor() - created).num_seconds().max(1)))
        });
        let opt_in = rng.gen_range(0..100) < 60;
        let city = CITIES[rng.gen_range(0..CITIES.len())];
        let address = format!(
            "{} {}, {city}",
            rng.gen_range(1..200),
            STREETS[rng.gen_range(0..STREETS.len())]
        );
        let values: Vec<Value> = vec![
            email.clone().into(),
            username.into(),
            phone.into(),
            first.into(),
            last.into(),
            JOB_TITLES[rng.gen_range(0..JOB_TITLES.len())].into(),
            COMPANIES[rng.gen_range(0..COMPANIES.len())].into(),
            address.into(),
            LANGUAGES[rng.gen_range(0..LANGUAGES.len())].into(),
            status.into(),
            role.into(),
            rng.gen_range(-5_000_i64..500_000).into(),
            opt_in.into(),
            opt_in.then_some(created).into(),
            "".into(),
            SOURCES[rng.gen_range(0..SOURCES.len())].into(),
            created.into(),
            created.into(),
            last_access.into(),
        ];
        let pick = |rng: &mut StdRng, max: usize, of: usize| {
            let mut v: Vec<usize> = (0..rng.gen_range(0..=max))
                .map(|_| rng.gen_range(0..of))
                .collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        let tags = pick(rng, 3, tags);
        let groups = pick(rng, 2, groups);
        let devices: Vec<_> = (0..rng.gen_range(0..=3))
            .map(|_| {
                (
                    rng.gen_range(0..DEVICES.len()),
                    last_access.unwrap_or(created),
                )
            })
            .collect();
        // A device is where someone signed in from: never without a last access (the
        // numbers are drawn all the same, so the rest of the demo stays as it was).
        let devices = if last_access.is_some() {
            devices
        } else {
            Vec::new()
        };
        let activities = match last_access {
            None => Vec::new(),
            Some(last_seen) => {
                let window = (last_seen - created).num_seconds().max(1);
                let mut acts: Vec<_> = (0..rng.gen_range(1..=4))
                    .map(|_| {
                        let at = created + Duration::seconds(rng.gen_range(0..=window));
                        match rng.gen_range(0..3) {
                            0 => (at, "sign_in", "Signed in"),
                            1 => (at, "page_view", PAGES[rng.gen_range(0..PAGES.len())]),
                            _ => (at, "feature", FEATURES[rng.gen_range(0..FEATURES.len())]),
                        }
                    })
                    .collect();
                acts.push((last_seen, "page_view", "/dashboard"));
                acts
            }
        };
        DemoUser {
            values,
            email,
            tags,
            groups,
            devices,
            activities,
        }
    }
}

async fn write_batch(
    db: &DatabaseConnection,
    batch: &[DemoUser],
    tag_ids: &[i64],
    group_ids: &[i64],
) -> Result<(), ServiceError> {
    let txn = crate::backend::db::begin_write(db).await?;
    let mut ids = Vec::with_capacity(batch.len());
    for chunk in batch.chunks(ROWS_PER_INSERT) {
        let mut ins = Sql::new(&format!("INSERT INTO users ({USER_COLUMNS}) VALUES "));
        for (i, user) in chunk.iter().enumerate() {
            ins.push(if i == 0 { "(" } else { ", (" })
                .bind_list(user.values.iter().cloned())
                .push(")");
        }
        ins.push(" RETURNING id, email");
        let rows = txn.all(&ins).await?;
        // RETURNING order is not guaranteed: match ids back by email.
        let mut by_email = std::collections::HashMap::with_capacity(rows.len());
        for row in rows {
            by_email.insert(
                row.try_get::<String>("", "email")?,
                row.try_get::<i64>("", "id")?,
            );
        }
        for user in chunk {
            ids.push(
                *by_email
                    .get(&user.email)
                    .ok_or_else(|| anyhow::anyhow!("no id returned for {}", user.email))?,
            );
        }
    }
    let links = |pick: fn(&DemoUser) -> &Vec<usize>, targets: &[i64]| -> Vec<Vec<Value>> {
        batch
            .iter()
            .zip(&ids)
            .flat_map(|(u, id)| {
                pick(u)
                    .iter()
                    .map(move |t| vec![Value::from(*id), Value::from(targets[*t])])
            })
            .collect()
    };
    insert_rows(
        &txn,
        "user_tags (user_id, tag_id)",
        links(|u| &u.tags, tag_ids),
    )
    .await?;
    insert_rows(
        &txn,
        "user_groups (user_id, group_id)",
        links(|u| &u.groups, group_ids),
    )
    .await?;
    let devices = batch
        .iter()
        .zip(&ids)
        .flat_map(|(u, id)| {
            u.devices.iter().map(move |(d, seen)| {
                let (name, platform) = DEVICES[*d];
                vec![
                    Value::from(*id),
                    name.into(),
                    platform.into(),
                    Value::from(*seen),
                    Value::from(*seen),
                ]
            })
        })
        .collect();
    insert_rows(
        &txn,
        "devices (user_id, name, platform, created_at, last_seen_at)",
        devices,
    )
    .await?;
    let activities = batch
        .iter()
        .zip(&ids)
        .flat_map(|(u, id)| {
            u.activities.iter().map(move |(at, kind, name)| {
                vec![
                    Value::from(*id),
                    Value::from(*at),
                    (*kind).into(),
                    (*name).into(),
                    "demo".into(),
                ]
            })
        })
        .collect();
    insert_rows(
        &txn,
        "activities (user_id, at, kind, name, source)",
        activities,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

async fn insert_rows<C: ConnectionTrait>(
    db: &C,
    into: &str,
    rows: Vec<Vec<Value>>,
) -> Result<(), ServiceError> {
    for chunk in rows.chunks(ROWS_PER_INSERT * 2) {
        let mut ins = Sql::new(&format!("INSERT INTO {into} VALUES "));
        for (i, row) in chunk.iter().enumerate() {
            ins.push(if i == 0 { "(" } else { ", (" })
                .bind_list(row.iter().cloned())
                .push(")");
        }
        db.exec(&ins).await?;
    }
    Ok(())
}
