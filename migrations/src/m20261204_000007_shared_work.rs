//! Several servers on one database: a running import holds a lease that its server
//! renews (and writes its progress with), so another server can show the progress and
//! fail a job whose server died; an email is claimed for a while before it is sent, so
//! exactly one server sends it. The first migration written with the schema builder:
//! new portable columns and tables go through it; raw SQL stays for what only one
//! backend has (FTS5, pg_trgm, triggers).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ImportJobs {
    Table,
    LeaseUntil,
    Progress,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    ClaimedUntil,
}

#[derive(DeriveIden)]
enum RateLimits {
    Table,
    Counter,
    Key,
    WindowStart,
    Hits,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE.
        let columns = [
            (
                ImportJobs::Table.into_iden(),
                ColumnDef::new(ImportJobs::LeaseUntil)
                    .timestamp_with_time_zone()
                    .null()
                    .to_owned(),
            ),
            (
                ImportJobs::Table.into_iden(),
                ColumnDef::new(ImportJobs::Progress)
                    .text()
                    .null()
                    .to_owned(),
            ),
            (
                Outbox::Table.into_iden(),
                ColumnDef::new(Outbox::ClaimedUntil)
                    .timestamp_with_time_zone()
                    .null()
                    .to_owned(),
            ),
        ];
        for (table, column) in columns {
            manager
                .alter_table(Table::alter().table(table).add_column(column).to_owned())
                .await?;
        }
        // One row per counter and caller (a hash of who it counts): when its window
        // started and the hits in it.
        manager
            .create_table(
                Table::create()
                    .table(RateLimits::Table)
                    .col(ColumnDef::new(RateLimits::Counter).text().not_null())
                    .col(ColumnDef::new(RateLimits::Key).big_integer().not_null())
                    .col(
                        ColumnDef::new(RateLimits::WindowStart)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(RateLimits::Hits).integer().not_null())
                    .primary_key(
                        Index::create()
                            .col(RateLimits::Counter)
                            .col(RateLimits::Key),
                    )
                    .to_owned(),
            )
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RateLimits::Table).to_owned())
            .await?;
        for (table, column) in [
            (
                ImportJobs::Table.into_iden(),
                ImportJobs::LeaseUntil.into_iden(),
            ),
            (
                ImportJobs::Table.into_iden(),
                ImportJobs::Progress.into_iden(),
            ),
            (Outbox::Table.into_iden(), Outbox::ClaimedUntil.into_iden()),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
