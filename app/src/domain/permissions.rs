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
