//! Permission strings and the built-in roles that grant them. The server checks
//! these on every call; the UI only uses them to hide what would be refused.

pub const ADMIN_ACCESS: &str = "admin.access";
pub const USERS_READ: &str = "users.read";
pub const USERS_WRITE: &str = "users.write";
pub const USERS_DELETE: &str = "users.delete";
pub const USERS_IMPORT: &str = "users.import";
pub const USERS_EXPORT: &str = "users.export";
pub const USERS_SESSIONS: &str = "users.sessions";
/// Reset passwords and send invitations (and read the outbox they write to).
pub const USERS_PASSWORDS: &str = "users.passwords";
pub const ROLES_MANAGE: &str = "roles.manage";
pub const AUDIT_READ: &str = "audit.read";
/// Create and revoke the API keys the admins' own apps report activity with.
pub const API_KEYS_MANAGE: &str = "api_keys.manage";
/// Define, change, reorder and archive custom profile fields.
pub const FIELDS_MANAGE: &str = "fields.manage";

pub const ALL: [&str; 12] = [
    ADMIN_ACCESS,
    USERS_READ,
    USERS_WRITE,
    USERS_DELETE,
    USERS_IMPORT,
    USERS_EXPORT,
    USERS_SESSIONS,
    USERS_PASSWORDS,
    ROLES_MANAGE,
    AUDIT_READ,
    API_KEYS_MANAGE,
    FIELDS_MANAGE,
];

/// (name, description, permissions) of the roles every installation has.
pub const BUILT_IN_ROLES: [(&str, &str, &[&str]); 5] = [
    ("owner", "Full control, including roles", &ALL),
    (
        "admin",
        "Manages users",
        &[
            ADMIN_ACCESS,
            USERS_READ,
            USERS_WRITE,
            USERS_DELETE,
            USERS_IMPORT,
            USERS_EXPORT,
            USERS_SESSIONS,
            USERS_PASSWORDS,
            AUDIT_READ,
            API_KEYS_MANAGE,
            FIELDS_MANAGE,
        ],
    ),
    (
        "support",
        "Helps users: reads and edits",
        &[
            ADMIN_ACCESS,
            USERS_READ,
            USERS_WRITE,
            USERS_SESSIONS,
            USERS_PASSWORDS,
        ],
    ),
    ("viewer", "Reads users", &[ADMIN_ACCESS, USERS_READ]),
    ("member", "A managed user without admin access", &[]),
];

/// The role new users get.
pub const DEFAULT_ROLE: &str = "member";
/// The role `create-admin` and the demo give.
pub const OWNER_ROLE: &str = "owner";

/// Why an admin may not act on an account (or give a role): what they lack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The permissions the target's role grants that the actor's role lacks, then
    /// `roles.manage` when the target has admin access and the actor cannot manage
    /// roles. Never empty.
    pub missing: Vec<String>,
    /// The target's role grants admin access.
    pub admin_target: bool,
}

impl Refusal {
    /// The permissions named for a 403 (`"roles.manage"`, `"users.delete, roles.manage"`).
    pub fn permissions(&self) -> String {
        self.missing.join(", ")
    }

    /// A sentence for a field or an import row.
    pub fn sentence(&self) -> String {
        if self.admin_target && self.missing == [ROLES_MANAGE] {
            "Only admins who manage roles can change an admin.".to_string()
        } else {
            format!(
                "This user's role grants permissions yours lacks ({}).",
                self.permissions()
            )
        }
    }
}

/// The rule every command on another account goes through (and every role given):
/// an admin may act on an account only if that account's role grants nothing the
/// actor's own role lacks; an account with admin access additionally needs
/// `roles.manage`. The same rule decides which roles an admin may give.
pub fn may_act_on<A: AsRef<str>, T: AsRef<str>>(actor: &[A], target: &[T]) -> Result<(), Refusal> {
    let holds = |p: &str| actor.iter().any(|a| a.as_ref() == p);
    let mut missing: Vec<String> = ALL
        .iter()
        .filter(|p| target.iter().any(|t| t.as_ref() == **p) && !holds(p))
        .map(|p| p.to_string())
        .collect();
    let admin_target = target.iter().any(|t| t.as_ref() == ADMIN_ACCESS);
    if admin_target && !holds(ROLES_MANAGE) && !missing.iter().any(|m| m == ROLES_MANAGE) {
        missing.push(ROLES_MANAGE.to_string());
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Refusal {
            missing,
            admin_target,
        })
    }
}

