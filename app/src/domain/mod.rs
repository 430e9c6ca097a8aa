//! Pure types and rules shared by the browser and the server; no IO here.

pub mod account;
pub mod activity;
pub mod audit;
pub mod columns;
pub mod dates;
pub mod email;
pub mod error;
pub mod field_query;
pub mod fields;
pub mod lifecycle;
pub mod permissions;
pub mod query;
pub mod transfer;
pub mod user;
pub mod wire;

pub use columns::Column;
pub use error::{ApiError, AppError, FieldErrors, Refusal};
pub use lifecycle::{
    BulkAction, BulkJob, BulkResult, BulkState, CommentInfo, CreatedUser, GroupInfo, RoleInfo,
    Selection, StatusUndo,
};
pub use query::{SortDir, SortKey, StatusFilter, TagMode, UserQuery, PAGE_SIZES};
pub use user::{AdminInfo, DeviceInfo, NamedRef, Status, TagInfo, UserDetail, UserPage, UserRow};
