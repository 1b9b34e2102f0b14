//! The store suite: the same tests on SQLite and on PostgreSQL.

use crate::both_backends;
use chrono::{TimeZone, Utc};
use herald::store::{EventTypeSeed, NewApiKey, NewMerchant, Store, StoreError};
use herald_app::model::id::{ApiKeyId, MerchantId};
use herald_app::model::merchant::Role;
use serde_json::json;

both_backends!(
    migrations_are_idempotent,
    merchants_round_trip_and_emails_are_unique,
    settings_insert_once,
    catalog_seed_keeps_existing_entries,
    api_keys_resolve_by_hash,
    endpoints_list_is_empty_for_a_new_merchant,
    only_the_engine_bookkeeping_commits_without_waiting_for_the_disk,
);

fn merchant(n: u128, email: &str) -> NewMerchant {
    NewMerchant {
        id: MerchantId::from_u128(n),
        name: format!("Merchant {n}"),
        email: email.to_owned(),
        password_hash: Some("$argon2id$fake".into()),
        role: Role::Merchant,
        created_at: Utc
            .timestamp_millis_opt(1_700_000_000_000 + n as i64)
            .unwrap(),
    }
}

async fn migrations_are_idempotent(store: Store) {
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    store.ping().await.unwrap();
}

async fn merchants_round_trip_and_emails_are_unique(store: Store) {
    store.migrate().await.unwrap();
    let first = store
        .insert_merchant(&merchant(1, "a@example.com"))
        .await
        .unwrap();
    store
        .insert_merchant(&merchant(2, "b@example.com"))
        .await
        .unwrap();

    let found = store
        .merchant_by_email("a@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.merchant, first);
    // The password is its first owner's, a member since migration 0012.
    assert_eq!(found.password_hash, None);
    let owner = store
        .member_by_email("a@example.com")
        .await
        .unwrap()
        .expect("the merchant's first owner");
    assert_eq!(owner.merchant_id, first.id);
    assert_eq!(owner.password_hash.as_deref(), Some("$argon2id$fake"));
    assert_eq!(
        owner.member.role,
        herald_app::model::member::MemberRole::Owner
    );
    assert_eq!(
        store.merchant_by_id(&first.id).await.unwrap(),
        Some(first.clone())
    );
    assert!(store
        .merchant_by_email("nobody@example.com")
        .await
        .unwrap()
        .is_none());

    let duplicate = store.insert_merchant(&merchant(3, "a@example.com")).await;
    assert!(
        matches!(duplicate, Err(StoreError::Conflict(_))),
        "{duplicate:?}"
    );

    let all = store.list_merchants().await.unwrap();
    let emails: Vec<_> = all.iter().map(|m| m.email.as_str()).collect();
    assert_eq!(emails, ["b@example.com", "a@example.com"], "newest first");
}

async fn settings_insert_once(store: Store) {
    store.migrate().await.unwrap();
    assert!(store.insert_setting_if_absent("k", "one").await.unwrap());
    assert!(!store.insert_setting_if_absent("k", "two").await.unwrap());
    assert_eq!(store.setting("k").await.unwrap().as_deref(), Some("one"));
    store.put_setting("k", "three").await.unwrap();
    assert_eq!(store.setting("k").await.unwrap().as_deref(), Some("three"));
    assert_eq!(store.setting("missing").await.unwrap(), None);
}

async fn catalog_seed_keeps_existing_entries(store: Store) {
    store.migrate().await.unwrap();
    let now = Utc::now();
    let seed = |description: &str| EventTypeSeed {
        name: "payin.succeeded".into(),
        category: "payin".into(),
        description: description.into(),
        example: json!({"clientTransactionId": "pay_1"}),
    };
    assert_eq!(
        store.seed_event_types(&[seed("first")], now).await.unwrap(),
        1
    );
    assert_eq!(
        store
            .seed_event_types(&[seed("second")], now)
            .await
            .unwrap(),
        0
    );
    let types = store.list_event_types().await.unwrap();
    assert_eq!(types.len(), 1);
    assert_eq!(
        types[0].description, "first",
        "a re-seed must not overwrite"
    );
    assert_eq!(types[0].example, json!({"clientTransactionId": "pay_1"}));
    assert!(!types[0].archived);
}

async fn api_keys_resolve_by_hash(store: Store) {
    store.migrate().await.unwrap();
    let owner = store
        .insert_merchant(&merchant(1, "a@example.com"))
        .await
        .unwrap();
    store
        .insert_api_key(&NewApiKey {
            id: ApiKeyId::from_u128(9),
            merchant_id: owner.id.clone(),
            name: "ci".into(),
            prefix: "hk_abc".into(),
            key_hash: "deadbeef".into(),
            created_at: Utc::now(),
        })
        .await
        .unwrap();
    let found = store.api_key_owner("deadbeef").await.unwrap().unwrap();
    assert_eq!(found.merchant_id, owner.id);
    assert_eq!(found.last_used_at, None);
    assert_eq!(store.api_key_owner("other").await.unwrap(), None);

    let now = Utc.timestamp_millis_opt(1_800_000_000_000).unwrap();
    store.touch_api_key(&found.key_id, now).await.unwrap();
    let listed = store.list_api_keys(&owner.id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].last_used_at, Some(now));
    assert_eq!(listed[0].prefix, "hk_abc");

    let stranger = store
        .insert_merchant(&merchant(2, "b@example.com"))
        .await
        .unwrap();
    assert!(
        !store
            .revoke_api_key(&stranger.id, &found.key_id, now)
            .await
            .unwrap(),
        "not theirs"
    );
    assert!(store
        .revoke_api_key(&owner.id, &found.key_id, now)
        .await
        .unwrap());
    assert!(
        !store
            .revoke_api_key(&owner.id, &found.key_id, now)
            .await
            .unwrap(),
        "already revoked"
    );
    assert_eq!(
        store.api_key_owner("deadbeef").await.unwrap(),
        None,
        "revoked keys stop working"
    );
    assert!(store.list_api_keys(&owner.id).await.unwrap().is_empty());
}

