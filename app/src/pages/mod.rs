//! One file per page.

pub mod account;
pub mod audit;
pub mod fields;
pub mod groups;
pub mod imports;
pub mod login;
pub mod outbox;
pub mod password;
pub mod reminders;
pub mod roles;
pub mod settings;
pub mod users;
