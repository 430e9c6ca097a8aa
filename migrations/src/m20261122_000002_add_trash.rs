//! Undoable deletes: a deleted user's rows (and their tags, groups, devices, comments,
//! reminders and activity) move to trash tables for a short undo window, then a
//! background task purges them. The live tables, their indexes and counters never
//! see a deleted user, so lists stay as fast as before.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_dialect(
            manager,
            include_str!("sql/m20261122_000002_add_trash.sqlite.sql"),
            include_str!("sql/m20261122_000002_add_trash.postgres.sql"),
        )
        .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "DROP TABLE trash_activities; DROP TABLE trash_reminders; DROP TABLE trash_comments; \
                 DROP TABLE trash_devices; DROP TABLE trash_user_groups; DROP TABLE trash_user_tags; \
                 DROP TABLE trash_users; DROP TABLE deletions;",
            )
            .await?;
        Ok(())
    }
}
