//! `UserQuery`: the users table state (search, filters, sort, page, hidden columns).
//! It lives in the URL query string; `from_pairs` and `to_query_string` are exact
//! inverses for every value `from_pairs` can produce, so a reload or a shared link
//! shows the same view. Unknown or malformed values fall back to defaults instead of
//! failing, because URLs get hand-edited.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::columns::Column;
use super::dates::{format_day, parse_day};
use super::field_query::{self, FieldCondition, FieldFilter};
use super::user::Status;

/// Longest search text accepted; longer input is cut (at a char boundary).
pub const MAX_SEARCH_CHARS: usize = 200;
/// Page sizes offered in the UI.
pub const PAGE_SIZES: [u32; 3] = [25, 50, 100];

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum StatusFilter {
    #[default]
    All,
    Only(Status),
}

impl StatusFilter {
    pub fn as_str(self) -> &'static str {
        match self {
            StatusFilter::All => "all",
            StatusFilter::Only(s) => s.as_str(),
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        if s == "all" {
            Some(StatusFilter::All)
        } else {
            Status::parse(s).map(StatusFilter::Only)
        }
    }
}

/// How the chosen tags combine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TagMode {
    /// The user has every chosen tag.
    #[default]
    All,
    /// The user has at least one of the chosen tags.
    Any,
    /// The user has none of the chosen tags.
    None,
}

impl TagMode {
    pub const ALL: [TagMode; 3] = [TagMode::All, TagMode::Any, TagMode::None];

