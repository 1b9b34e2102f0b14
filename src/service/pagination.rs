//! Lists: `?limit=` (default 50, at most 250) and an opaque `?cursor=`; the
//! answer is `{"data": [...], "next_cursor": "..." | null}`, newest first.
//! The cursor is the (created_at, id) of the last item: keyset pagination,
//! stable while new items are inserted.

use super::ServiceError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Items per page when `limit` is not given.
pub const DEFAULT_LIMIT: u32 = 50;
/// Most items per page.
pub const MAX_LIMIT: u32 = 250;

/// One page of a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub data: Vec<T>,
    /// Pass as `cursor` for the next (older) page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// A list that is never paged (a merchant's endpoints, keys, the catalog).
    pub fn whole(data: Vec<T>) -> Self {
        Page {
            data,
            next_cursor: None,
        }
    }
}

/// Checks `limit`.
pub fn limit(requested: Option<u32>) -> Result<u32, ServiceError> {
    match requested {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(n) => Err(ServiceError::invalid(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}, not {n}"),
        )),
    }
}

fn bad_cursor() -> ServiceError {
    ServiceError::invalid("cursor", "not a cursor from this API")
}

/// Reads an optional cursor into (created_at, id), the id parsed by `parse_id`.
pub fn decode_cursor_as<T, E>(
    cursor: Option<&str>,
    parse_id: impl Fn(&str) -> Result<T, E>,
) -> Result<Option<(DateTime<Utc>, T)>, ServiceError> {
    let Some(cursor) = cursor else {
        return Ok(None);
    };
    let (at, id) = decode_cursor(cursor)?;
    let id = parse_id(&id).map_err(|_| bad_cursor())?;
    Ok(Some((at, id)))
}

/// Reads a cursor into (created_at, id text).
pub fn decode_cursor(cursor: &str) -> Result<(DateTime<Utc>, String), ServiceError> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad_cursor())?;
    let text = String::from_utf8(bytes).map_err(|_| bad_cursor())?;
    let (millis, id) = text.split_once(':').ok_or_else(bad_cursor)?;
    let millis: i64 = millis.parse().map_err(|_| bad_cursor())?;
    let at = DateTime::from_timestamp_millis(millis).ok_or_else(bad_cursor)?;
    Ok((at, id.to_owned()))
}

/// Builds the page, with a cursor after the last item when the page is full.
pub fn page<T>(data: Vec<T>, limit: u32, key: impl Fn(&T) -> (DateTime<Utc>, String)) -> Page<T> {
    let next_cursor = if data.len() == limit as usize {
        data.last().map(|last| {
            let (at, id) = key(last);
            URL_SAFE_NO_PAD.encode(format!("{}:{id}", at.timestamp_millis()))
        })
    } else {
        None
    };
    Page { data, next_cursor }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_bad_ones_are_refused() {
        let at = DateTime::from_timestamp_millis(1_700_000_000_123).unwrap();
        let p = page(vec![(at, "evt_1".to_owned())], 1, |(at, id)| {
            (*at, id.clone())
        });
        let cursor = p.next_cursor.unwrap();
        assert_eq!(decode_cursor(&cursor).unwrap(), (at, "evt_1".to_owned()));
        assert!(decode_cursor("!!").is_err());
        assert!(decode_cursor(&URL_SAFE_NO_PAD.encode("nope")).is_err());
        assert!(page(vec![1, 2], 3, |_| (at, String::new()))
            .next_cursor
            .is_none());
    }

    #[test]
    fn limits() {
        assert_eq!(limit(None).unwrap(), 50);
        assert_eq!(limit(Some(250)).unwrap(), 250);
        assert!(limit(Some(0)).is_err());
        assert!(limit(Some(251)).is_err());
    }
}
