//! Every filter of the event and delivery lists is served by an index
//! (issue #20): a page must cost the same with a million rows stored as
//! with a hundred. The database says how it would run each list query;
//! these tests fail when one of them turns into a scan of a whole table.
//!
//! SQLite plans as if its tables were big while it has no statistics, so
//! its plan names the index a full database would use, and each case says
//! which one that must be. PostgreSQL is asked with sequential scans priced
//! out (`Store::explain_*`), so a `Seq Scan` in its plan means that no index
//! can serve the query at all.

use crate::both_backends;
use chrono::{Duration, Utc};
use herald::store::{DeliveryFilter, EventFilter, Store};
use herald_app::model::delivery::{DeliveryStatus, StatusCodeFilter};
use herald_app::model::id::{DeliveryId, EndpointId, EventId, MerchantId};

both_backends!(
    every_event_list_filter_reads_an_index,
    every_delivery_list_filter_reads_an_index,
    operator_delivery_lists_read_an_index,
    stats_read_a_range_of_each_rollup_key,
);

/// The tables that grow with history.
const HISTORY_TABLES: [&str; 4] = ["events", "deliveries", "attempts", "event_tags"];
/// The names the store's queries give them.
const HISTORY_ALIASES: [&str; 7] = ["e", "d", "a", "t", "f", "k", "d2"];

/// Fails unless `plan` reads no history table whole and, on SQLite, uses
/// `index` (the one that serves this filter).
fn assert_served_by(store: &Store, case: &str, plan: &str, index: &str) {
    match store {
        Store::Sqlite(_) => {
            for line in plan.lines() {
                // `SCAN x` reads a table whole (`SCAN x USING INDEX i` walks
                // an index in order and stops at the page's end).
                let scanned = line
                    .strip_prefix("SCAN ")
                    .filter(|rest| !rest.contains("USING"))
                    .and_then(|rest| rest.split_whitespace().next());
                if let Some(table) = scanned {
                    assert!(
                        !HISTORY_TABLES.contains(&table) && !HISTORY_ALIASES.contains(&table),
                        "{case}: a table scan on SQLite:\n{plan}"
                    );
                }
            }
            assert!(
                plan.contains(&format!("INDEX {index}")),
                "{case}: expected the index {index} on SQLite:\n{plan}"
            );
        }
        Store::Postgres(_) => {
            for table in HISTORY_TABLES {
                assert!(
                    !plan.contains(&format!("Seq Scan on {table}")),
                    "{case}: no index serves it on PostgreSQL:\n{plan}"
                );
            }
        }
    }
}

fn events(limit: u32) -> EventFilter {
    EventFilter {
        limit,
        ..EventFilter::default()
    }
}

async fn every_event_list_filter_reads_an_index(store: Store) {
    store.migrate().await.expect("migrate");
    let merchant = MerchantId::generate();
    let week_ago = Utc::now() - Duration::days(7);
    let cases: Vec<(&str, EventFilter, &str)> = vec![
        ("newest", events(50), "events_merchant_created_idx"),
        (
            "type",
            EventFilter {
                event_type: Some("payout.failed".into()),
                ..events(50)
            },
            "events_merchant_type_created_idx",
        ),
        // A category is a list of types: SQLite walks the merchant's newest
        // events and checks each type against the list, up to the page's
        // end (fast for the common categories; a rare one on a big
        // merchant walks further, not measured).
        (
            "category",
            EventFilter {
                event_type: Some("payout.*".into()),
                ..events(50)
            },
            "events_merchant_created_idx",
        ),
        (
            "tag",
            EventFilter {
                tag: Some("pay_123".into()),
                ..events(50)
            },
            "sqlite_autoindex_event_tags_1",
        ),
        (
            "idempotency key",
            EventFilter {
                idempotency_key: Some("order-1".into()),
                ..events(50)
            },
            "events_idempotency_key",
        ),
        (
            "since",
            EventFilter {
                since: Some(week_ago),
                ..events(50)
            },
            "events_merchant_created_idx",
        ),
        (
            "until",
            EventFilter {
                until: Some(week_ago),
                ..events(50)
            },
            "events_merchant_created_idx",
        ),
        (
            "tag and type",
            EventFilter {
                tag: Some("pay_123".into()),
                event_type: Some("payout.failed".into()),
                ..events(50)
            },
            "sqlite_autoindex_event_tags_1",
        ),
        (
            "mode",
            EventFilter {
                live_mode: Some(false),
                ..events(50)
            },
            "events_merchant_created_idx",
        ),
        (
            "next page",
            EventFilter {
                before: Some((week_ago, EventId::generate())),
                ..events(50)
            },
            "events_merchant_created_idx",
        ),
    ];
    for (case, filter, index) in cases {
        let plan = store
            .explain_event_list(&merchant, &filter)
            .await
            .expect("explain");
        assert_served_by(&store, case, &plan, index);
    }
}

fn merchant_deliveries(merchant: &MerchantId) -> DeliveryFilter {
    DeliveryFilter {
        merchant_id: Some(merchant.clone()),
        limit: 50,
        ..DeliveryFilter::default()
    }
}

