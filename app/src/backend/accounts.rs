//! The managed users' own sign-in (the `/api/v1/auth/*` API and the /account page),
//! and what admins do to it: reset a password (single-use link or temporary
//! password), send an invitation, end every session. Ban, reset and "log out
//! everywhere" take effect on the next call of any token: each call re-reads the
//! session and the user's status.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::auth::{
    hash_off_runtime, new_token, temporary_password, token_hash, validate_new_password,
    verify_password, ClientInfo,
};
use super::authority::Authority;
use super::dialect::Run;
use super::sql::Sql;
use super::{audit, now, Config, ServiceError};
use crate::domain::email::{render, EmailKind, OutboxEmail, ResetMode};
use crate::domain::{AdminInfo, Refusal};

/// How long a password-reset link works.
pub const RESET_TTL_HOURS: i64 = 1;
/// How long an invitation link works.
pub const INVITATION_TTL_DAYS: i64 = 7;

/// A managed user as the sign-in API shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountInfo {
    pub id: i64,
    pub email: String,
    pub username: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub language: String,
    pub password_change_required: bool,
}

/// A new session.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SignedIn {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: AccountInfo,
}

const ACCOUNT_COLUMNS: &str =
    "u.id, u.email, u.username, u.first_name, u.last_name, u.language, u.must_change_password";

fn account_from(r: &sea_orm::QueryResult) -> Result<AccountInfo, sea_orm::DbErr> {
    Ok(AccountInfo {
        id: r.try_get("", "id")?,
        email: r.try_get("", "email")?,
        username: r.try_get("", "username")?,
        first_name: r.try_get("", "first_name")?,
        last_name: r.try_get("", "last_name")?,
        language: r.try_get("", "language")?,
        password_change_required: r.try_get("", "must_change_password")?,
    })
}

/// The sign-in throttle's key for what was typed: the account it names (by email,
/// username or phone, as [`sign_in`] finds it), so every spelling of one account counts
/// as one; an unknown login is keyed by its canonical text.
pub async fn throttle_key<C: ConnectionTrait>(db: &C, login: &str) -> Result<String, ServiceError> {
    let login = login.trim();
    let phone = crate::domain::account::Phone::parse(login)
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let mut q = Sql::new("SELECT u.id FROM users u WHERE u.email = ");
    q.bind(login.to_lowercase())
        .push(" OR lower(u.username) = ")
        .bind(login.to_lowercase())
        .push(" OR u.phone = ")
        .bind(phone)
        .push(" ORDER BY u.id LIMIT 1");
    let row = db.one(&q).await?;
    Ok(match row {
        Some(r) => format!("account:{}", r.try_get::<i64>("", "id")?),
        None => super::throttle::account_key(login),
    })
}

