//! A status change (one user from the row or the drawer, or many in bulk) can be
//! undone for a few seconds, as a delete can: a row per command, with each changed
//! user's previous status, the version the change gave them (a user edited since
//! keeps the newer state) and when the user was created (SQLite may give a deleted
//! user's id to a new one). Bulk jobs keep the change's id for their report.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StatusChanges {
    Table,
    Id,
    ActorId,
    Status,
    Users,
    CreatedAt,
}

#[derive(DeriveIden)]
enum StatusChangeUsers {
    Table,
    ChangeId,
    UserId,
    Previous,
    Version,
    UserCreatedAt,
}

#[derive(DeriveIden)]
enum BulkJobs {
    Table,
    StatusChangeId,
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
                    .table(StatusChanges::Table)
                    .col(
                        ColumnDef::new(StatusChanges::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(StatusChanges::ActorId).big_integer().null())
                    .col(ColumnDef::new(StatusChanges::Status).text().not_null())
                    .col(
                        ColumnDef::new(StatusChanges::Users)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(
                        ColumnDef::new(StatusChanges::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(StatusChanges::Table, StatusChanges::ActorId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("status_changes_created_idx")
                    .table(StatusChanges::Table)
                    .col(StatusChanges::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(StatusChangeUsers::Table)
                    .col(
                        ColumnDef::new(StatusChangeUsers::ChangeId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(StatusChangeUsers::UserId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(StatusChangeUsers::Previous)
                            .text()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(StatusChangeUsers::Version)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(StatusChangeUsers::UserCreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(StatusChangeUsers::ChangeId)
                            .col(StatusChangeUsers::UserId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(StatusChangeUsers::Table, StatusChangeUsers::ChangeId)
                            .to(StatusChanges::Table, StatusChanges::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(BulkJobs::Table)
                    .add_column(
                        ColumnDef::new(BulkJobs::StatusChangeId)
                            .big_integer()
                            .null(),
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
            .alter_table(
                Table::alter()
                    .table(BulkJobs::Table)
                    .drop_column(BulkJobs::StatusChangeId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(StatusChangeUsers::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(StatusChanges::Table).to_owned())
            .await
    }
}
