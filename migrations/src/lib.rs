//! The Roster schema, one migration per change. A migration is never edited once it
//! has landed. Portable changes use sea-orm-migration's schema builder (from 000007 on);
//! search indexes, triggers and the first schema carry SQL for each backend.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_create_schema;
mod m20261122_000002_add_trash;
mod m20261122_000003_activity_custom_kind;
mod m20261122_000004_profile_field_kinds;
mod m20261201_000005_field_search;
mod m20261201_000006_bulk_load;
mod m20261204_000007_shared_work;
mod m20261204_000008_count_deltas;
mod m20261207_000009_index_only_paging;
mod m20261207_000010_bulk_jobs;
mod m20261207_000011_name_tie_breaks;
mod m20261207_000012_status_undo;
mod m20261207_000013_audit_batches;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_schema::Migration),
            Box::new(m20261122_000002_add_trash::Migration),
            Box::new(m20261122_000003_activity_custom_kind::Migration),
            Box::new(m20261122_000004_profile_field_kinds::Migration),
            Box::new(m20261201_000005_field_search::Migration),
            Box::new(m20261201_000006_bulk_load::Migration),
            Box::new(m20261204_000007_shared_work::Migration),
            Box::new(m20261204_000008_count_deltas::Migration),
            Box::new(m20261207_000009_index_only_paging::Migration),
            Box::new(m20261207_000010_bulk_jobs::Migration),
            Box::new(m20261207_000011_name_tie_breaks::Migration),
            Box::new(m20261207_000012_status_undo::Migration),
            Box::new(m20261207_000013_audit_batches::Migration),
        ]
    }
}

/// Runs the SQL for the connection's backend. Both dialects are kept side by side
/// because search indexes (FTS5 / pg_trgm), triggers and types differ between them.
pub(crate) async fn run_dialect(
    manager: &SchemaManager<'_>,
    sqlite: &str,
    postgres: &str,
) -> Result<(), DbErr> {
    let sql = match manager.get_database_backend() {
        sea_orm::DatabaseBackend::Sqlite => sqlite,
        sea_orm::DatabaseBackend::Postgres => postgres,
        other => {
            return Err(DbErr::Migration(format!(
                "unsupported database backend {other:?}; use SQLite or PostgreSQL"
            )))
        }
    };
    manager.get_connection().execute_unprepared(sql).await?;
    Ok(())
}