/// Signs a managed user in with their email, username or phone and password. Records
/// the device (user agent) and a sign-in entry in their activity.
pub async fn sign_in(
    db: &DatabaseConnection,
    config: &Config,
    login: &str,
    password: &str,
    client: &ClientInfo,
) -> Result<SignedIn, ServiceError> {
    let login = login.trim();
    if login.is_empty() || password.is_empty() {
        let mut fields = crate::domain::FieldErrors::new();
        if login.is_empty() {
            fields.insert(
                "login".into(),
                vec!["Enter your email, username or phone.".into()],
            );
        }
        if password.is_empty() {
            fields.insert("password".into(), vec!["Enter your password.".into()]);
        }
        return Err(ServiceError::Validation(fields));
    }
    let dialect = db.dialect();
    let phone = crate::domain::account::Phone::parse(login)
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let mut q = Sql::new(&format!(
        "SELECT {ACCOUNT_COLUMNS}, u.password_hash, u.status FROM users u WHERE u.email = "
    ));
    q.bind(login.to_lowercase())
        .push(" OR lower(u.username) = ")
        .bind(login.to_lowercase())
        .push(" OR u.phone = ")
        .bind(phone)
        .push(" ORDER BY u.id LIMIT 1");
    let row = db.one(&q).await?;
    let hash = row
        .as_ref()
        .map(|r| r.try_get::<Option<String>>("", "password_hash"))
        .transpose()?
        .flatten();
    let verified = {
        let hash = hash
            .clone()
            .unwrap_or_else(|| super::auth::DUMMY_HASH.to_string());
        let password = password.to_string();
        tokio::task::spawn_blocking(move || verify_password(&hash, &password))
            .await
            .map_err(|e| ServiceError::Unexpected(anyhow::anyhow!("password check: {e}")))?
    };
    let Some(row) = row else {
        return Err(ServiceError::Refused(Refusal::InvalidCredentials));
    };
    let status: String = row.try_get("", "status")?;
    // Nothing about the account (invited, banned) is told before a correct password:
    // an invited account without one answers like an unknown login.
    if !verified || hash.is_none() {
        return Err(ServiceError::Refused(Refusal::InvalidCredentials));
    }
    match status.as_str() {
        "banned" => return Err(ServiceError::Refused(Refusal::AccountBanned)),
        "active" => {}
        _ => return Err(ServiceError::Refused(Refusal::AccountNotActivated)),
    }
    let user = account_from(&row)?;
    let token = new_token();
    let at = now();
    let expires_at = at + config.session_ttl;
    let user_agent: String = client.user_agent.chars().take(300).collect();
    let txn = db.begin().await?;
    let mut s = Sql::new(
        "INSERT INTO sessions (token_hash, user_id, kind, created_at, last_seen_at, expires_at, user_agent, ip) VALUES (",
    );
    s.bind(token_hash(&token))
        .push(", ")
        .bind(user.id)
        .push(", 'user', ")
        .bind(at)
        .push(", ")
        .bind(at)
        .push(", ")
        .bind(expires_at)
        .push(", ")
        .bind(user_agent.clone())
        .push(", ")
        .bind(client.ip.clone())
        .push(")");
    txn.exec(&s).await?;
    record_device(&txn, user.id, &user_agent, at).await?;
    let mut a =
        Sql::new("INSERT INTO activities (user_id, at, kind, name, detail, source) VALUES (");
    a.bind(user.id)
        .push(", ")
        .bind(at)
        .push(", 'sign_in', 'Signed in', ")
        .append(&dialect.json_value(Some(json!({ "user_agent": user_agent, "ip": client.ip }))))
        .push(", 'auth')");
    txn.exec(&a).await?;
    let mut touch = Sql::new("UPDATE users SET last_access_at = ");
    touch.bind(at).push(" WHERE id = ").bind(user.id);
    txn.exec(&touch).await?;
    txn.commit().await?;
    Ok(SignedIn {
        token,
        expires_at,
        user,
    })
}

/// The user agent as a device: seen again, or new.
async fn record_device<C: ConnectionTrait>(
    db: &C,
    user_id: i64,
    user_agent: &str,
    at: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let name = if user_agent.trim().is_empty() {
        "Unknown device".to_string()
    } else {
        user_agent.chars().take(120).collect()
    };
    let platform = platform_of(user_agent);
    let mut u = Sql::new("UPDATE devices SET last_seen_at = ");
    u.bind(at)
        .push(" WHERE user_id = ")
        .bind(user_id)
        .push(" AND name = ")
        .bind(name.clone());
    if db.exec(&u).await?.rows_affected() == 0 {
        let mut i = Sql::new(
            "INSERT INTO devices (user_id, name, platform, created_at, last_seen_at) VALUES (",
        );
        i.bind(user_id)
            .push(", ")
            .bind(name)
            .push(", ")
            .bind(platform)
            .push(", ")
            .bind(at)
            .push(", ")
            .bind(at)
            .push(")");
        db.exec(&i).await?;
    }
    Ok(())
}

