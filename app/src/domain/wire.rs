//! How the query types that live in a URL cross the wire: as their query string, so a
//! server function reads its input through the very parser the address bar goes
//! through (page sizes, search lengths, unknown values). A JSON object of the same
//! parameters (`{"q": "smith", "per_page": 100}`) is read the same way; no other shape
//! can slip past the parser's rules.

use std::marker::PhantomData;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serializer};

/// A type whose canonical form is a URL query string.
pub trait QueryString: Sized {
    fn parse_query_string(s: &str) -> Self;
    fn query_string(&self) -> String;
}

pub fn serialize<T: QueryString, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&value.query_string())
}

pub fn deserialize<'de, T: QueryString, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    d.deserialize_any(QueryVisitor(PhantomData))
}

struct QueryVisitor<T>(PhantomData<T>);

/// One parameter's value in the object form.
#[derive(Deserialize)]
#[serde(untagged)]
enum Param {
    Text(String),
    Whole(i64),
    Number(f64),
    Flag(bool),
    List(Vec<String>),
}

impl Param {
    fn text(self) -> String {
        match self {
            Param::Text(s) => s,
            Param::Whole(n) => n.to_string(),
            Param::Number(n) => n.to_string(),
            Param::Flag(b) => b.to_string(),
            Param::List(items) => items.join(","),
        }
    }
}

impl<'de, T: QueryString> Visitor<'de> for QueryVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a query string, or an object of its parameters")
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<T, E> {
        Ok(T::parse_query_string(s))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut qs = form_urlencoded::Serializer::new(String::new());
        while let Some((key, value)) = map.next_entry::<String, Option<Param>>()? {
            if let Some(value) = value {
                qs.append_pair(&key, &value.text());
            }
        }
        Ok(T::parse_query_string(&qs.finish()))
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::audit::{AuditQuery, MAX_FILTER_CHARS};
    use crate::domain::query::{MAX_SEARCH_CHARS, PAGE_SIZES};
    use crate::domain::{Status, StatusFilter, UserQuery};

    #[test]
    fn a_user_query_crosses_the_wire_as_its_query_string() {
        let q =
            UserQuery::from_query_string("q=smith&status=banned&tags=vip,new&per_page=100&page=3");
        let json = serde_json::to_value(&q).unwrap();
        assert_eq!(json, serde_json::json!(q.to_query_string()));
        assert_eq!(serde_json::from_value::<UserQuery>(json).unwrap(), q);
    }

    #[test]
    fn json_input_obeys_the_url_parsers_rules() {
        let long = "x".repeat(10_000);
        let q: UserQuery = serde_json::from_value(serde_json::json!({
            "q": long, "per_page": 100000, "page": 0, "status": "banned", "tags": ["vip"]
        }))
        .unwrap();
        assert_eq!(
            q.per_page, PAGE_SIZES[0],
            "an unknown page size is the default"
        );
        assert_eq!(q.page, 1);
        assert_eq!(q.q.chars().count(), MAX_SEARCH_CHARS);
        assert_eq!(
            (q.status, q.tags.clone()),
            (StatusFilter::Only(Status::Banned), vec!["vip".to_string()])
        );
        let from_string: UserQuery =
            serde_json::from_value(serde_json::json!("per_page=100000")).unwrap();
        assert_eq!(from_string.per_page, PAGE_SIZES[0]);
        // Any other shape is refused outright.
        assert!(serde_json::from_value::<UserQuery>(serde_json::json!(["per_page", 9])).is_err());
    }

    #[test]
    fn audit_filters_are_bounded_too() {
        let a: AuditQuery = serde_json::from_value(serde_json::json!({
            "actor": "a".repeat(5000), "page": "0"
        }))
        .unwrap();
        assert_eq!(a.actor.chars().count(), MAX_FILTER_CHARS);
        assert_eq!(a.page, 1);
    }
}
