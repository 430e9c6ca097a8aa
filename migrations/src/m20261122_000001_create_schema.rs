//! The whole first data model: users, roles, tags, groups, devices, sessions,
//! activities, comments, reminders, audit log, tokens, outbox, import jobs, API keys,
//! preferences and profile fields, with the search indexes.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_dialect(
            manager,
            include_str!("sql/m20261122_000001_create_schema.sqlite.sql"),
            include_str!("sql/m20261122_000001_create_schema.postgres.sql"),
        )
        .await
    }

    /// SQLite too: a script that fails halfway must leave nothing behind.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "the initial schema cannot be rolled back; drop the database instead".into(),
        ))
    }
}
