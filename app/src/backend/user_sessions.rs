//! The managed users' own sessions (the `/api/v1/auth/*` API and the /account
//! page): sign-in, the token's user, sign-out, changing one's password, and an
//! admin's "log out everywhere". Every call re-reads the session and the user's
//! status, so a ban or reset takes effect on the next call.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, FromQueryResult, QueryFilter,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::auth::{
    check_password, hash_off_runtime, new_token, password_hash_of, token_hash,
    validate_new_password, verify_password, ClientInfo,
};
use super::authority::Authority;
use super::devices::record_device;
use super::dialect::Run;
use super::entities::session;
use super::outbox::target;
use super::sql::Sql;
use super::{audit, events, now, Config, ServiceError};
use crate::domain::{AdminInfo, Refusal};

/// A managed user as the sign-in API shows them (read by [`ACCOUNT_COLUMNS`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, FromQueryResult)]
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

const ACCOUNT_COLUMNS: &str = "u.id, u.email, u.username, u.first_name, u.last_name, u.language, \
     u.must_change_password AS password_change_required";

/// `SELECT columns` of the account a login names: by email, username (ignoring case)
/// or phone (in any spelling that parses), the oldest first.
fn account_by_login(columns: &str, login: &str) -> Sql {
    let phone = crate::domain::account::Phone::parse(login)
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let mut q = Sql::new(&format!("SELECT {columns} FROM users u WHERE u.email = "));
    q.bind(login.to_lowercase())
        .push(" OR lower(u.username) = ")
        .bind(login.to_lowercase())
        .push(" OR u.phone = ")
        .bind(phone)
        .push(" ORDER BY u.id LIMIT 1");
    q
}

/// The sign-in throttle's key for what was typed: the account it names (by email,
/// username or phone, as [`sign_in`] finds it), so every spelling of one account counts
/// as one; an unknown login is keyed by its canonical text.
pub async fn throttle_key<C: ConnectionTrait>(db: &C, login: &str) -> Result<String, ServiceError> {
    let login = login.trim();
    let row = db.one(account_by_login("u.id", login)).await?;
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
    let columns = format!("{ACCOUNT_COLUMNS}, u.password_hash, u.status");
    let row = db.one(account_by_login(&columns, login)).await?;
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
    let user = AccountInfo::from_query_result(&row, "")?;
    let token = new_token();
    let at = now();
    let expires_at = at + config.session_ttl;
    let user_agent: String = client.user_agent.chars().take(300).collect();
    let txn = crate::backend::db::begin_write(db).await?;
    session::ActiveModel {
        token_hash: Set(token_hash(&token)),
        user_id: Set(user.id),
        kind: Set("user".into()),
        created_at: Set(at),
        last_seen_at: Set(at),
        expires_at: Set(expires_at),
        user_agent: Set(user_agent.clone()),
        ip: Set(client.ip.clone()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    record_device(&txn, user.id, &user_agent, at).await?;
    let detail = json!({ "user_agent": user_agent, "ip": client.ip });
    events::record(&txn, user.id, at, "sign_in", "Signed in", detail, "auth").await?;
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
    let user = AccountInfo::from_query_result(&row, "")?;
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
    session::Entity::delete_by_id(session_id).exec(db).await?;
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
    let ok = check_password(password_hash_of(db, user.id).await?.as_deref(), current).await?;
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
    let txn = crate::backend::db::begin_write(db).await?;
    set_password(&txn, user.id, &hash).await?;
    session::Entity::delete_many()
        .filter(session::Column::UserId.eq(user.id))
        .filter(session::Column::Id.ne(session_id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(AccountInfo {
        password_change_required: false,
        ..user
    })
}

/// The password rules, with errors under the API's `new_password` field.
pub(crate) fn check_new_password(new: &str) -> Result<(), ServiceError> {
    validate_new_password(new).map_err(|e| match e {
        ServiceError::Validation(mut f) => {
            let mut fields = crate::domain::FieldErrors::new();
            fields.insert(
                "new_password".into(),
                f.remove("password").unwrap_or_default(),
            );
            ServiceError::Validation(fields)
        }
        other => other,
    })
}

pub(crate) async fn set_password<C: ConnectionTrait>(
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

pub(crate) async fn end_sessions<C: ConnectionTrait>(
    db: &C,
    user_id: i64,
) -> Result<u64, ServiceError> {
    Ok(session::Entity::delete_many()
        .filter(session::Column::UserId.eq(user_id))
        .exec(db)
        .await?
        .rows_affected)
}

/// Ends every session of user `id` (their tokens are refused from now on). Returns
/// how many there were.
pub async fn sign_out_everywhere(
    db: &DatabaseConnection,
    actor: &AdminInfo,
    id: i64,
) -> Result<u64, ServiceError> {
    audit::command(db, actor, async |txn| {
        let to = target(txn, id).await?;
        Authority::load(txn, actor)
            .await?
            .may_act_on_user(txn, id)
            .await?;
        let ended = end_sessions(txn, id).await?;
        let entry = audit::Entry::new(
            "user.sign_out_everywhere",
            Some((id, &to.email)),
            None,
            Some(json!({ "sessions_ended": ended })),
        );
        Ok((ended, entry))
    })
    .await
}
