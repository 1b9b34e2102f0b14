//! What an event says: ~1 KiB payment payloads with names, addresses,
//! IBAN-like accounts and references, and idempotency keys shaped as
//! platforms send them.

use rand::rngs::StdRng;
use rand::Rng;
use serde_json::json;

const FIRST_NAMES: &[&str] = &[
    "Amina", "Lucas", "Chloé", "Mateo", "Sofia", "Noah", "Léa", "Hugo", "Mia", "Yusuf", "Emma",
    "Jonas", "Inès", "Arjun", "Zoé", "Karim",
];
const LAST_NAMES: &[&str] = &[
    "Martin", "Bernard", "Dubois", "García", "Rossi", "Müller", "Nowak", "Silva", "Haddad",
    "Nguyen", "Kowalski", "Moreau", "Laurent", "Fontaine",
];
const CITIES: &[(&str, &str, &str)] = &[
    ("Paris", "75011", "FR"),
    ("Lyon", "69003", "FR"),
    ("Berlin", "10115", "DE"),
    ("Madrid", "28004", "ES"),
    ("Milano", "20121", "IT"),
    ("Lisboa", "1100-148", "PT"),
    ("Bruxelles", "1000", "BE"),
];

/// A ~1 KiB payment-like payload: amount, currency, customer, IBAN, references.
pub fn payload(rng: &mut StdRng, event_type: &str, reference: &str, created_at: i64) -> String {
    let first = FIRST_NAMES[rng.gen_range(0..FIRST_NAMES.len())];
    let last = LAST_NAMES[rng.gen_range(0..LAST_NAMES.len())];
    let (city, postal_code, country) = CITIES[rng.gen_range(0..CITIES.len())];
    let cents: u64 = rng.gen_range(100..250_000);
    let iban = format!(
        "{country}{:02}{:04}{:04}{:04}{:04}{:04}{:03}",
        rng.gen_range(10..99),
        rng.gen_range(0..10_000),
        rng.gen_range(0..10_000),
        rng.gen_range(0..10_000),
        rng.gen_range(0..10_000),
        rng.gen_range(0..10_000),
        rng.gen_range(0..1_000),
    );
    let at = chrono::DateTime::from_timestamp_millis(created_at)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default();
    json!({
        "object": event_type.split('.').next().unwrap_or("payment"),
        "id": reference,
        "status": event_type.rsplit('.').next().unwrap_or("created"),
        "amount": cents,
        "amount_decimal": format!("{}.{:02}", cents / 100, cents % 100),
        "currency": one_of(rng, &["EUR", "EUR", "EUR", "GBP", "CHF"]),
        "created_at": at,
        "reference": format!("INV-{}-{:06}", 2024 + rng.gen_range(0..2), rng.gen_range(0..1_000_000)),
        "description": format!("Order {} — {} item(s)", rng.gen_range(10_000..99_999), rng.gen_range(1..6)),
        "customer": {
            "name": format!("{first} {last}"),
            "email": format!("{}.{}@example.test", first.to_lowercase(), last.to_lowercase()),
            "phone": format!("+33 6 {:02} {:02} {:02} {:02}", rng.gen_range(0..100), rng.gen_range(0..100), rng.gen_range(0..100), rng.gen_range(0..100)),
            "address": {"line1": format!("{} rue de la République", rng.gen_range(1..200)), "city": city, "postal_code": postal_code, "country": country},
        },
        "payment_method": {
            "type": one_of(rng, &["sepa_debit", "card", "sepa_credit_transfer", "instant_transfer"]),
            "iban": iban,
            "bic": one_of(rng, &["BNPAFRPPXXX", "DEUTDEFFXXX", "COBADEFFXXX", "CAIXESBBXXX"]),
            "mandate_id": format!("MNDT-{:010}", rng.gen_range(0..10_000_000_000u64)),
        },
        "fees": {"amount": cents / 100, "currency": "EUR"},
        "metadata": {"channel": one_of(rng, &["web", "ios", "android", "pos"]), "store_id": format!("st_{}", rng.gen_range(1..40)), "ip": format!("203.0.113.{}", rng.gen_range(1..255))},
        "items": items(rng),
        "risk": {"score": rng.gen_range(0..100), "level": one_of(rng, &["normal", "normal", "elevated"]), "three_d_secure": one_of(rng, &["authenticated", "not_required"])},
        "statement_descriptor": "HERALD BENCH SHOP",
    })
    .to_string()
}

/// 2 or 3 order lines.
fn items(rng: &mut StdRng) -> Vec<serde_json::Value> {
    (0..rng.gen_range(2..=3))
        .map(|_| {
            json!({
                "sku": format!("SKU-{:06}", rng.gen_range(0..1_000_000)),
                "name": one_of(rng, &["Wireless headphones", "Running shoes", "Coffee beans 1 kg", "Desk lamp", "Gift card"]),
                "quantity": rng.gen_range(1..4),
                "unit_amount": rng.gen_range(100..20_000),
            })
        })
        .collect()
}

/// One of `values`, at random.
fn one_of(rng: &mut StdRng, values: &[&'static str]) -> &'static str {
    values[rng.gen_range(0..values.len())]
}

/// A UUID-shaped idempotency key (as most platforms send).
pub fn uuid_like(rng: &mut StdRng) -> String {
    let v: u128 = rng.gen();
    let h = format!("{v:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}
