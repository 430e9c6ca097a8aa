//! Admin sign-in: argon2id password hashes, server-side sessions (random token in the
//! cookie, only its SHA-256 stored), and the permission check every call goes through.

use anyhow::Context;
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use base64::Engine;
use chrono::{DateTime, Utc};
use rand::RngCore;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

use super::dialect::Run;
use super::entities::session;
use super::sql::Sql;
use super::{now, roles, Config, ServiceError};
use crate::domain::permissions::{ADMIN_ACCESS, OWNER_ROLE};
use crate::domain::user::display_name;
use crate::domain::{account, AdminInfo};

/// argon2id at OWASP's recommended minimum: 19 MiB of memory, 2 passes, 1 lane.
pub const ARGON2_MEMORY_KIB: u32 = 19 * 1024;
pub const ARGON2_PASSES: u32 = 2;
pub const ARGON2_LANES: u32 = 1;

/// The hasher new passwords use (stated here, not left to the crate's defaults).
fn hasher() -> Argon2<'static> {
    // The crate's defaults are these same values, should the constants ever be refused.
    let params = argon2::Params::new(ARGON2_MEMORY_KIB, ARGON2_PASSES, ARGON2_LANES, None)
        .unwrap_or_default();
    Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
}

/// An argon2id hash (PHC string) of `password` with a fresh salt.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing a password failed: {e}"))
}

/// Whether `password` matches the stored PHC `hash`; a malformed hash never matches.
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// [`verify_password`] on a blocking thread; no stored hash checks against a dummy one
/// (same time) and never matches.
pub async fn check_password(hash: Option<&str>, password: &str) -> anyhow::Result<bool> {
    let known = hash.is_some();
    let hash = hash.unwrap_or(DUMMY_HASH).to_string();
    let password = password.to_string();
    let ok = tokio::task::spawn_blocking(move || verify_password(&hash, &password))
        .await
        .context("password check task")?;
    Ok(ok && known)
}

/// The stored password hash of user `id` (`None` without a password or user).
pub async fn password_hash_of<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> Result<Option<String>, ServiceError> {
    let mut q = Sql::new("SELECT password_hash FROM users WHERE id = ");
    q.bind(id);
    Ok(db
        .one(&q)
        .await?
        .map(|r| r.try_get("", "password_hash"))
        .transpose()?
        .flatten())
}

/// [`hash_password`] on the blocking pool, never on the async runtime.
pub async fn hash_off_runtime(password: &str) -> Result<String, ServiceError> {
    let password = password.to_string();
    Ok(
        tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .context("password hashing task")??,
    )
}

/// A random temporary password: 16 characters without look-alikes.
pub fn temporary_password() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rngs::OsRng;
    (0..16)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect()
}

/// A new random session token (256 bits, URL-safe base64).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What is stored for a token: its SHA-256, hex.
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// [`account::check_password`] as the error of a `password` field.
pub fn validate_new_password(password: &str) -> Result<(), ServiceError> {
    account::check_password(password).map_err(|m| ServiceError::field("password", m))
}

/// Who is signing in, for the session record.
#[derive(Clone, Debug, Default)]
pub struct ClientInfo {
    pub user_agent: String,
    /// The client's address as text ("" when unknown), for the session record.
    pub ip: String,
    /// The client's address, from [`super::throttle::client_ip`].
    pub address: Option<std::net::IpAddr>,
}

impl ClientInfo {
    /// Who sent this request: its user agent and the client's address (the peer, or
    /// behind trusted proxies the right-most untrusted `X-Forwarded-For` entry).
    pub fn from_request(
        headers: &axum::http::HeaderMap,
        extensions: &axum::http::Extensions,
        config: &Config,
    ) -> Self {
        let peer = extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok());
        let address = super::throttle::client_ip(peer, forwarded, &config.trusted_proxies);
        ClientInfo {
            user_agent: headers
                .get(axum::http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .chars()
                .take(300)
                .collect(),
            ip: address.map(|a| a.to_string()).unwrap_or_default(),
            address,
        }
    }

