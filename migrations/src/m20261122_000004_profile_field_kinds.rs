//! Profile fields may be "many of a list" (`multi_choice`), and are listed in order.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_dialect(
            manager,
            include_str!("sql/m20261122_000004_profile_field_kinds.sqlite.sql"),
            include_str!("sql/m20261122_000004_profile_field_kinds.postgres.sql"),
        )
        .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "fields of kind multi_choice cannot be put back into the old check".into(),
        ))
    }
}
