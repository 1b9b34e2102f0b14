//! The operators' console: endpoints across merchants with their failure
//! rate and last delivery (after real deliveries to loopback receivers),
//! filtered and sorted by the server; merchants with their counts; the
//! REST API and the dashboard's server functions agreeing; merchants
//! refused.

use crate::both_backends;
use crate::helpers::{item_where, Browser, TestApp, PLATFORM_TOKEN};
use crate::receiver::{Reply, TestReceiver};
use herald::store::Store;
use herald_app::model::merchant::Role;
use reqwest::Method;
use serde_json::{json, Value};

both_backends!(
    operators_see_which_endpoints_fail_and_each_merchants_counts,
    operators_edit_a_types_description_and_example,
    a_thousand_merchants_overview_is_one_page_of_work,
);

const PASSWORD: &str = "operator password 1";

/// A browser logged in as a new operator account.
async fn operator(app: &TestApp) -> Browser {
    let email = "ops@console.test";
    herald::service::Accounts::new(app.store.clone())
        .create_merchant("Herald Ops", email, Some(PASSWORD.to_owned()), Role::Admin)
        .await
        .expect("create the operator");
    let mut browser = app.browser();
    let (status, body) = browser
        .call("log_in", &[("email", email), ("password", PASSWORD)])
        .await;
    assert_eq!(status, 200, "log in: {body}");
    browser
}

/// The endpoint ids of an overview page, in order.
fn ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data: {page}"))
        .iter()
        .map(|e| e["id"].as_str().expect("id").to_owned())
        .collect()
}

async fn overview(app: &TestApp, query: &str) -> Value {
    app.get_ok(PLATFORM_TOKEN, &format!("/api/v1/admin/endpoints?{query}"))
        .await
}