    /// [`ClientInfo::from_request`] for a server function's request parts.
    pub fn of(parts: Option<&axum::http::request::Parts>, config: &Config) -> Self {
        parts
            .map(|p| Self::from_request(&p.headers, &p.extensions, config))
            .unwrap_or_default()
    }
}

/// Checks an admin's email and password and opens a session. Returns the raw token
/// (for the cookie) and the admin. Wrong email and wrong password give the same
/// message, and cost the same time.
pub async fn sign_in<C: ConnectionTrait>(
    db: &C,
    config: &Config,
    email: &str,
    password: &str,
    client: &ClientInfo,
) -> Result<(String, AdminInfo), ServiceError> {
    const WRONG: &str = "The email or password is not correct.";
    let email = email.trim().to_lowercase();
    if email.is_empty() {
        return Err(ServiceError::field("email", "Enter your email address."));
    }
    if password.is_empty() {
        return Err(ServiceError::field("password", "Enter your password."));
    }
    let mut q = Sql::new("SELECT id, password_hash, status, role_id FROM users WHERE email = ");
    q.bind(email.as_str());
    let row = db.one(&q).await?;
    let hash: Option<String> = row
        .as_ref()
        .map(|r| r.try_get("", "password_hash"))
        .transpose()?
        .flatten();
    // The same argon2 work, off the async runtime, whether or not the account exists,
    // so neither the answer nor its time reveals it.
    let verified = check_password(hash.as_deref(), password).await?;
    let Some(row) = row else {
        return Err(ServiceError::field("password", WRONG));
    };
    let user_id: i64 = row.try_get("", "id")?;
    let status: String = row.try_get("", "status")?;
    let role_id: i64 = row.try_get("", "role_id")?;
    if !verified {
        return Err(ServiceError::field("password", WRONG));
    }
    if status != "active" {
        return Err(ServiceError::field("email", "This account is not active."));
    }
    if !roles::permissions(db, role_id)
        .await?
        .iter()
        .any(|p| p == ADMIN_ACCESS)
    {
        return Err(ServiceError::field(
            "email",
            "This account has no admin access.",
        ));
    }

    let token = new_token();
    let at = now();
    session::ActiveModel {
        token_hash: Set(token_hash(&token)),
        user_id: Set(user_id),
        kind: Set("admin".into()),
        created_at: Set(at),
        last_seen_at: Set(at),
        expires_at: Set(at + config.session_ttl),
        user_agent: Set(client.user_agent.chars().take(300).collect()),
        ip: Set(client.ip.clone()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    // Admins are users too: their last access is their use of Roster.
    touch_last_access(db, user_id, at).await;
    let admin = admin_for_token(db, config, &token).await?;
    Ok((token, admin))
}

/// Moves a user's last access on to `at` (not a change of the account: the version
/// stays). Best effort: a user row held by a long command (a bulk action over "all
/// matching") is skipped on PostgreSQL rather than waited for, and a failure is
/// logged, never the request's error.
async fn touch_last_access<C: ConnectionTrait>(db: &C, user_id: i64, at: DateTime<Utc>) {
    let dialect = db.dialect();
    let mut touch = Sql::new("UPDATE users SET last_access_at = ");
    touch
        .bind(at)
        .push(" WHERE id IN (SELECT id FROM users WHERE id = ")
        .bind(user_id)
        .push(" AND (last_access_at IS NULL OR last_access_at < ")
        .bind(at)
        .push(&format!("){})", dialect.skip_locked()));
    if let Err(e) = db.exec(&touch).await {
        tracing::warn!(user_id, error = %e, "could not record an admin's last access");
    }
}

/// The signed-in admin for a session token, or `Unauthorized` when the session is
/// unknown, expired, or its user is no longer an active admin. Extends the session
/// (at most once a minute) while it is in use.
pub async fn admin_for_token<C: ConnectionTrait>(
    db: &C,
    config: &Config,
    token: &str,
) -> Result<AdminInfo, ServiceError> {
    // One round trip on every call: the session, its user and role, one row per
    // permission of the role (or one row with NULL when it has none).
    let mut q = Sql::new(
        "SELECT s.id AS session_id, s.last_seen_at, s.expires_at, u.id, u.email, u.first_name, \
         u.last_name, u.status, u.must_change_password, r.name AS role, rp.permission \
         FROM sessions s JOIN users u ON u.id = s.user_id JOIN roles r ON r.id = u.role_id \
         LEFT JOIN role_permissions rp ON rp.role_id = r.id \
         WHERE s.kind = 'admin' AND s.token_hash = ",
    );
    q.bind(token_hash(token)).push(" ORDER BY rp.permission");
    let rows = db.all(&q).await?;
    let row = rows.first().ok_or(ServiceError::Unauthorized)?;
    let expires_at: DateTime<Utc> = row.try_get("", "expires_at")?;
    let last_seen_at: DateTime<Utc> = row.try_get("", "last_seen_at")?;
    let status: String = row.try_get("", "status")?;
    let at = now();
    if expires_at <= at || status != "active" {
        return Err(ServiceError::Unauthorized);
    }
    let permissions: Vec<String> = rows
        .iter()
        .map(|r| r.try_get::<Option<String>>("", "permission"))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .collect();
    if !permissions.iter().any(|p| p == ADMIN_ACCESS) {
        return Err(ServiceError::Unauthorized);
    }
    if at - last_seen_at >= chrono::Duration::minutes(1) {
        session::Entity::update_many()
            .col_expr(session::Column::LastSeenAt, at.into())
            .col_expr(session::Column::ExpiresAt, (at + config.session_ttl).into())
            .filter(session::Column::Id.eq(row.try_get::<i64>("", "session_id")?))
            .exec(db)
            .await?;
        touch_last_access(db, row.try_get("", "id")?, at).await;
    }
    let email: String = row.try_get("", "email")?;
    let first: String = row.try_get("", "first_name")?;
    let last: String = row.try_get("", "last_name")?;
    Ok(AdminInfo {
        id: row.try_get("", "id")?,
        name: display_name(&first, &last, &email),
        email,
        role: row.try_get("", "role")?,
        permissions,
        must_change_password: row.try_get("", "must_change_password")?,
    })
}

/// An admin changes their own password (a temporary one must be changed before
/// anything else): the current password is checked, the new one must be a different,
/// acceptable password; the admin's other sessions end. One transaction.
pub async fn change_own_password(
    db: &sea_orm::DatabaseConnection,
    admin: &AdminInfo,
    token: &str,
    current: &str,
    new: &str,
) -> Result<(), ServiceError> {
    let mut fields = crate::domain::FieldErrors::new();
    if current.is_empty() {
        fields.insert(
            "current".into(),
            vec!["Enter your current password.".into()],
        );
    }
    if let Err(ServiceError::Validation(e)) = validate_new_password(new) {
        fields.insert("new".into(), e.into_values().flatten().collect());
    } else if new == current {
        fields.insert(
            "new".into(),
            vec!["Choose a password different from the current one.".into()],
        );
    }
    if !fields.is_empty() {
        return Err(ServiceError::Validation(fields));
    }
    let hash = password_hash_of(db, admin.id).await?;
    if !check_password(hash.as_deref(), current).await? {
        return Err(ServiceError::field(
            "current",
            "The current password is not correct.",
        ));
    }
    let hashed = hash_off_runtime(new).await?;
    super::audit::command(db, admin, async |txn| {
        let mut u = Sql::new("UPDATE users SET password_hash = ");
        u.bind(hashed)
            .push(", must_change_password = ")
            .bind(false)
            .push(", version = version + 1, updated_at = ")
            .bind(now())
            .push(" WHERE id = ")
            .bind(admin.id);
        txn.exec(&u).await?;
        session::Entity::delete_many()
            .filter(session::Column::UserId.eq(admin.id))
            .filter(session::Column::TokenHash.ne(token_hash(token)))
            .exec(txn)
            .await?;
        let entry = super::audit::Entry::on("admin.password_change", admin.id, &admin.email)
            .after(serde_json::json!({ "was_temporary": admin.must_change_password }));
        Ok(((), entry))
    })
    .await
}

/// Ends the session behind `token` (no error if it is already gone).
pub async fn sign_out<C: ConnectionTrait>(db: &C, token: &str) -> Result<(), ServiceError> {
    session::Entity::delete_many()
        .filter(session::Column::TokenHash.eq(token_hash(token)))
        .exec(db)
        .await?;
    Ok(())
}

/// `Forbidden` unless the admin's role grants `permission`; nothing is allowed while
/// the admin's password is temporary (see [`change_own_password`]).
pub fn require(admin: &AdminInfo, permission: &str) -> Result<(), ServiceError> {
    if admin.must_change_password {
        Err(ServiceError::PasswordChangeRequired)
    } else if admin.permissions.iter().any(|p| p == permission) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(permission.to_string()))
    }
}