async fn endpoints_list_is_empty_for_a_new_merchant(store: Store) {
    store.migrate().await.unwrap();
    let owner = store
        .insert_merchant(&merchant(1, "a@example.com"))
        .await
        .unwrap();
    assert!(store.list_endpoints(&owner.id).await.unwrap().is_empty());
}

/// Events are committed durably before their 202; the engine's claims and
/// attempt records go through the queue pool, which does not wait for the
/// disk (a lost one only means a delivery is sent again).
async fn only_the_engine_bookkeeping_commits_without_waiting_for_the_disk(store: Store) {
    match &store {
        Store::Sqlite(pools) => {
            // PRAGMA synchronous: 1 = NORMAL, 2 = FULL.
            let level = |pool: &sqlx::SqlitePool| {
                let pool = pool.clone();
                async move {
                    let (level,): (i64,) = sqlx::query_as("PRAGMA synchronous")
                        .fetch_one(&pool)
                        .await
                        .unwrap();
                    level
                }
            };
            assert_eq!(
                level(&pools.main).await,
                2,
                "ingest and the dashboard: FULL"
            );
            assert_eq!(level(&pools.queue).await, 1, "claims and records: NORMAL");
            let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
                .fetch_one(&pools.queue)
                .await
                .unwrap();
            assert_eq!(mode, "wal", "NORMAL is only crash-safe in WAL mode");
        }
        Store::Postgres(pools) => {
            let setting = |pool: &sqlx::PgPool| {
                let pool = pool.clone();
                async move {
                    let (value,): (String,) = sqlx::query_as("SHOW synchronous_commit")
                        .fetch_one(&pool)
                        .await
                        .unwrap();
                    value
                }
            };
            assert_eq!(setting(&pools.main).await, "on");
            assert_eq!(setting(&pools.queue).await, "off");
            let (schema_main,): (String,) = sqlx::query_as("SELECT current_schema()")
                .fetch_one(&pools.main)
                .await
                .unwrap();
            let (schema_queue,): (String,) = sqlx::query_as("SELECT current_schema()")
                .fetch_one(&pools.queue)
                .await
                .unwrap();
            assert_eq!(schema_queue, schema_main, "both pools see the same tables");
        }
    }
}