async fn every_delivery_list_filter_reads_an_index(store: Store) {
    store.migrate().await.expect("migrate");
    let merchant = MerchantId::generate();
    let base = merchant_deliveries(&merchant);
    let week_ago = Utc::now() - Duration::days(7);
    let cases: Vec<(&str, DeliveryFilter, &str)> = vec![
        ("newest", base.clone(), "deliveries_merchant_created_idx"),
        (
            "status",
            DeliveryFilter {
                status: Some(DeliveryStatus::Failed),
                ..base.clone()
            },
            "deliveries_merchant_status_created_idx",
        ),
        (
            "type",
            DeliveryFilter {
                event_type: Some("refund.failed".into()),
                ..base.clone()
            },
            "deliveries_merchant_type_created_idx",
        ),
        // As for events: newest first, each checked against the category.
        (
            "category",
            DeliveryFilter {
                event_type: Some("refund.*".into()),
                ..base.clone()
            },
            "deliveries_merchant_created_idx",
        ),
        (
            "endpoint",
            DeliveryFilter {
                endpoint_id: Some(EndpointId::generate()),
                ..base.clone()
            },
            "deliveries_endpoint_created_idx",
        ),
        (
            "event",
            DeliveryFilter {
                event_id: Some(EventId::generate()),
                ..base.clone()
            },
            "deliveries_event_endpoint_key",
        ),
        (
            "tag",
            DeliveryFilter {
                tag: Some("cus_42".into()),
                ..base.clone()
            },
            "sqlite_autoindex_event_tags_1",
        ),
        (
            "idempotency key",
            DeliveryFilter {
                idempotency_key: Some("order-1".into()),
                ..base.clone()
            },
            "events_idempotency_key",
        ),
        (
            "tag and status",
            DeliveryFilter {
                tag: Some("cus_42".into()),
                status: Some(DeliveryStatus::Failed),
                ..base.clone()
            },
            "sqlite_autoindex_event_tags_1",
        ),
        (
            "idempotency key and status",
            DeliveryFilter {
                idempotency_key: Some("order-1".into()),
                status: Some(DeliveryStatus::Failed),
                ..base.clone()
            },
            "events_idempotency_key",
        ),
        (
            "event and status",
            DeliveryFilter {
                event_id: Some(EventId::generate()),
                status: Some(DeliveryStatus::Failed),
                ..base.clone()
            },
            "deliveries_event_endpoint_key",
        ),
        (
            "response code",
            DeliveryFilter {
                status_code: Some(StatusCodeFilter::Code(503)),
                ..base.clone()
            },
            "deliveries_merchant_code_created_idx",
        ),
        (
            "response class",
            DeliveryFilter {
                status_code: Some(StatusCodeFilter::Class(5)),
                ..base.clone()
            },
            "deliveries_merchant_code_created_idx",
        ),
        (
            "no response",
            DeliveryFilter {
                status_code: Some(StatusCodeFilter::NoResponse),
                ..base.clone()
            },
            "deliveries_merchant_code_created_idx",
        ),
        (
            "since",
            DeliveryFilter {
                since: Some(week_ago),
                ..base.clone()
            },
            "deliveries_merchant_created_idx",
        ),
        (
            "until",
            DeliveryFilter {
                until: Some(week_ago),
                ..base.clone()
            },
            "deliveries_merchant_created_idx",
        ),
        (
            "next page",
            DeliveryFilter {
                before: Some((week_ago, DeliveryId::generate())),
                ..base.clone()
            },
            "deliveries_merchant_created_idx",
        ),
    ];
    for (case, filter, index) in cases {
        let plan = store.explain_delivery_list(&filter).await.expect("explain");
        assert_served_by(&store, case, &plan, index);
    }
}

async fn operator_delivery_lists_read_an_index(store: Store) {
    store.migrate().await.expect("migrate");
    let all = DeliveryFilter {
        limit: 50,
        ..DeliveryFilter::default()
    };
    let cases: Vec<(&str, DeliveryFilter, &str)> = vec![
        ("newest", all.clone(), "deliveries_created_idx"),
        (
            "failed",
            DeliveryFilter {
                status: Some(DeliveryStatus::Failed),
                ..all.clone()
            },
            "deliveries_status_created_idx",
        ),
        (
            "one merchant's failed",
            DeliveryFilter {
                merchant_id: Some(MerchantId::generate()),
                status: Some(DeliveryStatus::Failed),
                ..all.clone()
            },
            "deliveries_merchant_status_created_idx",
        ),
        (
            "a tag across merchants",
            DeliveryFilter {
                tag: Some("pay_123".into()),
                ..all.clone()
            },
            "event_tags_tag_idx",
        ),
    ];
    for (case, filter, index) in cases {
        let plan = store.explain_delivery_list(&filter).await.expect("explain");
        assert_served_by(&store, case, &plan, index);
    }
}

/// A week of stats reads the window's rows by the primary keys of the
/// rollups (merchant, hour, …), packed latency rows included, with no sort.
async fn stats_read_a_range_of_each_rollup_key(store: Store) {
    store.migrate().await.expect("migrate");
    let merchant = MerchantId::generate();
    let week_ago = Utc::now().timestamp_millis() / 3_600_000 - 167;
    let plans = store
        .explain_stats_reads(&merchant, week_ago)
        .await
        .expect("explain");
    let tables = [
        "delivery_counts_hourly",
        "attempt_latency_packed",
        "attempt_latency_hourly",
    ];
    assert_eq!(plans.len(), tables.len());
    for (plan, table) in plans.iter().zip(tables) {
        match &store {
            // WITHOUT ROWID tables: the primary key is the table's b-tree.
            Store::Sqlite(_) => assert!(
                plan.contains(&format!(
                    "SEARCH {table} USING PRIMARY KEY (merchant_id=? AND hour>?)"
                )),
                "{table}:\n{plan}"
            ),
            Store::Postgres(_) => assert!(
                plan.contains("Index Cond: ((merchant_id = ")
                    && plan.contains("AND (hour >= ")
                    && plan.contains(&format!("{table}_pkey")),
                "{table}:\n{plan}"
            ),
        }
        assert!(
            !plan.contains("TEMP B-TREE") && !plan.contains("Sort"),
            "{table}:\n{plan}"
        );
    }
}