/// Creates an owner admin with this email and password, or, when the email already
/// exists, makes that user an active owner with the new password.
pub async fn create_admin<C: ConnectionTrait>(
    db: &C,
    email: &str,
    password: &str,
) -> Result<i64, ServiceError> {
    let email = email.trim().to_lowercase();
    if !email.contains('@') || email.starts_with('@') || email.ends_with('@') {
        return Err(ServiceError::field("email", "Enter a valid email address."));
    }
    validate_new_password(password)?;
    let role_id = roles::role_id(db, OWNER_ROLE)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the built-in owner role is missing"))?;
    let hash = hash_password(password)?;
    let at = now();
    let mut upsert = Sql::new(
        "INSERT INTO users (email, username, first_name, last_name, status, role_id, password_hash, \
         signup_source, created_at, updated_at) VALUES (",
    );
    let username = email.split('@').next().unwrap_or("admin").to_string();
    upsert
        .bind(email.as_str())
        .push(", ")
        .bind(username)
        .push(", 'Admin', '', 'active', ")
        .bind(role_id)
        .push(", ")
        .bind(hash)
        .push(", 'admin', ")
        .bind(at)
        .push(", ")
        .bind(at)
        .push(
            ") ON CONFLICT (email) DO UPDATE SET status = 'active', role_id = excluded.role_id, \
             password_hash = excluded.password_hash, must_change_password = FALSE, \
             updated_at = excluded.updated_at, version = users.version + 1 RETURNING id",
        );
    let row = db
        .one(&upsert)
        .await
        .map_err(|e| match e.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
                ServiceError::field("email", "The username derived from this email is taken.")
            }
            _ => ServiceError::Db(e),
        })?
        .ok_or_else(|| anyhow::anyhow!("the admin upsert returned no row"))?;
    Ok(row.try_get("", "id")?)
}

