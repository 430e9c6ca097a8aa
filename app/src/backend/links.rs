//! Single-use links: password resets (a link or a temporary password) and
//! invitations, issued by admins and redeemed by the users.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::auth::{hash_off_runtime, new_token, temporary_password, token_hash};
use super::authority::Authority;
use super::dialect::Run;
use super::entities::token;
use super::outbox::{queue_email, target, Target};
use super::sql::Sql;
use super::user_sessions::{check_new_password, end_sessions, set_password};
use super::{audit, now, Config, ServiceError};
use crate::domain::email::{EmailKind, ResetMode};
use crate::domain::{AdminInfo, Refusal};

/// How long a password-reset link works.
pub const RESET_TTL_HOURS: i64 = 1;
/// How long an invitation link works.
pub const INVITATION_TTL_DAYS: i64 = 7;

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
    let txn = crate::backend::db::begin_write(db).await?;
    // Read again inside the transaction: two tabs using one link, only one wins.
    let (token_id, user_id, info) = link(&txn, token).await?;
    let used = token::Entity::update_many()
        .col_expr(token::Column::UsedAt, Expr::value(now()))
        .filter(token::Column::Id.eq(token_id))
        .filter(token::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if used.rows_affected != 1 {
        return Err(ServiceError::Refused(Refusal::InvalidLink));
    }
    set_password(&txn, user_id, &hash).await?;
    end_sessions(&txn, user_id).await?;
    txn.commit().await?;
    Ok(info)
}

/// A new single-use link token of `kind` for the user, replacing any unused one of
/// the same kind (a resent invitation invalidates the old link).
async fn issue_link<C: ConnectionTrait>(
    db: &C,
    user_id: i64,
    kind: &str,
    ttl: chrono::Duration,
) -> Result<String, ServiceError> {
    token::Entity::delete_many()
        .filter(token::Column::UserId.eq(user_id))
        .filter(token::Column::Kind.eq(kind))
        .filter(token::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    let token = new_token();
    let at = now();
    token::ActiveModel {
        user_id: Set(user_id),
        kind: Set(kind.to_string()),
        token_hash: Set(token_hash(&token)),
        created_at: Set(at),
        expires_at: Set(at + ttl),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(token)
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
    audit::command(db, actor, async |txn| {
        let to = target(txn, id).await?;
        Authority::load(txn, actor)
            .await?
            .may_act_on_user(txn, id)
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
        let ended = end_sessions(txn, id).await?;
        let shown = match temporary {
            Some((password, _)) => {
                queue_email(txn, id, &to, EmailKind::TemporaryPassword, &password).await?;
                Some(password)
            }
            None => {
                let token = issue_link(
                    txn,
                    id,
                    "password_reset",
                    chrono::Duration::hours(RESET_TTL_HOURS),
                )
                .await?;
                let url = link_url(config, "/account/set-password", &token);
                queue_email(txn, id, &to, EmailKind::PasswordReset, &url).await?;
                None
            }
        };
        let how = match mode {
            ResetMode::Link => "link",
            ResetMode::Temporary => "temporary_password",
        };
        let entry = audit::Entry::new(
            "user.password_reset",
            Some((id, &to.email)),
            None,
            Some(json!({ "mode": how, "sessions_ended": ended })),
        );
        Ok((shown, entry))
    })
    .await
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
    audit::command(db, actor, async |txn| {
        let to = target(txn, id).await?;
        Authority::load(txn, actor)
            .await?
            .may_act_on_user(txn, id)
            .await?;
        let mut q =
            Sql::new("SELECT password_hash IS NOT NULL AS has_password FROM users WHERE id = ");
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
        invite(txn, config, id, &to).await?;
        let entry = audit::Entry::new("user.invite", Some((id, &to.email)), None, None);
        Ok(((), entry))
    })
    .await
}
