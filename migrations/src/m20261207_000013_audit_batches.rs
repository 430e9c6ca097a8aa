//! A bulk command's audit entries (one per user) belong to one batch, so the audit log
//! lists the command once with its number of users and opens its entries on demand;
//! filters by target and the CSV still read every entry. The batch's first entry
//! carries the batch's size.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditBatches {
    Table,
    Id,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    BatchId,
    BatchSize,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditBatches::Table)
                    .col(
                        ColumnDef::new(AuditBatches::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(AuditBatches::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AuditLog::Table)
                    .add_column(ColumnDef::new(AuditLog::BatchId).big_integer().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AuditLog::Table)
                    .add_column(ColumnDef::new(AuditLog::BatchSize).big_integer().null())
                    .to_owned(),
            )
            .await?;
        // Partial indexes, the same SQL on both databases: a batch's entries (only
        // batched rows are indexed, so building it on a long log is quick), and the
        // entries the log lists, newest first, so a page never walks the members of
        // a million-user batch (the page's query repeats this condition word for word).
        let sql = "CREATE INDEX audit_log_batch_idx ON audit_log (batch_id) WHERE batch_id IS NOT NULL;\n\
                   CREATE INDEX audit_log_listed_idx ON audit_log (at, id) \
                   WHERE batch_id IS NULL OR batch_size IS NOT NULL;";
        crate::run_dialect(manager, sql, sql).await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = "DROP INDEX audit_log_listed_idx; DROP INDEX audit_log_batch_idx;";
        crate::run_dialect(manager, sql, sql).await?;
        for column in [AuditLog::BatchSize, AuditLog::BatchId] {
            manager
                .alter_table(
                    Table::alter()
                        .table(AuditLog::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(AuditBatches::Table).to_owned())
            .await
    }
}
