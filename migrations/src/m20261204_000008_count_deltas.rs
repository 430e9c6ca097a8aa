//! PostgreSQL keeps the per-status totals as delta rows written once per statement,
//! so no single counter row serialises every user write (and a million-row import no
//! longer walks a growing chain of versions of it). SQLite has one writer and its bulk
//! loads already count once per import: it keeps its triggers.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_dialect(
            manager,
            "SELECT 1;",
            include_str!("sql/m20261204_000008_count_deltas.postgres.sql"),
        )
        .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