/// A platform name from a user agent, for the devices list.
pub fn platform_of(user_agent: &str) -> &'static str {
    let ua = user_agent.to_lowercase();
    [
        ("android", "Android"),
        ("iphone", "iOS"),
        ("ipad", "iOS"),
        ("windows", "Windows"),
        ("mac os", "macOS"),
        ("linux", "Linux"),
    ]
    .into_iter()
    .find(|(needle, _)| ua.contains(needle))
    .map_or("", |(_, name)| name)
}

/// The session behind `token`, with its user; refused when unknown, expired, or the
/// user is no longer active. `allow_change_pending` lets a user who must change a
/// temporary password through (for the change itself).
async fn session<C: ConnectionTrait>(
    db: &C,
    token: &str,
    allow_change_pending: bool,
) -> Result<(i64, AccountInfo), ServiceError> {
    let mut q = Sql::new(&format!(
        "SELECT s.id AS session_id, s.expires_at, u.status, {ACCOUNT_COLUMNS} \
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.kind = 'user' AND s.token_hash = "
    ));
    q.bind(token_hash(token.trim()));
    let row = db
        .one(&q)
        .await?
        .ok_or(ServiceError::Refused(Refusal::InvalidToken))?;
    let expires_at: DateTime<Utc> = row.try_get("", "expires_at")?;
    let status: String = row.try_get("", "status")?;
    if expires_at <= now() {
        return Err(ServiceError::Refused(Refusal::InvalidToken));
    }
    match status.as_str() {
        "active" => {}
        "banned" => return Err(ServiceError::Refused(Refusal::AccountBanned)),
        _ => return Err(ServiceError::Refused(Refusal::InvalidToken)),
    }
    let user = account_from(&row)?;
    if user.password_change_required && !allow_change_pending {
        return Err(ServiceError::Refused(Refusal::PasswordChangeRequired));
    }
    Ok((row.try_get("", "session_id")?, user))
}

/// `GET /api/v1/auth/me`.
pub async fn me<C: ConnectionTrait>(db: &C, token: &str) -> Result<AccountInfo, ServiceError> {
    Ok(session(db, token, false).await?.1)
}

/// `POST /api/v1/auth/sign-out`: ends this session (an unknown token is refused).
pub async fn sign_out<C: ConnectionTrait>(db: &C, token: &str) -> Result<(), ServiceError> {
    let (session_id, _) = session(db, token, true).await?;
    let mut d = Sql::new("DELETE FROM sessions WHERE id = ");
    d.bind(session_id);
    db.exec(&d).await?;
    Ok(())
}

/// `POST /api/v1/auth/change-password`: needs the current password; ends the user's
/// other sessions and lifts the "must change" flag of a temporary password.
pub async fn change_password(
    db: &DatabaseConnection,
    token: &str,
    current: &str,
    new: &str,
) -> Result<AccountInfo, ServiceError> {
    let (session_id, user) = session(db, token, true).await?;
    let mut q = Sql::new("SELECT password_hash FROM users WHERE id = ");
    q.bind(user.id);
    let hash: Option<String> = db
        .one(&q)
        .await?
        .map(|r| r.try_get("", "password_hash"))
        .transpose()?
        .flatten();
    let ok = {
        let (hash, current) = (hash.unwrap_or_default(), current.to_string());
        tokio::task::spawn_blocking(move || verify_password(&hash, &current))
            .await
            .map_err(|e| ServiceError::Unexpected(anyhow::anyhow!("password check: {e}")))?
    };
    if !ok {
        let mut fields = crate::domain::FieldErrors::new();
        fields.insert(
            "current_password".into(),
            vec!["The current password is not correct.".into()],
        );
        return Err(ServiceError::Validation(fields));
    }
    if new == current {
        let mut fields = crate::domain::FieldErrors::new();
        fields.insert(
            "new_password".into(),
            vec!["Choose a password different from the current one.".into()],
        );
        return Err(ServiceError::Validation(fields));
    }
    check_new_password(new)?;
    let hash = hash_off_runtime(new).await?;
    let txn = db.begin().await?;
    set_password(&txn, user.id, &hash).await?;
    let mut d = Sql::new("DELETE FROM sessions WHERE user_id = ");
    d.bind(user.id).push(" AND id <> ").bind(session_id);
    txn.exec(&d).await?;
    txn.commit().await?;
    Ok(AccountInfo {
        password_change_required: false,
        ..user
    })
}

