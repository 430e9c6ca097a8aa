//! A small SQL text builder with bound values. Placeholders are `$1, $2, ...`, which
//! both PostgreSQL and SQLite (through sqlx) accept, so one builder serves both.

use sea_orm::{DbBackend, Statement, Value};

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

    /// Appends another fragment, renumbering its placeholders.
    pub fn append(&mut self, other: &Sql) -> &mut Self {
        let offset = self.values.len();
        let mut rest = other.text.as_str();
        while let Some(pos) = rest.find('$') {
            self.text.push_str(&rest[..pos]);
            let digits: String = rest[pos + 1..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            match digits.parse::<usize>() {
                Ok(n) => self.text.push_str(&format!("${}", n + offset)),
                Err(_) => self.text.push('$'),
            }
            rest = &rest[pos + 1 + digits.len()..];
        }
        self.text.push_str(rest);
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

    pub fn statement(&self, backend: DbBackend) -> Statement {
        Statement::from_sql_and_values(backend, self.text.clone(), self.values.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
