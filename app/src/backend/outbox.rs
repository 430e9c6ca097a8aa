//! The outbox: every email Roster sends, queued in the database, shown to admins
//! (secrets only to those who may act on the recipient) and sent over SMTP.

use sea_orm::{
    ActiveModelTrait,
    ActiveValue::{Set, Unchanged},
    ConnectionTrait, EntityTrait,
};

use super::authority::Authority;
use super::dialect::Run;
use super::entities::email;
use super::sql::Sql;
use super::{now, ServiceError};
use crate::domain::email::{render, EmailKind, OutboxEmail};
use crate::domain::AdminInfo;

/// Queues an email in the outbox (the mailer sends it when SMTP is configured).
pub(crate) async fn queue_email<C: ConnectionTrait>(
    db: &C,
    user_id: i64,
    to: &Target,
    kind: EmailKind,
    secret: &str,
) -> Result<(), ServiceError> {
    let (subject, body) = render(kind, &to.language, &to.name, secret);
    email::ActiveModel {
        user_id: Set(Some(user_id)),
        to_address: Set(to.email.clone()),
        language: Set(crate::domain::email::template_language(&to.language).to_string()),
        kind: Set(kind.as_str().to_string()),
        subject: Set(subject),
        body: Set(body),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
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
    /// Until when this server holds it (see [`reclaim_email`]).
    pub claimed_until: chrono::DateTime<chrono::Utc>,
    pub id: i64,
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// How long a server may take to send the emails it claimed before another may.
pub const CLAIM: chrono::Duration = chrono::Duration::minutes(2);

/// Claims the oldest `limit` emails neither sent nor refused for good, nor claimed by
/// another server within [`CLAIM`]: with several servers each email goes to one of them
/// (rows another server is claiming are skipped, not waited for).
pub async fn claim_emails<C: ConnectionTrait>(
    db: &C,
    limit: u64,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<PendingEmail>, sea_orm::DbErr> {
    let dialect = db.dialect();
    let mut q = Sql::new("UPDATE outbox SET claimed_until = ");
    q.bind(claim_time(at + CLAIM))
        .push(
            " WHERE id IN (SELECT id FROM outbox WHERE sent_at IS NULL AND error IS NULL \
             AND (claimed_until IS NULL OR claimed_until < ",
        )
        .bind(at)
        .push(") ORDER BY id LIMIT ")
        .bind(limit as i64)
        .push(dialect.skip_locked())
        .push(") RETURNING id, to_address, subject, body, claimed_until");
    let mut emails = db
        .all(&q)
        .await?
        .iter()
        .map(|r| {
            Ok(PendingEmail {
                claimed_until: r.try_get("", "claimed_until")?,
                id: r.try_get("", "id")?,
                to: r.try_get("", "to_address")?,
                subject: r.try_get("", "subject")?,
                body: r.try_get("", "body")?,
            })
        })
        .collect::<Result<Vec<_>, sea_orm::DbErr>>()?;
    emails.sort_by_key(|e| e.id);
    Ok(emails)
}

/// Claims email `id` again for [`CLAIM`] just before it is sent, if it is still
/// unsent and this server's claim (until `held_until`) still holds: a batch that took
/// longer than its claim (a slow mail server) may have passed to another server, which
/// then sends it instead. Returns the new claim.
pub async fn reclaim_email<C: ConnectionTrait>(
    db: &C,
    id: i64,
    held_until: chrono::DateTime<chrono::Utc>,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, sea_orm::DbErr> {
    let until = claim_time(at + CLAIM);
    let mut q = Sql::new("UPDATE outbox SET claimed_until = ");
    q.bind(until)
        .push(" WHERE id = ")
        .bind(id)
        .push(" AND sent_at IS NULL AND error IS NULL AND claimed_until = ")
        .bind(held_until)
        .push(" AND claimed_until > ")
        .bind(at);
    Ok((db.exec(&q).await?.rows_affected() == 1).then_some(until))
}

/// A claim's end as the database keeps it (to the microsecond), so it can be matched.
pub fn claim_time(t: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    t.trunc_subsecs(6)
}

/// Gives claimed emails back (the mail server is not taking them now), so the next
/// round of any server tries them again.
pub async fn release_emails<C: ConnectionTrait>(db: &C, ids: &[i64]) -> Result<(), sea_orm::DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut q = Sql::new("UPDATE outbox SET claimed_until = NULL WHERE id IN (");
    q.bind_list(ids.iter().copied()).push(")");
    db.exec(&q).await?;
    Ok(())
}

/// Records that email `id` was sent (`Ok`) or refused for good (`Err`, not tried again).
pub async fn mark_email<C: ConnectionTrait>(
    db: &C,
    id: i64,
    outcome: Result<(), String>,
) -> Result<(), sea_orm::DbErr> {
    let mut sent = email::ActiveModel {
        id: Unchanged(id),
        ..Default::default()
    };
    match outcome {
        Ok(()) => sent.sent_at = Set(Some(now())),
        Err(e) => sent.error = Set(Some(e)),
    }
    email::Entity::update(sent).exec(db).await?;
    Ok(())
}

pub(crate) struct Target {
    pub email: String,
    pub name: String,
    pub language: String,
    pub status: String,
}

pub(crate) async fn target<C: ConnectionTrait>(db: &C, id: i64) -> Result<Target, ServiceError> {
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
