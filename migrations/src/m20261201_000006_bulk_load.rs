//! Bulk loads (imports) write many users in one transaction. Row by row, SQLite's
//! search index and status totals cost more than the rows themselves, so while a
//! transaction holds the row in `bulk_load` those triggers stand aside and the loader
//! brings both up to date with one statement each before it commits (see
//! `backend::bulk_load`). The row never outlives its transaction, so no other
//! connection ever sees it. PostgreSQL keeps its triggers as they are.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_dialect(
            manager,
            include_str!("sql/m20261201_000006_bulk_load.sqlite.sql"),
            include_str!("sql/m20261201_000006_bulk_load.postgres.sql"),
        )
        .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_dialect(
            manager,
            include_str!("sql/m20261201_000006_bulk_load.down.sqlite.sql"),
            "SELECT 1;",
        )
        .await
    }
}
