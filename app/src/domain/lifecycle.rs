//! What the lifecycle commands exchange: created users, groups, comments, roles,
//! selections of users and the bulk actions applied to them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::query::UserQuery;
use super::user::Status;

/// A user just created, as the confirmation lists them (and its CSV).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedUser {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub username: Option<String>,
    pub phone: Option<String>,
    pub role: String,
    pub status: Status,
    pub groups: Vec<String>,
    /// A generated temporary password, shown this once.
    pub temporary_password: Option<String>,
}

/// The confirmation's CSV: a header and one line per created user (RFC 4180
/// quoting; cells starting with = + - @ are neutralised for spreadsheets).
pub fn created_users_csv(users: &[CreatedUser]) -> String {
    let mut out = String::from(
        "id,email,first_name,last_name,username,phone,role,status,groups,temporary_password\r\n",
    );
    for u in users {
        let cells = [
            u.id.to_string(),
            u.email.clone(),
            u.first_name.clone(),
            u.last_name.clone(),
            u.username.clone().unwrap_or_default(),
            u.phone.clone().unwrap_or_default(),
            u.role.clone(),
            u.status.as_str().to_string(),
            u.groups.join(", "),
            u.temporary_password.clone().unwrap_or_default(),
        ];
        super::transfer::push_csv_line(&mut out, &cells);
    }
    out
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupInfo {
    pub id: i64,
    pub name: String,
    pub members: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleInfo {
    pub id: i64,
    pub name: String,
    pub description: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sea_orm::FromQueryResult))]
pub struct CommentInfo {
    pub id: i64,
    pub author_id: Option<i64>,
    pub author: String,
    pub body: String,
    #[serde(with = "chrono::serde::ts_seconds")]
    pub created_at: DateTime<Utc>,
}

/// Which users a bulk command applies to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Selection {
    /// These users (checked rows).
    Ids(Vec<i64>),
    /// Every user the table's filters match (sort, paging and columns do not matter).
    Matching(UserQuery),
}

/// What a bulk command does to each selected user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BulkAction {
    SetStatus(Status),
    AddTag(String),
    RemoveTag(String),
    AddToGroup(String),
    RemoveFromGroup(String),
    SetRole(i64),
    Delete,
}

impl BulkAction {
    /// The audit log's action name.
    pub fn audit_name(&self) -> &'static str {
        match self {
            BulkAction::SetStatus(_) => "user.status",
            BulkAction::AddTag(_) => "user.tag_add",
            BulkAction::RemoveTag(_) => "user.tag_remove",
            BulkAction::AddToGroup(_) => "user.group_add",
            BulkAction::RemoveFromGroup(_) => "user.group_remove",
            BulkAction::SetRole(_) => "user.role",
            BulkAction::Delete => "user.delete",
        }
    }
}

/// The outcome of a bulk command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkResult {
    /// Users the command applied to.
    pub affected: u64,
    /// For a delete: what `undo_delete` takes.
    pub deletion_id: Option<i64>,
    /// Users left out (the signed-in admin never bans, demotes or deletes themselves).
    pub skipped_self: bool,
    /// For a status change: what `undo_status_change` takes.
    #[serde(default)]
    pub status_change_id: Option<i64>,
    /// A command on "all matching" that outlasted the request goes on in the
    /// background as this job ([`BulkJob`]); the fields above are then empty.
    #[serde(default)]
    pub job: Option<i64>,
}

/// What undoing a status change did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusUndo {
    /// Users set back to the status they had.
    pub restored: u64,
    /// Users changed again since (or deleted), left as they are now.
    pub kept: u64,
}

/// Where a background bulk command is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BulkState {
    Running,
    Done,
    Failed,
}

impl BulkState {
    pub const fn as_db(self) -> &'static str {
        match self {
            BulkState::Running => "running",
            BulkState::Done => "done",
            BulkState::Failed => "failed",
        }
    }

    pub fn from_db(s: &str) -> Option<Self> {
        [BulkState::Running, BulkState::Done, BulkState::Failed]
            .into_iter()
            .find(|state| state.as_db() == s)
    }
}

/// A bulk command on "all matching" users running (or run) in the background.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkJob {
    pub id: i64,
    pub action: BulkAction,
    pub state: BulkState,
    /// While it runs: the phase and the users done of those selected.
    pub progress: Option<super::transfer::Progress>,
    /// Once done: what it did.
    pub result: Option<BulkResult>,
    /// Once failed: why; nothing of it was written.
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_created_users_csv_has_a_header_and_a_line_each() {
        let user = CreatedUser {
            id: 7,
            first_name: "Ada".into(),
            last_name: "Lovelace, Countess".into(),
            email: "ada@x.io".into(),
            username: Some("ada".into()),
            phone: None,
            role: "member".into(),
            status: Status::Active,
            groups: vec!["Beta".into(), "VIP".into()],
            temporary_password: Some("Tmp-pass-123456".into()),
        };
        let csv = created_users_csv(&[user]);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines.len(), 3, "{csv}");
        assert!(lines[0].starts_with("id,email,"));
        assert_eq!(
            lines[1],
            "7,ada@x.io,Ada,\"Lovelace, Countess\",ada,,member,active,\"Beta, VIP\",Tmp-pass-123456"
        );
    }
}