    pub fn as_str(self) -> &'static str {
        match self {
            TagMode::All => "all",
            TagMode::Any => "any",
            TagMode::None => "none",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            TagMode::All => "has all of",
            TagMode::Any => "has any of",
            TagMode::None => "has none of",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        TagMode::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SortKey {
    #[default]
    Id,
    FirstName,
    LastName,
    Username,
    Email,
    SignupDate,
    LastAccess,
    Balance,
}

impl SortKey {
    pub const ALL: [SortKey; 8] = [
        SortKey::Id,
        SortKey::FirstName,
        SortKey::LastName,
        SortKey::Username,
        SortKey::Email,
        SortKey::SignupDate,
        SortKey::LastAccess,
        SortKey::Balance,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Id => "id",
            SortKey::FirstName => "first_name",
            SortKey::LastName => "last_name",
            SortKey::Username => "username",
            SortKey::Email => "email",
            SortKey::SignupDate => "signup",
            SortKey::LastAccess => "last_access",
            SortKey::Balance => "balance",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SortKey::Id => "ID",
            SortKey::FirstName => "First name",
            SortKey::LastName => "Last name",
            SortKey::Username => "Username",
            SortKey::Email => "Email",
            SortKey::SignupDate => "Signup date",
            SortKey::LastAccess => "Last access",
            SortKey::Balance => "Balance",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        SortKey::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// What orders equal values before the id does: people sharing a first name are
    /// listed by last name and the other way round.
    pub fn tie_break(self) -> Option<SortKey> {
        match self {
            SortKey::FirstName => Some(SortKey::LastName),
            SortKey::LastName => Some(SortKey::FirstName),
            _ => None,
        }
    }

    /// The direction a first click on this header sorts in: names A→Z, numbers and
    /// dates newest/largest first.
    pub fn natural_dir(self) -> SortDir {
        match self {
            SortKey::FirstName | SortKey::LastName | SortKey::Username | SortKey::Email => {
                SortDir::Asc
            }
            _ => SortDir::Desc,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SortDir {
    Asc,
    Desc,
}

impl SortDir {
    pub fn as_str(self) -> &'static str {
        match self {
            SortDir::Asc => "asc",
            SortDir::Desc => "desc",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "asc" => Some(SortDir::Asc),
            "desc" => Some(SortDir::Desc),
            _ => None,
        }
    }

    pub fn flip(self) -> Self {
        match self {
            SortDir::Asc => SortDir::Desc,
            SortDir::Desc => SortDir::Asc,
        }
    }
}

/// The whole table state. `Default` is the plain first page, newest users first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserQuery {
    /// Free-text search (trimmed, at most [`MAX_SEARCH_CHARS`]).
    pub q: String,
    pub status: StatusFilter,
    /// Tag names, de-duplicated case-insensitively, in the order chosen.
    pub tags: Vec<String>,
    pub tag_mode: TagMode,
    /// Signed up on or after this day (UTC).
    pub signup_from: Option<NaiveDate>,
    /// Signed up on or before this day (UTC), inclusive.
    pub signup_to: Option<NaiveDate>,
    pub sort: SortKey,
    pub dir: SortDir,
    /// 1-based.
    pub page: u32,
    /// One of [`PAGE_SIZES`].
    pub per_page: u32,
    /// Columns hidden in this view; `None` means "the admin's saved choice".
    pub hidden: Option<Vec<Column>>,
    /// Filters on custom profile fields, one per field, sorted by key.
    pub fields: Vec<FieldFilter>,
    /// Sorting by a custom field (its key) instead of `sort`.
    pub sort_field: Option<String>,
    /// Custom field columns shown, in order; `None` means "the admin's saved choice".
    pub field_columns: Option<Vec<String>>,
}

/// On the wire a `UserQuery` is its query string (see [`super::wire`]).
impl super::wire::QueryString for UserQuery {
    fn parse_query_string(s: &str) -> Self {
        UserQuery::from_query_string(s)
    }
    fn query_string(&self) -> String {
        self.to_query_string()
    }
}

impl Serialize for UserQuery {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        super::wire::serialize(self, s)
    }
}

impl<'de> Deserialize<'de> for UserQuery {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        super::wire::deserialize(d)
    }
}

impl Default for UserQuery {
    fn default() -> Self {
        UserQuery {
            q: String::new(),
            status: StatusFilter::All,
            tags: Vec::new(),
            tag_mode: TagMode::All,
            signup_from: None,
            signup_to: None,
            sort: SortKey::Id,
            dir: SortDir::Desc,
            page: 1,
            per_page: PAGE_SIZES[0],
            hidden: None,
            fields: Vec::new(),
            sort_field: None,
            field_columns: None,
        }
    }
}

impl UserQuery {
    /// The search text's words, or `None` without one (see [`search_terms`]).
    pub fn search_terms(&self) -> Option<SearchTerms> {
        search_terms(&self.q)
    }

    /// Reads the query string pairs (already percent-decoded). Last value wins for
    /// repeated keys; bad values are ignored.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut q = UserQuery::default();
        let mut dir = None;
        for (key, value) in pairs {
            let value = value.trim();
            match key {
                "q" => q.q = clean_search(value),
                "status" => q.status = StatusFilter::parse(value).unwrap_or_default(),
                "tags" => q.tags = split_tags(value),
                "tag_mode" => q.tag_mode = TagMode::parse(value).unwrap_or_default(),
                "from" => q.signup_from = parse_day(value),
                "to" => q.signup_to = parse_day(value),
                "sort" => match value.strip_prefix(field_query::SORT_PREFIX) {
                    Some(key) if field_query::plausible_key(key) => {
                        q.sort = SortKey::Id;
                        q.sort_field = Some(key.to_string());
                    }
                    _ => {
                        q.sort = SortKey::parse(value).unwrap_or_default();
                        q.sort_field = None;
                    }
                },
                "fields" => q.field_columns = Some(field_query::parse_columns(value)),
                "dir" => dir = SortDir::parse(value),
                "page" => q.page = value.parse::<u32>().ok().filter(|p| *p >= 1).unwrap_or(1),
                "per_page" => {
                    q.per_page = value
                        .parse::<u32>()
                        .ok()
                        .filter(|n| PAGE_SIZES.contains(n))
                        .unwrap_or(PAGE_SIZES[0])
                }
                "hide" => {
                    let mut cols: Vec<Column> =
                        value.split(',').filter_map(Column::parse).collect();
                    cols.sort();
                    cols.dedup();
                    q.hidden = Some(cols);
                }
                other => {
                    if let Some(key) = other
                        .strip_prefix(field_query::FILTER_PREFIX)
                        .filter(|k| field_query::plausible_key(k))
                    {
                        field_query::set_filter(&mut q.fields, key, FieldCondition::parse(value));
                    }
                }
            }
        }
        q.dir = dir.unwrap_or_else(|| q.natural_dir());
        q
    }

    /// Parses a raw query string such as `q=smith&status=banned` (leading `?` allowed).
    pub fn from_query_string(s: &str) -> Self {
        let s = s.strip_prefix('?').unwrap_or(s);
        let pairs: Vec<(String, String)> =
            form_urlencoded::parse(s.as_bytes()).into_owned().collect();
        Self::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    /// The query string for this state, without a leading `?`; default values are left
    /// out, so the plain view is just `/users`.
    pub fn to_query_string(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        if !self.q.is_empty() {
            out.append_pair("q", &self.q);
        }
        if self.status != StatusFilter::All {
            out.append_pair("status", self.status.as_str());
        }
        if !self.tags.is_empty() {
            out.append_pair("tags", &self.tags.join(","));
        }
        // Kept even before a tag is chosen, so the mode picked first is not lost.
        if self.tag_mode != TagMode::All {
            out.append_pair("tag_mode", self.tag_mode.as_str());
        }
        if let Some(d) = self.signup_from {
            out.append_pair("from", &format_day(d));
        }
        if let Some(d) = self.signup_to {
            out.append_pair("to", &format_day(d));
        }
        for f in &self.fields {
            out.append_pair(
                &format!("{}{}", field_query::FILTER_PREFIX, f.key),
                &f.condition.to_param(),
            );
        }
        if let Some(key) = &self.sort_field {
            out.append_pair("sort", &format!("{}{key}", field_query::SORT_PREFIX));
        } else if self.sort != SortKey::Id {
            out.append_pair("sort", self.sort.as_str());
        }
        if self.dir != self.natural_dir() {
            out.append_pair("dir", self.dir.as_str());
        }
        if self.page != 1 {
            out.append_pair("page", &self.page.to_string());
        }
        if self.per_page != PAGE_SIZES[0] {
            out.append_pair("per_page", &self.per_page.to_string());
        }
        if let Some(hidden) = &self.hidden {
            let keys: Vec<&str> = hidden.iter().map(|c| c.key()).collect();
            out.append_pair("hide", &keys.join(","));
        }
        if let Some(columns) = &self.field_columns {
            out.append_pair("fields", &columns.join(","));
        }
        out.finish()
    }

    /// `/users?...` for this state.
    pub fn href(&self) -> String {
        let qs = self.to_query_string();
        if qs.is_empty() {
            "/users".to_string()
        } else {
            format!("/users?{qs}")
        }
    }

    /// The same filters on page 1: any change of filter or sort starts from the top.
    pub fn first_page(mut self) -> Self {
        self.page = 1;
        self
    }

    /// Whether search, status, tags or dates narrow the list.
    pub fn is_filtered(&self) -> bool {
        !self.q.is_empty()
            || self.status != StatusFilter::All
            || !self.tags.is_empty()
            || self.signup_from.is_some()
            || self.signup_to.is_some()
            || !self.fields.is_empty()
    }

    /// Only what chooses the users (search, status, tags, dates, fields): the same for
    /// every page, sort and page size of one set of matches.
    pub fn filters_only(&self) -> Self {
        UserQuery {
            page: 1,
            per_page: PAGE_SIZES[0],
            sort: Default::default(),
            sort_field: None,
            dir: SortDir::Desc,
            hidden: None,
            field_columns: None,
            ..self.clone()
        }
    }

    /// The same view (sort, page size, columns) with every filter cleared, on page 1.
    pub fn without_filters(&self) -> Self {
        UserQuery {
            sort: self.sort,
            dir: self.dir,
            per_page: self.per_page,
            hidden: self.hidden.clone(),
            sort_field: self.sort_field.clone(),
            field_columns: self.field_columns.clone(),
            ..Default::default()
        }
    }

    /// Rows to skip for the current page.
    pub fn offset(&self) -> u64 {
        u64::from(self.page.saturating_sub(1)) * u64::from(self.per_page)
    }

    /// The query the list fetch depends on: everything except column visibility, so
    /// showing or hiding a column never refetches rows.
    pub fn for_fetch(&self) -> Self {
        UserQuery {
            hidden: None,
            field_columns: None,
            ..self.clone()
        }
    }

    /// The direction a first click sorts in: see [`SortKey::natural_dir`]; a custom
    /// field sorts ascending first.
    pub fn natural_dir(&self) -> SortDir {
        if self.sort_field.is_some() {
            SortDir::Asc
        } else {
            self.sort.natural_dir()
        }
    }

    /// Whether the table is sorted by built-in `key` (not by a custom field).
    pub fn sorted_on(&self, key: SortKey) -> bool {
        self.sort_field.is_none() && self.sort == key
    }

    /// Sorting by `key`: a second click on the active column flips the direction.
    pub fn sorted_by(&self, key: SortKey) -> Self {
        let dir = if self.sorted_on(key) {
            self.dir.flip()
        } else {
            key.natural_dir()
        };
        UserQuery {
            sort: key,
            sort_field: None,
            dir,
            ..self.clone()
        }
        .first_page()
    }

    /// Sorting by custom field `key`: a second click flips the direction.
    pub fn sorted_by_field(&self, key: &str) -> Self {
        let dir = if self.sort_field.as_deref() == Some(key) {
            self.dir.flip()
        } else {
            SortDir::Asc
        };
        UserQuery {
            sort: SortKey::Id,
            sort_field: Some(key.to_string()),
            dir,
            ..self.clone()
        }
        .first_page()
    }

    /// The filter on custom field `key`, if any.
    pub fn field_filter(&self, key: &str) -> Option<&FieldCondition> {
        self.fields
            .iter()
            .find(|f| f.key == key)
            .map(|f| &f.condition)
    }

    /// The same view with the filter on `key` set (or removed), on page 1.
    pub fn with_field_filter(&self, key: &str, condition: Option<FieldCondition>) -> Self {
        let mut q = self.clone();
        field_query::set_filter(&mut q.fields, key, condition);
        q.first_page()
    }
}

/// A search text as kept: whitespace collapsed, at most [`MAX_SEARCH_CHARS`].
pub(crate) fn clean_search(value: &str) -> String {
    let collapsed = value.split_whitespace().collect::<Vec<_>>().join(" ");
    // Cut to length, then trimmed again: a cut right after a space would leave one,
    // and the URL written from it would read back as another search.
    let cut: String = collapsed.chars().take(MAX_SEARCH_CHARS).collect();
    cut.trim_end().to_string()
}

fn split_tags(value: &str) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for tag in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        if !tags.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
            tags.push(tag.to_string());
        }
    }
    tags
}

