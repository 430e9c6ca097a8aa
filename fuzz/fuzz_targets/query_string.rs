//! Any text as the users page's or the audit log's query string: parsing never panics,
//! and the URL a parsed state writes reads back as the same state (what the address
//! bar, the links and the server functions rely on).
#![no_main]

use app::domain::audit::AuditQuery;
use app::domain::query::UserQuery;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let users = UserQuery::from_query_string(text);
    let written = users.to_query_string();
    assert_eq!(UserQuery::from_query_string(&written), users, "users URL {written:?}");

    let audit = AuditQuery::from_query_string(text);
    let written = audit.to_query_string();
    assert_eq!(AuditQuery::from_query_string(&written), audit, "audit URL {written:?}");
});