/// The password rules, with errors under the API's `new_password` field.
fn check_new_password(new: &str) -> Result<(), ServiceError> {
    validate_new_password(new).map_err(|e| match e {
        ServiceError::Validation(mut f) => {
            let mut fields = crate::domain::FieldErrors::new();
            fields.insert(
                "new_password".into(),
                f.remove("password").unwrap_or_default(),
            );
            ServiceError::Validation(fields)
        }
        other => other.into(),
    })
}

async fn set_password<C: ConnectionTrait>(
    db: &C,
    user_id: i64,
    hash: &str,
) -> Result<(), ServiceError> {
    let mut u = Sql::new("UPDATE users SET password_hash = ");
    u.bind(hash)
        .push(", must_change_password = ")
        .bind(false)
        .push(
            ", status = CASE WHEN status = 'invited' THEN 'active' ELSE status END, updated_at = ",
        )
        .bind(now())
        .push(", version = version + 1 WHERE id = ")
        .bind(user_id);
    db.exec(&u).await?;
    Ok(())
}

/// What a reset or invitation link is for, read before the password is chosen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkInfo {
    pub email: String,
    pub invitation: bool,
}

async fn link<C: ConnectionTrait>(
    db: &C,
    token: &str,
) -> Result<(i64, i64, LinkInfo), ServiceError> {
    let mut q = Sql::new(
        "SELECT t.id, t.user_id, t.kind, t.expires_at, u.email, u.status FROM tokens t \
         JOIN users u ON u.id = t.user_id WHERE t.used_at IS NULL AND t.token_hash = ",
    );
    q.bind(token_hash(token.trim()));
    let row = db
        .one(&q)
        .await?
        .ok_or(ServiceError::Refused(Refusal::InvalidLink))?;
    let expires_at: DateTime<Utc> = row.try_get("", "expires_at")?;
    if expires_at <= now() {
        return Err(ServiceError::Refused(Refusal::InvalidLink));
    }
    if row.try_get::<String>("", "status")? == "banned" {
        return Err(ServiceError::Refused(Refusal::AccountBanned));
    }
    let kind: String = row.try_get("", "kind")?;
    Ok((
        row.try_get("", "id")?,
        row.try_get("", "user_id")?,
        LinkInfo {
            email: row.try_get("", "email")?,
            invitation: kind == "invitation",
        },
    ))
}

/// Whom a link is for (the /account page shows it before asking for a password).
pub async fn link_info<C: ConnectionTrait>(db: &C, token: &str) -> Result<LinkInfo, ServiceError> {
    Ok(link(db, token).await?.2)
}

/// Sets a password through a reset or invitation link: the link is used up, an
/// invited user becomes active, and every session of the user ends.
pub async fn set_password_with_link(
    db: &DatabaseConnection,
    token: &str,
    new: &str,
) -> Result<LinkInfo, ServiceError> {
    // Checked before the (slow) hashing, and again in the transaction below.
    link(db, token).await?;
    check_new_password(new)?;
    let hash = hash_off_runtime(new).await?;
    let txn = db.begin().await?;
    // Read again inside the transaction: two tabs using one link, only one wins.
    let (token_id, user_id, info) = link(&txn, token).await?;
    let mut used = Sql::new("UPDATE tokens SET used_at = ");
    used.bind(now())
        .push(" WHERE used_at IS NULL AND id = ")
        .bind(token_id);
    if txn.exec(&used).await?.rows_affected() != 1 {
        return Err(ServiceError::Refused(Refusal::InvalidLink));
    }
    set_password(&txn, user_id, &hash).await?;
    end_sessions(&txn, user_id).await?;
    txn.commit().await?;
    Ok(info)
}

