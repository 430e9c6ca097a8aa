//! PostgreSQL pages deep into a sorted list through index-only scans (covering sort
//! indexes) and keeps the visibility map those scans need current (autovacuum after
//! 2% of a users table changed). SQLite's planner needs neither.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_dialect(
            manager,
            "SELECT 1;",
            include_str!("sql/m20261207_000009_index_only_paging.postgres.sql"),
        )
        .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