async fn operators_see_which_endpoints_fail_and_each_merchants_counts(store: Store) {
    let app = TestApp::spawn_manual(store).await;
    let good = TestReceiver::start().await;
    good.always(Reply::status(200));
    let bad = TestReceiver::start().await;
    bad.always(Reply::status(500));
    let (acme, acme_key) = app.merchant("Acme Shop").await;
    let (globex, globex_key) = app.merchant("Globex").await;
    // Acme: one healthy receiver, one broken, one that never gets anything.
    let (acme_ok, _) = app
        .endpoint(&acme_key, json!({"url": good.url() + "/acme/ok"}))
        .await;
    let (acme_broken, _) = app
        .endpoint(&acme_key, json!({"url": bad.url() + "/acme/broken"}))
        .await;
    let (acme_quiet, _) = app
        .endpoint(
            &acme_key,
            json!({"url": good.url() + "/acme/quiet", "event_types": ["payout.failed"]}),
        )
        .await;
    let (globex_ok, _) = app
        .endpoint(&globex_key, json!({"url": good.url() + "/GLOBEX/in"}))
        .await;
    for merchant in [&acme, &acme, &globex] {
        let (status, body) = app
            .ingest(json!({"merchant_id": merchant, "type": "refund.completed", "data": {}}))
            .await;
        assert_eq!(status, 202, "{body}");
    }
    app.drain().await;

    // Failure rate first: the broken endpoint on top, with what it is
    // computed from; the one never delivered to last.
    let by_rate = overview(&app, "sort=failure_rate").await;
    let order = ids(&by_rate);
    assert_eq!(by_rate["total"], 4, "{by_rate}");
    assert_eq!(order[0], acme_broken, "{by_rate}");
    assert_eq!(order[3], acme_quiet, "{by_rate}");
    let broken = &by_rate["data"][0];
    assert_eq!(broken["merchant_name"], "Acme Shop");
    assert_eq!(broken["failure_rate"], 1.0);
    assert_eq!(
        (&broken["failed_24h"], &broken["finished_24h"]),
        (&json!(2), &json!(2))
    );
    assert_eq!(broken["last_delivery"]["status"], "failed", "{broken}");
    assert!(broken["failing_since"].is_string(), "{broken}");
    let healthy = &by_rate["data"][1];
    assert_eq!(healthy["failure_rate"], 0.0, "{healthy}");
    assert_eq!(healthy["last_delivery"]["status"], "succeeded");
    let quiet = &by_rate["data"][3];
    assert_eq!(quiet["failure_rate"], json!(null), "{quiet}");
    assert_eq!(quiet["finished_24h"], 0);
    assert_eq!(quiet["last_delivery"], json!(null));

    // Filters: the merchant's name and the URL contain the text, any case.
    let acme_only = overview(&app, "merchant=acme%20SHOP&sort=url").await;
    let mut by_url: Vec<(String, String)> = [
        (bad.url() + "/acme/broken", acme_broken.clone()),
        (good.url() + "/acme/ok", acme_ok.clone()),
        (good.url() + "/acme/quiet", acme_quiet.clone()),
    ]
    .into();
    by_url.sort();
    let expected: Vec<String> = by_url.into_iter().map(|(_, id)| id).collect();
    assert_eq!(ids(&acme_only), expected, "Acme's, by URL");
    assert_eq!(acme_only["total"], 3);
    let globex_url = overview(&app, "url=globex").await;
    assert_eq!(ids(&globex_url), vec![globex_ok.clone()]);
    let failing = overview(&app, "status=failing").await;
    assert_eq!(ids(&failing), vec![acme_broken.clone()]);
    let nobody = overview(&app, "merchant=100%25").await;
    assert_eq!(
        ids(&nobody),
        Vec::<String>::new(),
        "% is text, not a wildcard"
    );
    // Merchant order: Acme's three (by URL), then Globex's.
    let by_merchant = overview(&app, "sort=merchant").await;
    assert_eq!(ids(&by_merchant)[3], globex_ok);
    let by_last = overview(&app, "sort=last_delivery").await;
    assert_eq!(ids(&by_last)[3], acme_quiet, "never delivered to: last");
    // The REST default stays newest first, page by page with a total.
    let first = overview(&app, "limit=3").await;
    assert_eq!(ids(&first)[0], globex_ok, "newest first");
    assert_eq!(first["total"], 4);
    let cursor = first["next_cursor"].as_str().expect("a cursor").to_owned();
    let rest = overview(&app, &format!("limit=3&cursor={cursor}")).await;
    assert_eq!(ids(&rest), vec![acme_ok.clone()]);
    assert_eq!(rest["next_cursor"], json!(null));
    for bad_query in ["sort=random", "status=broken", "merchant_id=nobody"] {
        let (status, body) = app
            .api(
                Method::GET,
                &format!("/api/v1/admin/endpoints?{bad_query}"),
                PLATFORM_TOKEN,
                None,
            )
            .await;
        assert_eq!(status, 422, "{bad_query}: {body}");
    }

    // Merchants with their counts.
    operator_disables(&app, &acme_quiet).await;
    let merchants = app.get_ok(PLATFORM_TOKEN, "/api/v1/admin/merchants").await;
    let row = |id: &str| item_where(&merchants["data"], "id", id);
    let acme_row = row(acme.as_str());
    assert_eq!(acme_row["name"], "Acme Shop");
    assert_eq!(
        (
            &acme_row["endpoints_enabled"],
            &acme_row["endpoints_disabled"]
        ),
        (&json!(2), &json!(1)),
        "{acme_row}"
    );
    assert_eq!(acme_row["members"], 1, "{acme_row}");
    assert_eq!(acme_row["deliveries_24h"], 4, "two events to two endpoints");
    assert_eq!(acme_row["failed_24h"], 2);
    let globex_row = row(globex.as_str());
    assert_eq!(
        (&globex_row["deliveries_24h"], &globex_row["failed_24h"]),
        (&json!(1), &json!(0))
    );

    // The dashboard shows the same, through its server functions.
    let mut ops = operator(&app).await;
    let (status, page) = ops
        .call_json(
            "admin/endpoints",
            json!({"query": {"merchant": "acme", "status": "enabled"}}),
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["total"], 2, "{page}");
    assert_eq!(
        page["rows"][0]["id"],
        acme_broken.as_str(),
        "failure rate first"
    );
    assert_eq!(page["rows"][0]["failed_24h"], 2);
    let (status, summaries) = ops.call("admin/merchant_summaries", &[]).await;
    assert_eq!(status, 200, "{summaries}");
    let acme_summary = item_where(&summaries, "id", acme.as_str());
    assert_eq!(acme_summary["failed_24h"], 2);
    assert_eq!(acme_summary["endpoints_disabled"], 1);

    // Merchants are refused, by the API and by the server functions.
    let (status, _) = app
        .api(Method::GET, "/api/v1/admin/endpoints", &acme_key, None)
        .await;
    assert_eq!(status, 403);
    let mut merchant = app.signed_up("Nosy", "nosy@example.test").await;
    let (status, _) = merchant
        .call_json("admin/endpoints", json!({"query": {}}))
        .await;
    assert_eq!(status, 403);
    let (status, _) = merchant.call("admin/merchant_summaries", &[]).await;
    assert_eq!(status, 403);
    app.stop().await;
}

