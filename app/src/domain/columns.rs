//! The users table's columns: stable keys (used in URLs and saved preferences),
//! header labels, and which sort key a header drives.

use serde::{Deserialize, Serialize};

use super::query::SortKey;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Column {
    Id,
    Username,
    Name,
    Email,
    Phone,
    Status,
    Role,
    Balance,
    Devices,
    Tags,
    SignupDate,
    LastAccess,
}

impl Column {
    /// Every column in display order.
    pub const ALL: [Column; 12] = [
        Column::Id,
        Column::Username,
        Column::Name,
        Column::Email,
        Column::Phone,
        Column::Status,
        Column::Role,
        Column::Balance,
        Column::Devices,
        Column::Tags,
        Column::SignupDate,
        Column::LastAccess,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Column::Id => "id",
            Column::Username => "username",
            Column::Name => "name",
            Column::Email => "email",
            Column::Phone => "phone",
            Column::Status => "status",
            Column::Role => "role",
            Column::Balance => "balance",
            Column::Devices => "devices",
            Column::Tags => "tags",
            Column::SignupDate => "signup",
            Column::LastAccess => "last_access",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Column::Id => "ID",
            Column::Username => "Username",
            Column::Name => "Name",
            Column::Email => "Email",
            Column::Phone => "Phone",
            Column::Status => "Status",
            Column::Role => "Role",
            Column::Balance => "Balance",
            Column::Devices => "Devices",
            Column::Tags => "Tags",
            Column::SignupDate => "Signup date",
            Column::LastAccess => "Last access",
        }
    }

    pub fn parse(key: &str) -> Option<Column> {
        Column::ALL.into_iter().find(|c| c.key() == key.trim())
    }

    /// The sort keys a header offers. The name column sorts by first or last name.
    pub fn sort_keys(self) -> &'static [SortKey] {
        match self {
            Column::Id => &[SortKey::Id],
            Column::Username => &[SortKey::Username],
            Column::Name => &[SortKey::FirstName, SortKey::LastName],
            Column::Email => &[SortKey::Email],
            Column::Balance => &[SortKey::Balance],
            Column::SignupDate => &[SortKey::SignupDate],
            Column::LastAccess => &[SortKey::LastAccess],
            _ => &[],
        }
    }
}

/// Keeps only known, distinct columns in display order.
pub fn normalize_hidden(cols: impl IntoIterator<Item = Column>) -> Vec<Column> {
    let mut v: Vec<Column> = cols.into_iter().collect();
    v.sort();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_parse_back() {
        for c in Column::ALL {
            assert_eq!(Column::parse(c.key()), Some(c), "{c:?}");
        }
        let mut keys: Vec<_> = Column::ALL.iter().map(|c| c.key()).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), Column::ALL.len());
    }

    #[test]
    fn every_sort_key_has_a_header() {
        for key in SortKey::ALL {
            assert!(
                Column::ALL.iter().any(|c| c.sort_keys().contains(&key)),
                "{key:?} has no column header"
            );
        }
    }
}