async fn end_sessions<C: ConnectionTrait>(db: &C, user_id: i64) -> Result<u64, ServiceError> {
    let mut d = Sql::new("DELETE FROM sessions WHERE user_id = ");
    d.bind(user_id);
    Ok(db.exec(&d).await?.rows_affected())
}

struct Target {
    email: String,
    name: String,
    language: String,
    status: String,
}

async fn target<C: ConnectionTrait>(db: &C, id: i64) -> Result<Target, ServiceError> {
    let mut q =
        Sql::new("SELECT email, first_name, last_name, language, status FROM users WHERE id = ");
    q.bind(id);
    let r = db
        .one(&q)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("User {id}")))?;
    let email: String = r.try_get("", "email")?;
    let first: String = r.try_get("", "first_name")?;
    let last: String = r.try_get("", "last_name")?;
    Ok(Target {
        name: crate::domain::user::display_name(&first, &last, &email),
        email,
        language: r.try_get("", "language")?,
        status: r.try_get("", "status")?,
    })
}

/// A new single-use link token of `kind` for the user, replacing any unused one of
/// the same kind (a resent invitation invalidates the old link).
async fn issue_link<C: ConnectionTrait>(
    db: &C,
    user_id: i64,
    kind: &str,
    ttl: chrono::Duration,
) -> Result<String, ServiceError> {
    let mut d = Sql::new("DELETE FROM tokens WHERE used_at IS NULL AND user_id = ");
    d.bind(user_id).push(" AND kind = ").bind(kind);
    db.exec(&d).await?;
    let token = new_token();
    let at = now();
    let mut i =
        Sql::new("INSERT INTO tokens (user_id, kind, token_hash, created_at, expires_at) VALUES (");
    i.bind(user_id)
        .push(", ")
        .bind(kind)
        .push(", ")
        .bind(token_hash(&token))
        .push(", ")
        .bind(at)
        .push(", ")
        .bind(at + ttl)
        .push(")");
    db.exec(&i).await?;
    Ok(token)
}

/// Queues an email in the outbox (the mailer sends it when SMTP is configured).
async fn queue_email<C: ConnectionTrait>(
    db: &C,
    user_id: i64,
    to: &Target,
    kind: EmailKind,
    secret: &str,
) -> Result<(), ServiceError> {
    let (subject, body) = render(kind, &to.language, &to.name, secret);
    let mut i = Sql::new(
        "INSERT INTO outbox (user_id, to_address, language, kind, subject, body, created_at) VALUES (",
    );
    i.bind(user_id)
        .push(", ")
        .bind(to.email.clone())
        .push(", ")
        .bind(crate::domain::email::template_language(&to.language))
        .push(", ")
        .bind(kind.as_str())
        .push(", ")
        .bind(subject)
        .push(", ")
        .bind(body)
        .push(", ")
        .bind(now())
        .push(")");
    db.exec(&i).await?;
    Ok(())
}

fn link_url(config: &Config, path: &str, token: &str) -> String {
    format!(
        "{}{path}?token={token}",
        config.public_url.trim_end_matches('/')
    )
}

