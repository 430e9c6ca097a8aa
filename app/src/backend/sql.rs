//! A small SQL text builder with bound values. Fragments are written with `$1, $2, ...`
//! placeholders, always numbered in text order; PostgreSQL gets them as they are, SQLite
//! gets anonymous `?` (see [`super::dialect::Dialect::statement`]).

use sea_orm::{QueryResult, Value};

use super::ServiceError;

#[derive(Debug, Default, Clone)]
pub struct Sql {
    text: String,
    values: Vec<Value>,
}

impl Sql {
    pub fn new(text: &str) -> Self {
        Sql {
            text: text.to_string(),
            values: Vec::new(),
        }
    }

    /// Appends literal SQL.
    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder for `value`.
    pub fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.values.push(value.into());
        self.text.push('$');
        self.text.push_str(&self.values.len().to_string());
        self
    }

    /// Appends `$a, $b, ...` for each value.
    pub fn bind_list<V: Into<Value>>(&mut self, values: impl IntoIterator<Item = V>) -> &mut Self {
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(v);
        }
        self
    }

    /// Appends another fragment, renumbering its placeholders after ours.
    pub fn append(&mut self, other: &Sql) -> &mut Self {
        let offset = self.values.len();
        self.text.push_str(&rewrite_placeholders(&other.text, |n| {
            format!("${}", n + offset)
        }));
        self.values.extend(other.values.iter().cloned());
        self
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn values(&self) -> &[Value] {
        &self.values
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// The text and the values, for [`super::dialect::Dialect::statement`].
    pub fn into_parts(self) -> (String, Vec<Value>) {
        (self.text, self.values)
    }
}

/// `%word%` with LIKE wildcards in the word escaped (`\` is the escape character).
pub fn like_pattern(word: &str) -> String {
    let mut p = String::from("%");
    for c in word.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// The text with every `$N` written as an anonymous `?` (SQLite's placeholders).
pub(super) fn anonymous_placeholders(text: &str) -> String {
    rewrite_placeholders(text, |_| "?".to_string())
}

/// Rewrites every `$N` in `text` with `placeholder(N)`; a `$` without digits stays.
fn rewrite_placeholders(text: &str, placeholder: impl Fn(usize) -> String) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut rest = text;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let digits = rest[pos + 1..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        match rest[pos + 1..pos + 1 + digits].parse::<usize>() {
            Ok(n) => out.push_str(&placeholder(n)),
            Err(_) => out.push('$'),
        }
        rest = &rest[pos + 1 + digits..];
    }
    out.push_str(rest);
    out
}

pub(crate) fn rows<T>(
    result: Vec<QueryResult>,
    f: impl Fn(&QueryResult) -> Result<T, sea_orm::DbErr>,
) -> Result<Vec<T>, ServiceError> {
    Ok(result.iter().map(f).collect::<Result<Vec<_>, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(text: &str) -> Vec<usize> {
        text.split('$')
            .skip(1)
            .filter_map(|p| p.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok())
            .collect()
    }

    #[test]
    fn binds_number_in_order_and_append_renumbers() {
        let mut a = Sql::new("SELECT * FROM t WHERE a = ");
        a.bind(1_i64)
            .push(" AND b IN (")
            .bind_list(["x", "y"])
            .push(")");
        let mut b = Sql::new(" AND c = ");
        b.bind(true);
        a.append(&b);
        assert_eq!(
            a.text(),
            "SELECT * FROM t WHERE a = $1 AND b IN ($2, $3) AND c = $4"
        );
        assert_eq!(a.values().len(), 4);
        assert_eq!(
            numbers(a.text()),
            vec![1, 2, 3, 4],
            "placeholders appear in bind order"
        );
    }
}
