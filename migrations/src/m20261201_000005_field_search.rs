//! Live search covers custom profile fields: the values of searchable text and choice
//! fields join each user's search document (SQLite's FTS5 rows, PostgreSQL's
//! `search_doc`, now kept by a trigger since a generated column cannot read
//! `profile_fields`).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_dialect(
            manager,
            include_str!("sql/m20261201_000005_field_search.sqlite.sql"),
            include_str!("sql/m20261201_000005_field_search.postgres.sql"),
        )
        .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "the search documents are not put back without custom fields".into(),
        ))
    }
}