/// Hash of a random password nobody knows; verified against when the account does not
/// exist, so that both paths take the same time.
pub(crate) const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0zVbPgG0xyWVI7RrY8CTE/5sMJz1N8+I4L7Chf4b0oc";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_then_verify() {
        let hash = hash_password("correct horse battery").expect("hash");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password(&hash, "correct horse battery"));
        assert!(!verify_password(&hash, "correct horse battery!"));
        assert!(!verify_password("not a hash", "x"));
    }

    #[test]
    fn hashes_use_argon2id_with_at_least_owasps_parameters() {
        let hash = hash_password("correct horse battery").expect("hash");
        let parsed = PasswordHash::new(&hash).expect("a PHC string");
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        let param = |name: &str| {
            parsed
                .params
                .get_decimal(name)
                .unwrap_or_else(|| panic!("{name} in {hash}"))
        };
        assert!(param("m") >= 19_456, "memory (KiB) in {hash}");
        assert!(param("t") >= 2, "passes in {hash}");
        assert!(param("p") >= 1, "lanes in {hash}");
        // The decoy hash for unknown accounts costs the same as a real one.
        let dummy = PasswordHash::new(DUMMY_HASH).expect("dummy");
        assert_eq!(dummy.params, parsed.params);
    }

    #[test]
    fn dummy_hash_parses_so_timing_matches() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(validate_new_password("elevenchars").is_err());
        assert!(validate_new_password("twelve chars").is_ok());
    }
}
