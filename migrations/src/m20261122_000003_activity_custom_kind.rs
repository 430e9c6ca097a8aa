//! Activity reported by the admins' own apps may have the kind `custom`; reported
//! events are found by their API key; activity is purged by age.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_dialect(
            manager,
            include_str!("sql/m20261122_000003_activity_custom_kind.sqlite.sql"),
            include_str!("sql/m20261122_000003_activity_custom_kind.postgres.sql"),
        )
        .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "activities of kind custom cannot be put back into the old check".into(),
        ))
    }
}