/// What each built-in role may do to an account of each built-in role, derived from
/// [`may_act_on`]: the Markdown table in README's "Security model" (a test keeps the two
/// equal). A refused cell names what the actor lacks.
pub fn rule_table() -> String {
    let mut out = String::from("| actor ↓ / target → |");
    for (target, _, _) in BUILT_IN_ROLES {
        out.push_str(&format!(" {target} |"));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(BUILT_IN_ROLES.len()));
    for (actor, _, actor_perms) in BUILT_IN_ROLES
        .iter()
        .filter(|(_, _, p)| p.contains(&ADMIN_ACCESS))
    {
        out.push_str(&format!("\n| **{actor}** |"));
        for (_, _, target_perms) in BUILT_IN_ROLES {
            let cell = match may_act_on(actor_perms, target_perms) {
                Ok(()) => "yes".to_string(),
                Err(r) => format!("no (lacks {})", r.permissions()),
            };
            out.push_str(&format!(" {cell} |"));
        }
    }
    out.push('\n');
    out
}

/// A role may be made or changed only to hold permissions its author holds.
pub fn may_author<A: AsRef<str>, T: AsRef<str>>(
    author: &[A],
    role: &[T],
) -> Result<(), Vec<String>> {
    let missing: Vec<String> = role
        .iter()
        .map(AsRef::as_ref)
        .filter(|p| !author.iter().any(|a| a.as_ref() == *p))
        .map(str::to_string)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(missing)
    }
}

/// What a permission lets an admin do, for the Roles page.
pub fn describe(permission: &str) -> &'static str {
    match permission {
        ADMIN_ACCESS => "Sign in to Roster as an admin",
        USERS_READ => "See users, their activity, tags, groups and reminders",
        USERS_WRITE => "Create and edit users, ban and activate them, tags, groups, comments",
        USERS_DELETE => "Delete users (and undo a delete)",
        USERS_IMPORT => "Import users from CSV and XLSX files",
        USERS_EXPORT => "Export users to CSV and XLSX files",
        USERS_SESSIONS => "Log users out of every session",
        USERS_PASSWORDS => "Reset passwords, send invitations, read the outbox",
        ROLES_MANAGE => "Make and change roles; give roles with admin access",
        AUDIT_READ => "Read and download the audit log",
        API_KEYS_MANAGE => "Create and revoke API keys",
        FIELDS_MANAGE => "Define custom profile fields",
        _ => "",
    }
}

/// A role as the Roles page shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RoleDetail {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub built_in: bool,
    /// Sorted.
    pub permissions: Vec<String>,
    /// Users (and admins) who have this role.
    pub users: i64,
}

/// A custom role as the admin fills it in.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RoleForm {
    pub name: String,
    pub description: String,
    pub permissions: Vec<String>,
}

pub const MAX_ROLE_NAME: usize = 40;