/// Resets user `id`'s password: the old one stops working at once and every session
/// ends. Returns the temporary password (shown once) in `Temporary` mode.
pub async fn reset_password(
    db: &DatabaseConnection,
    config: &Config,
    actor: &AdminInfo,
    id: i64,
    mode: ResetMode,
) -> Result<Option<String>, ServiceError> {
    let temporary = match mode {
        ResetMode::Temporary => {
            let password = temporary_password();
            Some((password.clone(), hash_off_runtime(&password).await?))
        }
        ResetMode::Link => None,
    };
    let txn = db.begin().await?;
    let to = target(&txn, id).await?;
    Authority::load(&txn, actor)
        .await?
        .may_act_on_user(&txn, id)
        .await?;
    if to.status == "invited" {
        return Err(ServiceError::Conflict(
            "This user has not accepted their invitation yet: send the invitation again instead."
                .into(),
        ));
    }
    let mut u = Sql::new("UPDATE users SET password_hash = ");
    match &temporary {
        Some((_, hash)) => u
            .bind(hash.clone())
            .push(", must_change_password = ")
            .bind(true),
        None => u.push("NULL, must_change_password = ").bind(false),
    };
    u.push(", updated_at = ")
        .bind(now())
        .push(", version = version + 1 WHERE id = ")
        .bind(id);
    txn.exec(&u).await?;
    let ended = end_sessions(&txn, id).await?;
    let shown = match temporary {
        Some((password, _)) => {
            queue_email(&txn, id, &to, EmailKind::TemporaryPassword, &password).await?;
            Some(password)
        }
        None => {
            let token = issue_link(
                &txn,
                id,
                "password_reset",
                chrono::Duration::hours(RESET_TTL_HOURS),
            )
            .await?;
            let url = link_url(config, "/account/set-password", &token);
            queue_email(&txn, id, &to, EmailKind::PasswordReset, &url).await?;
            None
        }
    };
    let how = match mode {
        ResetMode::Link => "link",
        ResetMode::Temporary => "temporary_password",
    };
    audit::record(
        &txn,
        actor,
        "user.password_reset",
        Some((id, &to.email)),
        None,
        Some(json!({ "mode": how, "sessions_ended": ended })),
    )
    .await?;
    txn.commit().await?;
    Ok(shown)
}

/// Issues user `id` an invitation link (7 days), replacing an earlier one, and queues
/// the email, in the caller's transaction (creating users with an invitation uses it).
pub async fn queue_invitation<C: ConnectionTrait>(
    txn: &C,
    config: &Config,
    id: i64,
) -> Result<(), ServiceError> {
    let to = target(txn, id).await?;
    invite(txn, config, id, &to).await
}

async fn invite<C: ConnectionTrait>(
    txn: &C,
    config: &Config,
    id: i64,
    to: &Target,
) -> Result<(), ServiceError> {
    let token = issue_link(
        txn,
        id,
        "invitation",
        chrono::Duration::days(INVITATION_TTL_DAYS),
    )
    .await?;
    let url = link_url(config, "/account/set-password", &token);
    queue_email(txn, id, to, EmailKind::Invitation, &url).await
}

