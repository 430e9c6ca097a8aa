//! Writing many users in one transaction (imports). On SQLite, the search index and
//! the status totals kept by triggers cost more per row than the rows themselves, so a
//! bulk load stands those triggers aside (a row in `bulk_load`, which they check) and
//! brings both up to date with one statement each before the transaction commits.
//! The row never outlives the transaction, so no other connection ever sees it, and a
//! rolled-back load leaves nothing behind. On PostgreSQL this is a no-op: its triggers
//! stay as they are.

use sea_orm::{ConnectionTrait, DatabaseTransaction};

use super::dialect::Run;
use super::sql::Sql;
use super::ServiceError;

/// The search document of a `users` row, exactly as the SQLite triggers write it
/// (migration m20261201_000006_bulk_load), skipping the custom field lookup for users
/// without custom values.
const SEARCH_DOC: &str = "users.first_name || ' ' || users.last_name || ' ' || users.email || ' ' \
    || coalesce(users.username, '') || ' ' || coalesce(users.phone, '') || ' ' || users.company || ' ' \
    || users.job_title || CASE WHEN users.attributes = '{}' THEN '' ELSE \
    coalesce((SELECT ' ' || group_concat(j.value, ' ') FROM json_each(users.attributes) AS j \
    JOIN profile_fields AS pf ON pf.key = j.key \
    WHERE pf.searchable AND NOT pf.archived AND pf.kind IN ('text', 'choice', 'multi_choice')), '') END";

/// A bulk load under way in a transaction (SQLite only).
#[derive(Debug)]
pub struct BulkLoad {
    /// Users with a greater id are new in this transaction.
    last_id_before: i64,
}

impl BulkLoad {
    /// Stands the row triggers aside for the rest of `txn`. Takes SQLite's write lock
    /// first, so the users inserted from here on are exactly those with ids above
    /// today's greatest. `None` on PostgreSQL.
    pub async fn begin(txn: &DatabaseTransaction) -> Result<Option<BulkLoad>, ServiceError> {
        if !txn.dialect().is_sqlite() {
            return Ok(None);
        }
        txn.execute_unprepared("INSERT INTO bulk_load (id) VALUES (1)")
            .await?;
        let row = txn
            .one(Sql::new("SELECT coalesce(max(id), 0) AS id FROM users"))
            .await?
            .ok_or_else(|| anyhow::anyhow!("max(id) returned no row"))?;
        Ok(Some(BulkLoad {
            last_id_before: row.try_get("", "id")?,
        }))
    }

    /// Writes the search documents of the new users and of the users `updated` selects
    /// (SQL returning ids, e.g. `SELECT id FROM import_updates`), adds the new users
    /// to the status totals, and puts the triggers back.
    pub async fn finish(
        self,
        txn: &DatabaseTransaction,
        updated: Option<&str>,
    ) -> Result<(), ServiceError> {
        let mut s = Sql::new(&format!(
            "INSERT INTO users_fts (rowid, doc) SELECT users.id, {SEARCH_DOC} FROM users WHERE users.id > "
        ));
        s.bind(self.last_id_before);
        txn.exec(s).await?;
        if let Some(ids) = updated {
            txn.execute_unprepared(&format!("DELETE FROM users_fts WHERE rowid IN ({ids})"))
                .await?;
            txn.execute_unprepared(&format!(
                "INSERT INTO users_fts (rowid, doc) SELECT users.id, {SEARCH_DOC} FROM users WHERE users.id IN ({ids})"
            ))
            .await?;
        }
        // One pass over the new rows (by rowid, never by the status index).
        let mut c = Sql::new(
            "UPDATE user_counts SET n = n + coalesce((SELECT CASE user_counts.status \
             WHEN 'active' THEN sum(status = 'active') WHEN 'banned' THEN sum(status = 'banned') \
             ELSE sum(status = 'invited') END FROM (SELECT status FROM users WHERE users.id > ",
        );
        c.bind(self.last_id_before).push(")), 0)");
        txn.exec(c).await?;
        txn.execute_unprepared("DELETE FROM bulk_load").await?;
        Ok(())
    }
}