async fn operator_disables(app: &TestApp, endpoint: &str) {
    let (status, body) = app
        .api(
            Method::POST,
            &format!("/api/v1/admin/endpoints/{endpoint}/disable"),
            PLATFORM_TOKEN,
            Some(json!({"reason": "bounces everything"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn operators_edit_a_types_description_and_example(store: Store) {
    let app = TestApp::spawn(store).await;
    let (_, key) = app.merchant("Catalog reader").await;
    let path = "/api/v1/admin/event-types/payout.failed";

    let (status, changed) = app
        .api(
            Method::PATCH,
            path,
            PLATFORM_TOKEN,
            Some(json!({"description": "The bank refused the payout.",
                        "example": {"payoutId": "po_42", "reason": "account closed"}})),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    let seen = app.catalog_entry(&key, "payout.failed").await;
    assert_eq!(seen["description"], "The bank refused the payout.");
    assert_eq!(seen["example"]["payoutId"], "po_42");

    // A bad example is a 422 naming the field, and changes nothing, not
    // even the description sent with it.
    let (status, refused) = app
        .api(
            Method::PATCH,
            path,
            PLATFORM_TOKEN,
            Some(json!({"description": "Should not stick.", "example": [1, 2]})),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"]["code"], "validation_failed", "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("example"),
        "{refused}"
    );
    assert_eq!(app.catalog_entry(&key, "payout.failed").await, seen);

    // The dashboard's edit form: JSON text, checked the same way.
    let mut ops = operator(&app).await;
    let (status, refused) = ops
        .call(
            "admin/event_type_update",
            &[
                ("name", "payout.failed"),
                ("description", "Also should not stick."),
                ("example", "{\"payoutId\": "),
            ],
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused.to_string().contains("example"), "{refused}");
    assert_eq!(app.catalog_entry(&key, "payout.failed").await, seen);
    let (status, saved) = ops
        .call(
            "admin/event_type_update",
            &[
                ("name", "payout.failed"),
                ("description", "  A payout bounced.  "),
                ("example", "{\"payoutId\": \"po_7\"}"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{saved}");
    let seen = app.catalog_entry(&key, "payout.failed").await;
    assert_eq!(seen["description"], "A payout bounced.");
    assert_eq!(seen["example"], json!({"payoutId": "po_7"}));

    // What archiving would stop: endpoints taking it by name, by pattern,
    // or taking every type; not those taking other types.
    for filter in [
        json!(["payout.failed"]),
        json!(["payout.*"]),
        json!([]),
        json!(["payin.succeeded"]),
    ] {
        app.endpoint(
            &key,
            json!({"url": "http://127.0.0.1:9/in", "event_types": filter}),
        )
        .await;
    }
    let (status, receivers) = ops
        .call("admin/event_type_receivers", &[("name", "payout.failed")])
        .await;
    assert_eq!((status, receivers), (200, json!(3)));
    let (status, _) = ops
        .call("admin/event_type_receivers", &[("name", "nothing.here")])
        .await;
    assert_eq!(status, 404);

    let mut merchant = app.signed_up("Nosy", "nosy@example.test").await;
    for (name, fields) in [
        (
            "admin/event_type_update",
            vec![
                ("name", "payout.failed"),
                ("description", "mine now"),
                ("example", "{}"),
            ],
        ),
        (
            "admin/event_type_receivers",
            vec![("name", "payout.failed")],
        ),
    ] {
        let (status, _) = merchant.call(name, &fields).await;
        assert_eq!(status, 403, "{name}");
    }
    assert_eq!(
        app.catalog_entry(&key, "payout.failed").await["description"],
        "A payout bounced."
    );
    app.stop().await;
}

/// Runs `sql` (no results) straight on the database.
async fn execute(store: &Store, sql: &str) {
    match store {
        Store::Sqlite(pools) => sqlx::query(sql).execute(&pools.main).await.map(|_| ()),
        Store::Postgres(pools) => sqlx::query(sql).execute(&pools.main).await.map(|_| ()),
    }
    .unwrap_or_else(|e| panic!("{e}: {sql}"));
}

/// 1,000 merchants with 4 endpoints each and a day of hourly rollup rows
/// (19,200 endpoint-hours of deliveries): the overview still answers a page,
/// whatever it is sorted or filtered by, and says how long each took.
async fn a_thousand_merchants_overview_is_one_page_of_work(store: Store) {
    use herald_app::model::id::{EndpointId, MerchantId};
    let app = TestApp::spawn(store.clone()).await;
    let now = chrono::Utc::now().timestamp_millis();
    let mut worst = String::new();
    for chunk in 0..10 {
        let mut merchants = Vec::new();
        let mut endpoints = Vec::new();
        for m in 0..100 {
            let n = chunk * 100 + m;
            let merchant = MerchantId::generate();
            merchants.push(format!(
                "('{merchant}', 'Merchant {n:04}', 'm{n}@scale.test', 'merchant', {now})"
            ));
            for e in 0..4 {
                let endpoint = EndpointId::generate();
                if n == 617 && e == 2 {
                    worst = endpoint.to_string();
                }
                endpoints.push(format!(
                    "('{endpoint}', '{merchant}', 'https://m{n}.scale.test/hooks/{e}', 'x', {now}, {now})"
                ));
            }
        }
        execute(
            &store,
            &format!(
                "INSERT INTO merchants (id, name, email, role, created_at) VALUES {}",
                merchants.join(", ")
            ),
        )
        .await;
        execute(
            &store,
            &format!(
                "INSERT INTO endpoints (id, merchant_id, url, secret, created_at, updated_at) VALUES {}",
                endpoints.join(", ")
            ),
        )
        .await;
    }
    // Every endpoint: 10 successes and 1 failure an hour for the last 24
    // hours, and a week before that of older rows the window leaves out;
    // the worst endpoint fails 9 times an hour more.
    let hour = now / 3_600_000;
    let hours: Vec<String> = (0..24 * 8).map(|h| format!("({})", hour - h)).collect();
    execute(
        &store,
        &format!(
            "INSERT INTO delivery_counts_hourly (merchant_id, hour, endpoint_id, live_mode, status, n) \
             SELECT e.merchant_id, h.column1, e.id, TRUE, s.column1, s.column2 \
             FROM endpoints e CROSS JOIN (VALUES {}) h \
             CROSS JOIN (VALUES ('succeeded', 10), ('failed', 1)) s",
            hours.join(", ")
        ),
    )
    .await;
    execute(
        &store,
        &format!("UPDATE delivery_counts_hourly SET n = 10 WHERE endpoint_id = '{worst}' AND status = 'failed'"),
    )
    .await;

    let timed = |query: &'static str| {
        let app = &app;
        async move {
            let started = std::time::Instant::now();
            let page = overview(app, query).await;
            eprintln!(
                "overview of 4,000 endpoints, {query}: {} ms",
                started.elapsed().as_millis()
            );
            page
        }
    };
    let by_rate = timed("sort=failure_rate&limit=50").await;
    assert_eq!(by_rate["total"], 4000);
    assert_eq!(by_rate["data"].as_array().map(Vec::len), Some(50));
    assert_eq!(by_rate["data"][0]["id"], worst.as_str(), "the worst first");
    assert_eq!(by_rate["data"][0]["failed_24h"], 240);
    assert_eq!(by_rate["data"][0]["finished_24h"], 480);
    assert_eq!(by_rate["data"][1]["failed_24h"], 24, "a day, not the week");
    let far = timed("sort=failure_rate&limit=50&cursor=b2Zmc2V0OjM5NTA").await;
    assert_eq!(
        far["data"].as_array().map(Vec::len),
        Some(50),
        "the last page"
    );
    let named = timed("merchant=merchant%200617&sort=url").await;
    assert_eq!(named["total"], 4);
    assert_eq!(named["data"][2]["id"], worst.as_str());
    let by_url = timed("url=M999.SCALE&sort=merchant").await;
    assert_eq!(by_url["total"], 4);
    let by_last = timed("sort=last_delivery&limit=50").await;
    assert_eq!(by_last["total"], 4000);
    let started = std::time::Instant::now();
    let merchants = app.get_ok(PLATFORM_TOKEN, "/api/v1/admin/merchants").await;
    eprintln!(
        "1,000 merchants with their counts: {} ms",
        started.elapsed().as_millis()
    );
    let m617 = item_where(&merchants["data"], "name", "Merchant 0617");
    assert_eq!(m617["endpoints_enabled"], 4);
    assert_eq!(m617["deliveries_24h"], 4 * 24 * 11 + 24 * 9);
    assert_eq!(m617["failed_24h"], 4 * 24 + 24 * 9);
    app.stop().await;
}
