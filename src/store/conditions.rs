//! A `WHERE` clause made of only the filters a request gave.
//!
//! List queries used to be one statement for every combination of filters,
//! each written `($n IS NULL OR column = $n)`. Both databases plan such a
//! statement without knowing which filters are empty: SQLite picks one index
//! for all of them, and PostgreSQL's generic plan (after five executions of a
//! prepared statement) does the same. On a million events that turned a
//! filter on a rare event type into a scan of the merchant's whole history.
//! Built here instead, each query names only its own conditions, and the
//! planner serves it from the index that fits (`tests/it/query_plans.rs`
//! checks that it does).

use chrono::{DateTime, Utc};

use super::to_millis;

/// One bound value. Lists bind text, times (milliseconds), counts and flags.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SqlValue {
    Text(String),
    Int(i64),
    Bool(bool),
}

impl From<&str> for SqlValue {
    fn from(value: &str) -> Self {
        SqlValue::Text(value.to_owned())
    }
}

impl From<i64> for SqlValue {
    fn from(value: i64) -> Self {
        SqlValue::Int(value)
    }
}

impl From<bool> for SqlValue {
    fn from(value: bool) -> Self {
        SqlValue::Bool(value)
    }
}

impl From<DateTime<Utc>> for SqlValue {
    fn from(value: DateTime<Utc>) -> Self {
        SqlValue::Int(to_millis(value))
    }
}

/// Conditions joined with `AND`, and the values their placeholders
/// (`$1`, `$2`, … in order) stand for.
#[derive(Debug, Default)]
pub(crate) struct Conditions {
    clauses: Vec<String>,
    values: Vec<SqlValue>,
}

impl Conditions {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Adds a value to bind and returns its placeholder, for a clause (or
    /// a `LIMIT`) that uses it.
    pub(crate) fn value(&mut self, value: impl Into<SqlValue>) -> String {
        self.values.push(value.into());
        format!("${}", self.values.len())
    }

    /// Adds a condition.
    pub(crate) fn push(&mut self, clause: impl Into<String>) {
        self.clauses.push(clause.into());
    }

    /// Adds `clause(placeholder)` when the filter is given.
    pub(crate) fn when<T: Into<SqlValue>>(
        &mut self,
        filter: Option<T>,
        clause: impl FnOnce(&str) -> String,
    ) {
        if let Some(value) = filter {
            let placeholder = self.value(value);
            self.push(clause(&placeholder));
        }
    }

    /// `column` holds the event type `filter` names: that type, or for
    /// `category.*` any type of the catalog in that category (the wildcard
    /// subscriptions use). The category's types come from the small catalog
    /// table, so the list is still read through the index on the type.
    pub(crate) fn event_type_is(&mut self, column: &str, filter: &str) {
        match filter.strip_suffix('*') {
            Some(prefix) => {
                let prefix = self.value(prefix);
                self.push(format!(
                    "{column} IN (SELECT c.name FROM event_types c \
                     WHERE substr(c.name, 1, length({prefix})) = {prefix})"
                ));
            }
            None => {
                let name = self.value(filter);
                self.push(format!("{column} = {name}"));
            }
        }
    }

    /// Rows of `table` (an alias) strictly older than a page cursor, in the
    /// lists' order (`created_at DESC, id DESC`), when there is one.
    pub(crate) fn older_than<I: AsRef<str>>(
        &mut self,
        table: &str,
        cursor: &Option<(DateTime<Utc>, I)>,
    ) {
        if let Some((at, id)) = cursor {
            let at = self.value(*at);
            let id = self.value(id.as_ref());
            self.push(format!(
                "({table}.created_at < {at} OR ({table}.created_at = {at} AND {table}.id < {id}))"
            ));
        }
    }

    /// `WHERE …` with every condition, or nothing when there is none.
    pub(crate) fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        }
    }

    /// The values in placeholder order.
    pub(crate) fn values(&self) -> &[SqlValue] {
        &self.values
    }
}

/// Binds `Conditions::values` to a query, in order (inside `on_pool!`, so
/// each backend's query type is concrete).
///
/// The statement is not kept prepared. PostgreSQL plans a kept statement
/// once for any values after five runs (a generic plan), and that plan
/// cannot know that this endpoint or type is one of a big merchant's: on a
/// million events it walked 500 ms of history for a page that takes 4 ms
/// planned for its values. An unnamed statement is planned for the values
/// bound, each time (about a millisecond of planning).
macro_rules! bind_values {
    ($query:expr, $values:expr) => {{
        let mut query = $query.persistent(false);
        for value in $values {
            query = match value {
                $crate::store::conditions::SqlValue::Text(text) => query.bind(text.as_str()),
                $crate::store::conditions::SqlValue::Int(number) => query.bind(*number),
                $crate::store::conditions::SqlValue::Bool(flag) => query.bind(*flag),
            };
        }
        query
    }};
}
pub(crate) use bind_values;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_given_filters_are_in_the_clause_numbered_in_order() {
        let mut conditions = Conditions::new();
        conditions.push("merchant_id IS NOT NULL");
        conditions.when(None::<&str>, |p| format!("event_type = {p}"));
        conditions.when(Some("payin.succeeded"), |p| format!("event_type = {p}"));
        conditions.when(Some(true), |p| format!("live_mode = {p}"));
        let limit = conditions.value(50_i64);
        assert_eq!(
            conditions.sql(),
            " WHERE merchant_id IS NOT NULL AND event_type = $1 AND live_mode = $2"
        );
        assert_eq!(limit, "$3");
        assert_eq!(
            conditions.values(),
            &[
                SqlValue::Text("payin.succeeded".into()),
                SqlValue::Bool(true),
                SqlValue::Int(50)
            ]
        );
    }

    #[test]
    fn no_condition_is_no_where() {
        assert_eq!(Conditions::new().sql(), "");
    }
}