/// How a search text is matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchTerms {
    /// Words of three or more characters: matched through the trigram index.
    pub indexed: Vec<String>,
    /// Shorter words: substring filters on rows the index found, or, when there is no
    /// long word, a prefix match on names, username and email.
    pub short: Vec<String>,
}

/// Splits search text into lower-case words. Text that looks like a phone number
/// ("+46 70-123 45 67") becomes one word of its digits (and leading +), as phones are
/// stored in E.164.
pub fn search_terms(q: &str) -> Option<SearchTerms> {
    let q = q.trim();
    if q.is_empty() {
        return None;
    }
    let phone_like = q
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().".contains(c))
        && q.chars().filter(char::is_ascii_digit).count() >= 3;
    let words: Vec<String> = if phone_like {
        let digits: String = q.chars().filter(char::is_ascii_digit).collect();
        let plus = if q.starts_with('+') { "+" } else { "" };
        vec![format!("{plus}{digits}")]
    } else {
        q.split_whitespace().map(str::to_lowercase).collect()
    };
    let (indexed, short) = words.into_iter().partition(|w| w.chars().count() >= 3);
    Some(SearchTerms { indexed, short })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> UserQuery {
        UserQuery::from_query_string(s)
    }

    /// Found by the query_string fuzz target: a search cut to its length right after a
    /// space kept that space, and its URL read back as another search.
    #[test]
    fn a_search_cut_to_length_reads_back_the_same() {
        let long = format!("{} tail", "a".repeat(MAX_SEARCH_CHARS - 1));
        let q = parse(&format!("q={long}"));
        assert_eq!(q.q, "a".repeat(MAX_SEARCH_CHARS - 1));
        assert_eq!(parse(&q.to_query_string()), q);
        // A custom field's "contains" filter is cut the same way.
        let q = parse(&format!("f.note=contains:{long}"));
        assert_eq!(q.fields.len(), 1, "{q:?}");
        assert_eq!(parse(&q.to_query_string()), q);
    }

    #[test]
    fn empty_query_is_default_and_prints_nothing() {
        assert_eq!(parse(""), UserQuery::default());
        assert_eq!(UserQuery::default().to_query_string(), "");
        assert_eq!(UserQuery::default().href(), "/users");
    }

    #[test]
    fn parses_each_key() {
        type Check = fn(&UserQuery) -> bool;
        let cases: &[(&str, &str, Check)] = &[
            ("search text", "q=smith", |q| q.q == "smith"),
            ("search collapses spaces", "q=++john+++smith+", |q| {
                q.q == "john smith"
            }),
            ("status banned", "status=banned", |q| {
                q.status == StatusFilter::Only(Status::Banned)
            }),
            ("status invited", "status=invited", |q| {
                q.status == StatusFilter::Only(Status::Invited)
            }),
            ("bad status is all", "status=zzz", |q| {
                q.status == StatusFilter::All
            }),
            ("tags split and trimmed", "tags=vip,+beta", |q| {
                q.tags == ["vip", "beta"]
            }),
            ("tags dedup ignoring case", "tags=vip,VIP,beta", |q| {
                q.tags == ["vip", "beta"]
            }),
            ("tag mode none", "tags=vip&tag_mode=none", |q| {
                q.tag_mode == TagMode::None
            }),
            ("from date", "from=2024-02-29", |q| {
                q.signup_from == NaiveDate::from_ymd_opt(2024, 2, 29)
            }),
            ("bad date ignored", "to=2023-02-29", |q| {
                q.signup_to.is_none()
            }),
            ("sort last name ascends by default", "sort=last_name", |q| {
                q.sort == SortKey::LastName && q.dir == SortDir::Asc
            }),
            ("sort balance descends by default", "sort=balance", |q| {
                q.dir == SortDir::Desc
            }),
            ("explicit dir", "sort=last_name&dir=desc", |q| {
                q.dir == SortDir::Desc
            }),
            ("dir before sort", "dir=desc&sort=email", |q| {
                q.dir == SortDir::Desc
            }),
            ("page", "page=7", |q| q.page == 7 && q.offset() == 150),
            ("page zero is one", "page=0", |q| q.page == 1),
            ("page junk is one", "page=-3", |q| q.page == 1),
            ("per page 100", "per_page=100&page=3", |q| {
                q.per_page == 100 && q.offset() == 200
            }),
            ("per page not offered", "per_page=33", |q| q.per_page == 25),
            ("hidden columns", "hide=phone,balance", |q| {
                q.hidden == Some(vec![Column::Phone, Column::Balance])
            }),
            ("hide nothing is explicit", "hide=", |q| {
                q.hidden == Some(vec![])
            }),
            ("unknown keys ignored", "utm_source=x", |q| {
                *q == UserQuery::default()
            }),
        ];
        for (what, input, check) in cases {
            assert!(
                check(&parse(input)),
                "{what}: {input:?} parsed as {:?}",
                parse(input)
            );
        }
    }

    #[test]
    fn long_search_is_cut_at_a_char_boundary() {
        let long = "é".repeat(MAX_SEARCH_CHARS + 10);
        let q = parse(&format!("q={long}"));
        assert_eq!(q.q.chars().count(), MAX_SEARCH_CHARS);
    }

    #[test]
    fn round_trips_through_the_query_string() {
        let full = UserQuery {
            q: "Anna & Co, +46".into(),
            status: StatusFilter::Only(Status::Active),
            tags: vec!["vip".into(), "early adopter".into()],
            tag_mode: TagMode::Any,
            signup_from: NaiveDate::from_ymd_opt(2024, 1, 1),
            signup_to: NaiveDate::from_ymd_opt(2024, 12, 31),
            sort: SortKey::LastName,
            dir: SortDir::Desc,
            page: 4,
            per_page: 50,
            hidden: Some(vec![Column::Phone, Column::Tags]),
            fields: vec![
                FieldFilter {
                    key: "birthday".into(),
                    condition: FieldCondition::Range {
                        from: Some("1990-01-01".into()),
                        to: None,
                    },
                },
                FieldFilter {
                    key: "plan".into(),
                    condition: FieldCondition::IsNot(vec!["Free".into(), "Trial".into()]),
                },
            ],
            sort_field: None,
            field_columns: Some(vec!["plan".into(), "birthday".into()]),
        };
        let cases = [
            ("default", UserQuery::default()),
            ("everything set", full.clone()),
            (
                "only search",
                UserQuery {
                    q: "o'brien".into(),
                    ..Default::default()
                },
            ),
            (
                "sorted ascending by balance",
                UserQuery {
                    sort: SortKey::Balance,
                    dir: SortDir::Asc,
                    ..Default::default()
                },
            ),
            (
                "nothing hidden",
                UserQuery {
                    hidden: Some(vec![]),
                    ..Default::default()
                },
            ),
            (
                "sorted by a custom field, descending",
                UserQuery {
                    sort_field: Some("plan".into()),
                    dir: SortDir::Desc,
                    ..Default::default()
                },
            ),
            (
                "no field columns is explicit",
                UserQuery {
                    field_columns: Some(vec![]),
                    ..Default::default()
                },
            ),
        ];
        for (what, query) in cases {
            let qs = query.to_query_string();
            assert_eq!(parse(&qs), query, "{what}: {qs}");
            assert_eq!(parse(&format!("?{qs}")), query, "{what} with a leading ?");
        }
    }

    #[test]
    fn field_sort_and_filters_read_from_the_url() {
        let q = parse("sort=field.plan&f.plan=is:Pro&f.seats=range:2..&f.x=is:y&f.BAD=yes");
        assert_eq!(q.sort_field.as_deref(), Some("plan"));
        assert_eq!(q.dir, SortDir::Asc);
        let keys: Vec<&str> = q.fields.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(
            keys,
            ["plan", "seats"],
            "a one-letter or upper-case key is no field"
        );
        assert!(q.is_filtered());
        let later = parse("sort=field.plan&sort=email");
        assert_eq!((later.sort, later.sort_field), (SortKey::Email, None));
        let flipped = q.sorted_by_field("plan");
        assert_eq!(flipped.dir, SortDir::Desc);
        let by_name = flipped.sorted_by(SortKey::LastName);
        assert_eq!((by_name.sort_field, by_name.dir), (None, SortDir::Asc));
        let cleared = q.without_filters();
        assert!(cleared.fields.is_empty() && cleared.sort_field.as_deref() == Some("plan"));
        let unset = q.with_field_filter("plan", None);
        assert_eq!(unset.field_filter("plan"), None);
        assert!(unset.field_filter("seats").is_some());
    }

    #[test]
    fn tag_mode_is_kept_before_tags_are_chosen() {
        let q = UserQuery {
            tag_mode: TagMode::None,
            ..Default::default()
        };
        assert_eq!(q.to_query_string(), "tag_mode=none");
        assert_eq!(parse(&q.to_query_string()), q);
    }

    #[test]
    fn sorting_flips_on_second_click_and_resets_page() {
        let q = UserQuery {
            page: 9,
            ..Default::default()
        };
        let once = q.sorted_by(SortKey::LastName);
        assert_eq!(
            (once.sort, once.dir, once.page),
            (SortKey::LastName, SortDir::Asc, 1)
        );
        let twice = once.sorted_by(SortKey::LastName);
        assert_eq!(twice.dir, SortDir::Desc);
        let other = twice.sorted_by(SortKey::SignupDate);
        assert_eq!(other.dir, SortDir::Desc);
    }

    #[test]
    fn clearing_filters_keeps_the_view() {
        let q = parse("q=ann&status=banned&tags=vip&tag_mode=none&from=2024-01-01&sort=email&per_page=50&page=3&hide=phone");
        assert!(q.is_filtered());
        let cleared = q.without_filters();
        assert!(!cleared.is_filtered());
        assert_eq!(
            cleared.to_query_string(),
            "sort=email&per_page=50&hide=phone"
        );
        for only in [
            "q=x",
            "status=active",
            "tags=a",
            "from=2024-01-01",
            "to=2024-01-01",
        ] {
            assert!(parse(only).is_filtered(), "{only}");
        }
        assert!(!parse("sort=email&page=2&tag_mode=any").is_filtered());
    }

    #[test]
    fn fetch_key_ignores_hidden_columns() {
        let a = UserQuery {
            hidden: Some(vec![Column::Phone]),
            ..Default::default()
        };
        assert_eq!(a.for_fetch(), UserQuery::default().for_fetch());
    }

    /// Property: any printable input survives parse -> print -> parse unchanged.
    #[test]
    fn print_parse_is_stable_for_arbitrary_input() {
        let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
        let alphabet: Vec<char> = "ab ,&=?%+#é日-_.:/\\\"'<>0129".chars().collect();
        for _ in 0..2000 {
            let mut s = String::new();
            for _ in 0..(seed % 24) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                s.push(alphabet[(seed % alphabet.len() as u64) as usize]);
            }
            let key = ["q", "tags", "status", "page", "hide", "from"][(seed % 6) as usize];
            let raw = form_urlencoded::Serializer::new(String::new())
                .append_pair(key, &s)
                .finish();
            let once = parse(&raw);
            let again = parse(&once.to_query_string());
            assert_eq!(again, once, "input {key}={s:?}");
        }
    }

    #[test]
    fn search_terms_split_and_phone_numbers_collapse() {
        let cases = [
            ("", None),
            ("  ", None),
            ("Smith", Some((vec!["smith"], vec![]))),
            ("jo smith", Some((vec!["smith"], vec!["jo"]))),
            ("li", Some((vec![], vec!["li"]))),
            ("+46 70-123 45 67", Some((vec!["+46701234567"], vec![]))),
            ("070 12", Some((vec!["07012"], vec![]))),
            ("12", Some((vec![], vec!["12"]))),
        ];
        for (input, want) in cases {
            let got = search_terms(input);
            let want = want.map(|(i, s): (Vec<&str>, Vec<&str>)| SearchTerms {
                indexed: i.into_iter().map(String::from).collect(),
                short: s.into_iter().map(String::from).collect(),
            });
            assert_eq!(got, want, "{input:?}");
        }
    }
}
