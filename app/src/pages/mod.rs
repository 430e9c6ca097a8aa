//! One file per page.

pub mod groups;
pub mod login;
pub mod users;
