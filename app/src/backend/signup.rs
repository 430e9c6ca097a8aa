//! Public signup (`POST /api/v1/signup`): within the seat quota, with the same
//! answer whether or not the email is registered.

use sea_orm::DatabaseConnection;
use serde::Deserialize;
use serde_json::json;

use super::dialect::Run;
use super::sql::Sql;
use super::{events, now, ServiceError};
use crate::domain::account::{parse_language, Email, Phone, Username};

/// A public signup, as sent by the admins' own forms.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct SignupIn {
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email_opt_in: Option<bool>,
    pub username: Option<String>,
    pub phone: Option<String>,
    pub language: Option<String>,
}

/// Creates a user with signup source `self_signup` (status invited: they set a
/// password through the invitation). Field errors name the JSON field.
///
/// The answer never tells whether the email (username, phone) is registered: an
/// existing account gives `Ok(None)`, which the endpoint answers exactly like a new one.
/// Past the seat quota every signup is refused alike.
pub async fn signup(
    db: &DatabaseConnection,
    config: &super::Config,
    form: SignupIn,
) -> Result<Option<i64>, ServiceError> {
    let mut errors = crate::domain::FieldErrors::new();
    let mut push = |k: &str, m: String| errors.entry(k.to_string()).or_default().push(m);
    let email = Email::parse(form.email.as_deref().unwrap_or_default())
        .map_err(|e| push("email", e))
        .ok();
    let username = match form
        .username
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(u) => Username::parse(u)
            .map(Some)
            .map_err(|e| push("username", e))
            .ok()
            .flatten(),
        None => None,
    };
    let phone = match form
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(p) => Phone::parse(p)
            .map(Some)
            .map_err(|e| push("phone", e))
            .ok()
            .flatten(),
        None => None,
    };
    let language = match form
        .language
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(l) => parse_language(l).map_err(|e| push("language", e)).ok(),
        None => Some("en".to_string()),
    };
    let first = form.first_name.unwrap_or_default().trim().to_string();
    let last = form.last_name.unwrap_or_default().trim().to_string();
    if first.chars().count() > 100 || last.chars().count() > 100 {
        push("first_name", "Names are at most 100 characters.".into());
    }
    let (Some(email), Some(language)) = (email, language) else {
        return Err(ServiceError::Validation(errors));
    };
    if !errors.is_empty() {
        return Err(ServiceError::Validation(errors));
    }
    let opt_in = form.email_opt_in.unwrap_or(false);
    let txn = crate::backend::db::begin_write(db).await?;
    if let Some(max) = config.max_users {
        if super::user_writes::user_total(&txn).await? >= max as i64 {
            return Err(ServiceError::Conflict(SIGNUPS_CLOSED.into()));
        }
    }
    let role = super::roles::role_id(&txn, crate::domain::permissions::DEFAULT_ROLE)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the built-in member role is missing"))?;
    let at = now();
    let mut s = Sql::new(
        "INSERT INTO users (email, username, phone, first_name, last_name, language, status, role_id, \
         email_opt_in, email_opt_in_changed_at, signup_source, created_at, updated_at) VALUES (",
    );
    s.bind(email.as_str())
        .push(", ")
        .bind(username.map(|u| u.as_str().to_string()))
        .push(", ")
        .bind(phone.map(|p| p.as_str().to_string()))
        .push(", ")
        .bind(first)
        .push(", ")
        .bind(last)
        .push(", ")
        .bind(language)
        .push(", 'invited', ")
        .bind(role)
        .push(", ")
        .bind(opt_in)
        .push(", ")
        .bind(at)
        .push(", 'self_signup', ")
        .bind(at)
        .push(", ")
        .bind(at)
        .push(") RETURNING id");
    let inserted = match txn.one(&s).await {
        Ok(row) => row,
        Err(e)
            if matches!(
                e.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    };
    let id: i64 = inserted
        .ok_or_else(|| anyhow::anyhow!("insert returned no id"))?
        .try_get("", "id")?;
    let detail = json!({ "email_opt_in": opt_in });
    events::record(&txn, id, at, "custom", "signup", detail, "signup").await?;
    txn.commit().await?;
    Ok(Some(id))
}

/// The public answer once the seat quota is reached.
pub const SIGNUPS_CLOSED: &str = "Signups are closed for now.";