/// The form, trimmed and with its permissions in `ALL`'s order, or the problems by field.
pub fn check_role(form: &RoleForm) -> Result<RoleForm, crate::domain::FieldErrors> {
    let mut errors = crate::domain::FieldErrors::new();
    let name = form.name.trim().to_lowercase();
    if name.is_empty() {
        errors.insert("name".into(), vec!["Enter a name.".into()]);
    } else if name.chars().count() > MAX_ROLE_NAME {
        errors.insert(
            "name".into(),
            vec![format!("Use at most {MAX_ROLE_NAME} characters.")],
        );
    } else if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        errors.insert(
            "name".into(),
            vec!["Use letters a–z, digits, - and _ only.".into()],
        );
    }
    let description = form.description.trim().to_string();
    if description.chars().count() > 200 {
        errors.insert(
            "description".into(),
            vec!["Use at most 200 characters.".into()],
        );
    }
    let unknown: Vec<&str> = form
        .permissions
        .iter()
        .map(String::as_str)
        .filter(|p| !ALL.contains(p))
        .collect();
    if !unknown.is_empty() {
        errors.insert(
            "permissions".into(),
            vec![format!("Unknown permission: {}.", unknown.join(", "))],
        );
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(RoleForm {
        name,
        description,
        permissions: ALL
            .iter()
            .filter(|p| form.permissions.iter().any(|q| q == *p))
            .map(|p| p.to_string())
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_permission_is_described() {
        for p in ALL {
            assert!(!describe(p).is_empty(), "{p}");
        }
    }

    #[test]
    fn role_forms_are_trimmed_ordered_and_checked_by_field() {
        let ok = check_role(&RoleForm {
            name: "  Help-Desk_2 ".into(),
            description: " Front line ".into(),
            permissions: vec![USERS_WRITE.into(), ADMIN_ACCESS.into(), USERS_WRITE.into()],
        })
        .unwrap();
        assert_eq!(ok.name, "help-desk_2");
        assert_eq!(ok.description, "Front line");
        assert_eq!(ok.permissions, vec![ADMIN_ACCESS, USERS_WRITE]);

        let errors = check_role(&RoleForm {
            name: "help desk".into(),
            description: String::new(),
            permissions: vec!["users.fly".into()],
        })
        .unwrap_err();
        assert_eq!(
            errors["name"],
            vec!["Use letters a–z, digits, - and _ only."]
        );
        assert_eq!(
            errors["permissions"],
            vec!["Unknown permission: users.fly."]
        );
        let empty = check_role(&RoleForm::default()).unwrap_err();
        assert_eq!(empty["name"], vec!["Enter a name."]);
    }

    fn role(name: &str) -> Vec<&'static str> {
        BUILT_IN_ROLES
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|(_, _, p)| p.to_vec())
            .unwrap_or_default()
    }

    #[test]
    fn the_readme_shows_the_rule_as_it_is() {
        let readme = include_str!("../../../README.md");
        let table = rule_table();
        assert!(
            readme.contains(&table),
            "README's Security model table is out of date; it should read:\n{table}"
        );
    }

    #[test]
    fn the_rule_between_built_in_roles() {
        // (actor, target, allowed, missing)
        let cases: [(&str, &str, bool, &[&str]); 12] = [
            ("owner", "owner", true, &[]),
            ("owner", "admin", true, &[]),
            ("owner", "member", true, &[]),
            ("admin", "owner", false, &[ROLES_MANAGE]),
            ("admin", "admin", false, &[ROLES_MANAGE]),
            ("admin", "support", false, &[ROLES_MANAGE]),
            ("admin", "viewer", false, &[ROLES_MANAGE]),
            ("admin", "member", true, &[]),
            (
                "support",
                "admin",
                false,
                &[
                    USERS_DELETE,
                    USERS_IMPORT,
                    USERS_EXPORT,
                    AUDIT_READ,
                    API_KEYS_MANAGE,
                    FIELDS_MANAGE,
                    ROLES_MANAGE,
                ],
            ),
            ("support", "member", true, &[]),
            ("viewer", "viewer", false, &[ROLES_MANAGE]),
            ("viewer", "member", true, &[]),
        ];
        for (actor, target, allowed, missing) in cases {
            let result = may_act_on(&role(actor), &role(target));
            assert_eq!(result.is_ok(), allowed, "{actor} on {target}");
            if let Err(refusal) = result {
                assert_eq!(refusal.missing, missing, "{actor} on {target}");
                assert!(refusal.admin_target, "{actor} on {target}");
            }
        }
    }

    #[test]
    fn a_custom_role_acts_only_on_roles_within_its_own() {
        let clerk = [ADMIN_ACCESS, USERS_READ, USERS_WRITE, ROLES_MANAGE];
        assert_eq!(may_act_on(&clerk, &role("viewer")), Ok(()));
        let refusal = may_act_on(&clerk, &role("support")).unwrap_err();
        assert_eq!(refusal.missing, vec![USERS_SESSIONS, USERS_PASSWORDS]);
        assert_eq!(
            refusal.sentence(),
            "This user's role grants permissions yours lacks (users.sessions, users.passwords)."
        );
        // A role without admin access that grants what the actor lacks.
        let refusal = may_act_on(&role("viewer"), &[USERS_EXPORT]).unwrap_err();
        assert_eq!(refusal.missing, vec![USERS_EXPORT]);
        assert!(!refusal.admin_target);
        assert_eq!(
            may_act_on(&role("admin"), &role("support"))
                .unwrap_err()
                .sentence(),
            "Only admins who manage roles can change an admin."
        );
    }

    #[test]
    fn roles_are_authored_within_the_authors_permissions() {
        assert_eq!(
            may_author(&role("admin"), &[USERS_READ, AUDIT_READ]),
            Ok(())
        );
        assert_eq!(
            may_author(&[ADMIN_ACCESS, ROLES_MANAGE], &[ADMIN_ACCESS, USERS_DELETE]),
            Err(vec![USERS_DELETE.to_string()])
        );
    }
}
