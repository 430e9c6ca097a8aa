//! Bulk commands on "all matching" users run in the background: a row per command
//! keeps who started it, what it does, how it ended (the users it changed, the
//! deletion to undo, or why it failed) and, while it runs, a lease with its progress
//! for the other servers, as imports do. The command's own transaction writes its
//! "done", so a job is never done without its work, nor the work without "done".

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum BulkJobs {
    Table,
    Id,
    ActorId,
    Action,
    State,
    Affected,
    DeletionId,
    SkippedSelf,
    Error,
    Progress,
    LeaseUntil,
    CreatedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BulkJobs::Table)
                    .col(
                        ColumnDef::new(BulkJobs::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(BulkJobs::ActorId).big_integer().null())
                    .col(ColumnDef::new(BulkJobs::Action).text().not_null())
                    .col(ColumnDef::new(BulkJobs::State).text().not_null())
                    .col(
                        ColumnDef::new(BulkJobs::Affected)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(ColumnDef::new(BulkJobs::DeletionId).big_integer().null())
                    .col(
                        ColumnDef::new(BulkJobs::SkippedSelf)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(ColumnDef::new(BulkJobs::Error).text().null())
                    .col(ColumnDef::new(BulkJobs::Progress).text().null())
                    .col(
                        ColumnDef::new(BulkJobs::LeaseUntil)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(BulkJobs::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(BulkJobs::FinishedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(BulkJobs::Table, BulkJobs::ActorId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("bulk_jobs_state_idx")
                    .table(BulkJobs::Table)
                    .col(BulkJobs::State)
                    .to_owned(),
            )
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(BulkJobs::Table).to_owned())
            .await
    }
}
