//! `/admin/storage`: what the database holds and how long history is kept,
//! for operators deciding on retention or disk.

use super::display::When;
use super::loaded::Loaded;
use crate::model::event::StorageStats;
use crate::server_fn::admin::storage;
use leptos::prelude::*;
use leptos_meta::Title;

/// `/admin/storage`
#[component]
pub fn StoragePage() -> impl IntoView {
    let stats = Resource::new(|| (), |_| storage());
    view! {
        <Title text="Storage · Operations"/>
        <div class="page-header">
            <div>
                <h1>"Storage"</h1>
                <p class="muted">"What the database holds. Events older than the retention period are deleted with their deliveries and attempts, once none of their deliveries is pending."</p>
            </div>
        </div>
        <Loaded data=move || stats loading="Loading…" let:stats>
            <StorageFacts stats/>
        </Loaded>
    }
}

#[component]
fn StorageFacts(stats: StorageStats) -> impl IntoView {
    let retention = if stats.retention == "off" {
        "Off: history is kept forever".to_owned()
    } else {
        format!("{}: older events are deleted", stats.retention)
    };
    view! {
        <dl class="facts card" data-testid="storage">
            <dt>"Events"</dt><dd data-testid="storage-events">{count(stats.events)}</dd>
            <dt>"Deliveries"</dt><dd data-testid="storage-deliveries">{count(stats.deliveries)}</dd>
            <dt>"Attempts"</dt><dd data-testid="storage-attempts">{count(stats.attempts)}</dd>
            <dt>"Oldest event"</dt>
            <dd data-testid="storage-oldest">{stats.oldest_event_at.map(|at| view! { <When at/> }.into_any()).unwrap_or_else(|| "None".into_any())}</dd>
            <dt>"Database size"</dt>
            <dd data-testid="storage-size">{stats.database_bytes.map(size).unwrap_or_else(|| "Unknown".into())}</dd>
            <dt>"Retention"</dt><dd data-testid="storage-retention">{retention}</dd>
            <dt>"Purged by this process"</dt>
            <dd data-testid="storage-purged">{format!("{} events since it started", count(stats.purged_events))}</dd>
        </dl>
    }
}

/// A count with its thousands set apart: `1,234,567`.
fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// A size in bytes as people read it: `512 B`, `1.5 KB`, `3.2 GB` (steps of 1024).
fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_set_thousands_apart() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
    }

    #[test]
    fn sizes_read_in_the_largest_whole_unit() {
        assert_eq!(size(512), "512 B");
        assert_eq!(size(1536), "1.5 KB");
        assert_eq!(size(20 * 1024 * 1024), "20.0 MB");
        assert_eq!(size(5 * 1024 * 1024 * 1024), "5.0 GB");
    }
}
