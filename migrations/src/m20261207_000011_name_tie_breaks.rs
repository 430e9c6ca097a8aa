//! People who share a first name are listed by last name (and the other way round),
//! then by id, on every page: the two name sort indexes hold both names, so the order
//! still comes from the index and a deep page still skips its offset inside it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_dialect(
            manager,
            include_str!("sql/m20261207_000011_name_tie_breaks.sqlite.sql"),
            include_str!("sql/m20261207_000011_name_tie_breaks.postgres.sql"),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_dialect(
            manager,
            include_str!("sql/m20261207_000011_name_tie_breaks.down.sqlite.sql"),
            include_str!("sql/m20261207_000011_name_tie_breaks.down.postgres.sql"),
        )
        .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