/// Emails user `id` an invitation link (7 days) to set a password; a new invitation
/// replaces the old link. Refused for a user who already has a password.
pub async fn send_invitation(
    db: &DatabaseConnection,
    config: &Config,
    actor: &AdminInfo,
    id: i64,
) -> Result<(), ServiceError> {
    let txn = db.begin().await?;
    let to = target(&txn, id).await?;
    Authority::load(&txn, actor)
        .await?
        .may_act_on_user(&txn, id)
        .await?;
    let mut q = Sql::new("SELECT password_hash IS NOT NULL AS has_password FROM users WHERE id = ");
    q.bind(id);
    let has_password: bool = txn
        .one(&q)
        .await?
        .map(|r| r.try_get("", "has_password"))
        .transpose()?
        .unwrap_or(false);
    if has_password && to.status != "invited" {
        return Err(ServiceError::Conflict(
            "This user already has a password: reset it instead.".into(),
        ));
    }
    if to.status == "banned" {
        return Err(ServiceError::Conflict(
            "This user is banned: activate them first.".into(),
        ));
    }
    invite(&txn, config, id, &to).await?;
    audit::record(
        &txn,
        actor,
        "user.invite",
        Some((id, &to.email)),
        None,
        None,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Ends every session of user `id` (their tokens are refused from now on). Returns
/// how many there were.
pub async fn sign_out_everywhere(
    db: &DatabaseConnection,
    actor: &AdminInfo,
    id: i64,
) -> Result<u64, ServiceError> {
    let txn = db.begin().await?;
    let to = target(&txn, id).await?;
    Authority::load(&txn, actor)
        .await?
        .may_act_on_user(&txn, id)
        .await?;
    let ended = end_sessions(&txn, id).await?;
    audit::record(
        &txn,
        actor,
        "user.sign_out_everywhere",
        Some((id, &to.email)),
        None,
        Some(json!({ "sessions_ended": ended })),
    )
    .await?;
    txn.commit().await?;
    Ok(ended)
}

/// The newest emails first. An email carrying a secret (a link, a temporary
/// password) shows it only to admins who may act on its recipient; the others see
/// the email with the secret replaced by a note.
pub async fn outbox<C: ConnectionTrait>(
    db: &C,
    actor: &AdminInfo,
    limit: u64,
) -> Result<Vec<OutboxEmail>, ServiceError> {
    let authority = Authority::load(db, actor).await?;
    let mut q = Sql::new(
        "SELECT o.id, o.user_id, u.role_id, o.to_address, o.kind, o.language, o.subject, o.body, \
         o.created_at, o.sent_at, o.error FROM outbox o LEFT JOIN users u ON u.id = o.user_id \
         ORDER BY o.id DESC LIMIT ",
    );
    q.bind(limit as i64);
    Ok(db
        .all(&q)
        .await?
        .iter()
        .map(|r| {
            let kind: String = r.try_get("", "kind")?;
            let mut body: String = r.try_get("", "body")?;
            let user_id: Option<i64> = r.try_get("", "user_id")?;
            let role_id: Option<i64> = r.try_get("", "role_id")?;
            let may_see = match (user_id, role_id) {
                (Some(user), Some(role)) => authority.check_role_of(user, role).is_ok(),
                _ => false,
            };
            if crate::domain::email::carries_secret(&kind) && !may_see {
                body = crate::domain::email::redact_secret(&kind, &body);
            }
            Ok(OutboxEmail {
                id: r.try_get("", "id")?,
                to: r.try_get("", "to_address")?,
                kind,
                language: r.try_get("", "language")?,
                subject: r.try_get("", "subject")?,
                body,
                created_at: r.try_get("", "created_at")?,
                sent_at: r.try_get("", "sent_at")?,
                error: r.try_get("", "error")?,
            })
        })
        .collect::<Result<_, sea_orm::DbErr>>()?)
}

/// An email the mailer still has to send.
#[derive(Clone, Debug)]
pub struct PendingEmail {
    pub id: i64,
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// The oldest `limit` emails neither sent nor refused for good.
pub async fn pending_emails<C: ConnectionTrait>(
    db: &C,
    limit: u64,
) -> Result<Vec<PendingEmail>, sea_orm::DbErr> {
    let mut q = Sql::new(
        "SELECT id, to_address, subject, body FROM outbox WHERE sent_at IS NULL AND error IS NULL ORDER BY id LIMIT ",
    );
    q.bind(limit as i64);
    db.all(&q)
        .await?
        .iter()
        .map(|r| {
            Ok(PendingEmail {
                id: r.try_get("", "id")?,
                to: r.try_get("", "to_address")?,
                subject: r.try_get("", "subject")?,
                body: r.try_get("", "body")?,
            })
        })
        .collect()
}

/// Records that email `id` was sent (`Ok`) or refused for good (`Err`, not tried again).
pub async fn mark_email<C: ConnectionTrait>(
    db: &C,
    id: i64,
    outcome: Result<(), String>,
) -> Result<(), sea_orm::DbErr> {
    let mut u = Sql::new("UPDATE outbox SET ");
    match outcome {
        Ok(()) => u.push("sent_at = ").bind(now()),
        Err(e) => u.push("error = ").bind(e),
    };
    u.push(" WHERE id = ").bind(id);
    db.exec(&u).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_are_read_from_user_agents() {
        let cases = [
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)",
                "iOS",
            ),
            ("Mozilla/5.0 (Linux; Android 14; Pixel 8)", "Android"),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "Windows"),
            ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0)", "macOS"),
            ("curl/8.5.0", ""),
        ];
        for (ua, want) in cases {
            assert_eq!(platform_of(ua), want, "{ua}");
        }
    }
}
