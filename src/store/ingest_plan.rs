//! What ingest decides, apart from the SQL around it: `Store::ingest` reads
//! what a batch needs (`BatchReads`), `plan` decides everything from that
//! alone, and the store writes the plan. No I/O here, so each rule has a
//! unit test below.

use super::events::{FanOut, IngestRefusal, Ingested, NewEvent};
use crate::store::Destination;
use herald_app::model::endpoint::EndpointMode;
use herald_app::model::id::{EndpointId, EventId, MerchantId};
use std::collections::{HashMap, HashSet};

/// What `Store::ingest` read about a batch before deciding anything.
#[derive(Debug, Default)]
pub(super) struct BatchReads {
    /// The ids of the batch's merchants that exist.
    pub merchants: HashSet<String>,
    /// The batch's event types that are in the catalog: name → archived.
    pub event_types: HashMap<String, bool>,
    /// The endpoints of the batch's merchants whose events fan out, by
    /// merchant id, in endpoint id order.
    pub endpoints: HashMap<String, Vec<FanOutTarget>>,
    /// Events stored earlier under one of the batch's idempotency keys:
    /// merchant id → key → that event.
    pub stored_keys: HashMap<String, HashMap<String, Earlier>>,
}

/// An endpoint an event may fan out to, with where its leased deliveries
/// go (read once per batch, not per delivery).
#[derive(Debug)]
pub(super) struct FanOutTarget {
    pub id: EndpointId,
    /// Event type names and `prefix.*` patterns; empty means all.
    pub filter: Vec<String>,
    /// Disabled endpoints get no new deliveries (`recover` sends them later).
    pub enabled: bool,
    /// Live endpoints get live events, test endpoints test events.
    pub mode: EndpointMode,
    pub destination: Destination,
}

/// The event an idempotency key already belongs to, and its deliveries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Earlier {
    pub id: EventId,
    pub deliveries: u64,
}

/// Where a new delivery goes.
#[derive(Debug)]
pub(super) enum Recipient<'a> {
    /// An endpoint; `leased` when the caller took it (`LeaseOffer`).
    Endpoint {
        target: &'a FanOutTarget,
        leased: bool,
    },
    /// The event's callback URL (never leased: claims read its secret).
    Callback(&'a str),
}

/// One new delivery row.
#[derive(Debug)]
pub(super) struct PlannedDelivery<'a> {
    pub event: &'a NewEvent,
    pub to: Recipient<'a>,
}

impl PlannedDelivery<'_> {
    /// The endpoint it is leased to the caller for, if it is.
    pub fn leased_to(&self) -> Option<&FanOutTarget> {
        match self.to {
            Recipient::Endpoint {
                target,
                leased: true,
            } => Some(target),
            _ => None,
        }
    }
}

/// What to write for a batch, and what to answer.
#[derive(Debug)]
pub(super) struct IngestPlan<'a> {
    /// One answer per event, in the order given.
    pub answers: Vec<Result<Ingested, IngestRefusal>>,
    /// The events to store, in the order given.
    pub new_events: Vec<&'a NewEvent>,
    /// Their deliveries, in the same order (delivery ids are made in this
    /// order, and per-key ordering relies on them growing with ingest).
    pub deliveries: Vec<PlannedDelivery<'a>>,
}

/// Asked once per new delivery that may be leased: does the caller take it?
pub(super) type Take<'t> = &'t mut dyn FnMut(&MerchantId, &EndpointId) -> bool;

/// Decides a batch from what was read:
///
/// - refusals, in this order: an unknown merchant, an unknown event type,
///   an archived one (a refused event claims no idempotency key);
/// - an idempotency key stored before, or taken by an earlier event of the
///   batch, makes the event a duplicate of that one: nothing is stored;
/// - a callback URL takes the place of the merchant's endpoints;
/// - otherwise one delivery per enabled endpoint of the event's mode (live
///   or test) whose filter `fan_out` matches, or to the `only_endpoint`
///   alone (test events) if it is enabled, whatever its mode; never to the
///   endpoint an operational event is about;
/// - each delivery to an endpoint of an event without an ordering key is
///   offered to `take`, in order (a keyed one waits for its turn, which
///   only a claim knows); those it takes are leased to the caller.
pub(super) fn plan<'a>(
    events: &'a [NewEvent],
    reads: &'a BatchReads,
    fan_out: FanOut,
    mut take: Option<Take<'_>>,
) -> IngestPlan<'a> {
    let mut plan = IngestPlan {
        answers: Vec::with_capacity(events.len()),
        new_events: Vec::with_capacity(events.len()),
        deliveries: Vec::new(),
    };
    // Keys taken by this batch's new events: merchant id → key → event.
    let mut batch_keys: HashMap<&str, HashMap<&str, Earlier>> = HashMap::new();
    for event in events {
        if let Some(refusal) = refusal(event, reads) {
            plan.answers.push(Err(refusal));
            continue;
        }
        let merchant = event.merchant_id.as_str();
        if let Some(key) = event.idempotency_key.as_deref() {
            let earlier = batch_keys
                .get(merchant)
                .and_then(|keys| keys.get(key))
                .or_else(|| reads.stored_keys.get(merchant)?.get(key));
            if let Some(Earlier { id, deliveries }) = earlier {
                plan.answers.push(Ok(Ingested::Duplicate {
                    id: id.clone(),
                    deliveries: *deliveries,
                }));
                continue;
            }
        }
        let before = plan.deliveries.len();
        match &event.callback_url {
            Some(url) => plan.deliveries.push(PlannedDelivery {
                event,
                to: Recipient::Callback(url),
            }),
            None => {
                let targets = reads.endpoints.get(merchant).into_iter().flatten();
                for target in targets.filter(|target| chosen(event, target, fan_out)) {
                    let leased = event.ordering_key.is_none()
                        && take
                            .as_mut()
                            .is_some_and(|take| take(&event.merchant_id, &target.id));
                    plan.deliveries.push(PlannedDelivery {
                        event,
                        to: Recipient::Endpoint { target, leased },
                    });
                }
            }
        }
        let deliveries = (plan.deliveries.len() - before) as u64;
        if let Some(key) = event.idempotency_key.as_deref() {
            let earlier = Earlier {
                id: event.id.clone(),
                deliveries,
            };
            batch_keys.entry(merchant).or_default().insert(key, earlier);
        }
        plan.new_events.push(event);
        plan.answers.push(Ok(Ingested::Created {
            id: event.id.clone(),
            deliveries,
        }));
    }
    plan
}

/// Why the event cannot be stored, if it cannot.
fn refusal(event: &NewEvent, reads: &BatchReads) -> Option<IngestRefusal> {
    if !reads.merchants.contains(event.merchant_id.as_str()) {
        return Some(IngestRefusal::UnknownMerchant);
    }
    match reads.event_types.get(&event.event_type) {
        None => Some(IngestRefusal::UnknownType),
        Some(true) => Some(IngestRefusal::ArchivedType),
        Some(false) => None,
    }
}

/// Whether the event goes to this endpoint of its merchant.
fn chosen(event: &NewEvent, target: &FanOutTarget, fan_out: FanOut) -> bool {
    target.enabled
        && event.about_endpoint.as_ref() != Some(&target.id)
        && match &event.only_endpoint {
            Some(only) => *only == target.id,
            None => {
                target.mode.takes(event.live_mode) && fan_out(&target.filter, &event.event_type)
            }
        }
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_app::model::event_filter::filter_matches;

    const PAYIN: &str = "payin.succeeded";

    fn event(merchant: &MerchantId, event_type: &str) -> NewEvent {
        NewEvent::new(merchant.clone(), event_type, "{}".into())
    }

    fn keyed(merchant: &MerchantId, key: &str) -> NewEvent {
        NewEvent {
            idempotency_key: Some(key.to_owned()),
            ..event(merchant, PAYIN)
        }
    }

    fn target(filter: &[&str], enabled: bool) -> FanOutTarget {
        let id = EndpointId::generate();
        FanOutTarget {
            filter: filter.iter().map(|f| (*f).to_owned()).collect(),
            enabled,
            mode: EndpointMode::Live,
            destination: Destination::Endpoint {
                id: id.clone(),
                url: "https://example.com/hook".into(),
                secret: "whsec_test".into(),
                previous_secret: None,
                headers: "{}".into(),
                rate_limit_per_s: None,
                legacy_signature: false,
                retry_schedule: None,
                encryption_key: None,
                profile: None,
                timeout: None,
                previous_signs_first: false,
            },
            id,
        }
    }

    /// The catalog's types (`payout.reversed` archived) and `merchant`'s
    /// endpoints, with the endpoints' ids.
    fn reads(merchant: &MerchantId, endpoints: Vec<FanOutTarget>) -> (BatchReads, Vec<EndpointId>) {
        let ids = endpoints.iter().map(|t| t.id.clone()).collect();
        let reads = BatchReads {
            merchants: HashSet::from([merchant.to_string()]),
            event_types: HashMap::from([
                (PAYIN.to_owned(), false),
                ("payin.failed".to_owned(), false),
                ("payout.failed".to_owned(), false),
                ("payout.reversed".to_owned(), true),
            ]),
            endpoints: HashMap::from([(merchant.to_string(), endpoints)]),
            stored_keys: HashMap::new(),
        };
        (reads, ids)
    }

    /// The endpoint each delivery goes to (`None`: the callback), and whether leased.
    fn recipients(plan: &IngestPlan<'_>) -> Vec<(Option<EndpointId>, bool)> {
        plan.deliveries
            .iter()
            .map(|d| match d.to {
                Recipient::Endpoint { target, leased } => (Some(target.id.clone()), leased),
                Recipient::Callback(_) => (None, false),
            })
            .collect()
    }

    fn created(event: &NewEvent, deliveries: u64) -> Result<Ingested, IngestRefusal> {
        Ok(Ingested::Created {
            id: event.id.clone(),
            deliveries,
        })
    }

    #[test]
    fn unknown_merchants_and_unknown_or_archived_types_are_refused_in_that_order() {
        let merchant = MerchantId::generate();
        let stranger = MerchantId::generate();
        let (reads, _) = reads(&merchant, vec![target(&[], true)]);
        let events = [
            event(&stranger, "payin.teleported"),
            event(&merchant, "payin.teleported"),
            event(&merchant, "payout.reversed"),
            event(&merchant, PAYIN),
        ];
        let plan = plan(&events, &reads, filter_matches, None);
        assert_eq!(
            plan.answers,
            [
                Err(IngestRefusal::UnknownMerchant),
                Err(IngestRefusal::UnknownType),
                Err(IngestRefusal::ArchivedType),
                created(&events[3], 1),
            ]
        );
        assert_eq!(plan.new_events.len(), 1, "only the good event is stored");
        assert_eq!(plan.new_events[0].id, events[3].id);
        assert!(plan.deliveries.iter().all(|d| d.event.id == events[3].id));
    }

    #[test]
    fn a_refused_event_takes_no_idempotency_key() {
        let merchant = MerchantId::generate();
        let (reads, _) = reads(&merchant, vec![target(&[], true)]);
        let refused = NewEvent {
            event_type: "payin.teleported".into(),
            ..keyed(&merchant, "k1")
        };
        let events = [refused, keyed(&merchant, "k1")];
        let plan = plan(&events, &reads, filter_matches, None);
        assert_eq!(
            plan.answers,
            [Err(IngestRefusal::UnknownType), created(&events[1], 1)]
        );
    }

    #[test]
    fn a_key_repeated_within_the_batch_is_a_duplicate_of_its_first_event() {
        let merchant = MerchantId::generate();
        let other = MerchantId::generate();
        let (mut reads, _) = reads(&merchant, vec![target(&[], true), target(&[], true)]);
        reads.merchants.insert(other.to_string());
        let events = [
            keyed(&merchant, "k1"),
            keyed(&merchant, "k1"),
            keyed(&other, "k1"),
            keyed(&merchant, "k2"),
        ];
        let plan = plan(&events, &reads, filter_matches, None);
        assert_eq!(
            plan.answers,
            [
                created(&events[0], 2),
                Ok(Ingested::Duplicate {
                    id: events[0].id.clone(),
                    deliveries: 2
                }),
                created(&events[2], 0),
                created(&events[3], 2),
            ],
            "keys are per merchant"
        );
        let stored: Vec<&EventId> = plan.new_events.iter().map(|e| &e.id).collect();
        assert_eq!(stored, [&events[0].id, &events[2].id, &events[3].id]);
        assert_eq!(plan.deliveries.len(), 4, "none for the duplicate");
    }

    #[test]
    fn a_key_stored_before_is_a_duplicate_of_that_event_and_offers_nothing() {
        let merchant = MerchantId::generate();
        let (mut reads, _) = reads(&merchant, vec![target(&[], true)]);
        let earlier = Earlier {
            id: EventId::generate(),
            deliveries: 3,
        };
        reads.stored_keys.insert(
            merchant.to_string(),
            HashMap::from([("k1".to_owned(), earlier.clone())]),
        );
        let events = [keyed(&merchant, "k1"), keyed(&merchant, "k1")];
        let mut asked = 0;
        let mut take = |_: &MerchantId, _: &EndpointId| {
            asked += 1;
            true
        };
        let plan = plan(&events, &reads, filter_matches, Some(&mut take));
        let duplicate = Ok(Ingested::Duplicate {
            id: earlier.id,
            deliveries: 3,
        });
        assert_eq!(plan.answers, [duplicate.clone(), duplicate]);
        assert!(plan.new_events.is_empty() && plan.deliveries.is_empty());
        assert_eq!(asked, 0);
    }

    #[test]
    fn a_callback_url_takes_the_place_of_the_endpoints_and_is_never_leased() {
        let merchant = MerchantId::generate();
        let (reads, _) = reads(&merchant, vec![target(&[], true), target(&[PAYIN], true)]);
        let events = [NewEvent {
            callback_url: Some("https://example.com/callback".into()),
            ..event(&merchant, PAYIN)
        }];
        let mut asked = 0;
        let mut take = |_: &MerchantId, _: &EndpointId| {
            asked += 1;
            true
        };
        let plan = plan(&events, &reads, filter_matches, Some(&mut take));
        assert_eq!(plan.answers, [created(&events[0], 1)]);
        assert!(matches!(
            plan.deliveries[..],
            [PlannedDelivery {
                to: Recipient::Callback("https://example.com/callback"),
                ..
            }]
        ));
        assert!(plan.deliveries[0].leased_to().is_none());
        assert_eq!(asked, 0, "a callback is not offered");
    }

    #[test]
    fn an_event_fans_out_to_the_enabled_endpoints_whose_filter_matches_in_endpoint_order() {
        let merchant = MerchantId::generate();
        let endpoints = vec![
            target(&[], true),
            target(&["payin.*"], true),
            target(&["payout.failed"], true),
            target(&["payout.*", PAYIN], true),
            target(&[PAYIN], false),
            target(&["pay.*"], true),
        ];
        let (reads, ids) = reads(&merchant, endpoints);
        let events = [event(&merchant, PAYIN), event(&merchant, "payout.failed")];
        let plan = plan(&events, &reads, filter_matches, None);
        assert_eq!(
            plan.answers,
            [created(&events[0], 3), created(&events[1], 3)]
        );
        let to = |i: usize| (Some(ids[i].clone()), false);
        assert_eq!(
            recipients(&plan),
            [to(0), to(1), to(3), to(0), to(2), to(3)],
            "not the disabled endpoint, nor a pattern that is not a prefix of words"
        );
    }

    #[test]
    fn an_operational_event_never_goes_to_the_endpoint_it_is_about() {
        let merchant = MerchantId::generate();
        let (mut reads, ids) = reads(
            &merchant,
            vec![target(&["herald.*"], true), target(&["herald.*"], true)],
        );
        reads
            .event_types
            .insert("herald.endpoint.disabled".to_owned(), false);
        let events = [NewEvent {
            about_endpoint: Some(ids[0].clone()),
            ..event(&merchant, "herald.endpoint.disabled")
        }];
        let plan = plan(&events, &reads, filter_matches, None);
        assert_eq!(recipients(&plan), [(Some(ids[1].clone()), false)]);
    }

    #[test]
    fn an_event_for_one_endpoint_goes_there_alone_whatever_its_filter_if_enabled() {
        let merchant = MerchantId::generate();
        let endpoints = vec![
            target(&[], true),
            target(&["refund.*"], true),
            target(&[], false),
        ];
        let (reads, ids) = reads(&merchant, endpoints);
        let events = [
            NewEvent {
                only_endpoint: Some(ids[1].clone()),
                ..event(&merchant, PAYIN)
            },
            NewEvent {
                only_endpoint: Some(ids[2].clone()),
                ..event(&merchant, PAYIN)
            },
        ];
        let plan = plan(&events, &reads, filter_matches, None);
        assert_eq!(
            plan.answers,
            [created(&events[0], 1), created(&events[1], 0)]
        );
        assert_eq!(recipients(&plan), [(Some(ids[1].clone()), false)]);
    }

    #[test]
    fn live_events_go_to_live_endpoints_and_test_events_to_test_endpoints() {
        let merchant = MerchantId::generate();
        let sandbox = FanOutTarget {
            mode: EndpointMode::Test,
            ..target(&[], true)
        };
        let (reads, ids) = reads(&merchant, vec![target(&[], true), sandbox]);
        let (live, sandbox) = (ids[0].clone(), ids[1].clone());
        let events = [
            event(&merchant, PAYIN),
            NewEvent {
                live_mode: false,
                ..event(&merchant, PAYIN)
            },
            // A test sent to the live endpoint from its page still goes there.
            NewEvent {
                live_mode: false,
                only_endpoint: Some(live.clone()),
                ..event(&merchant, PAYIN)
            },
        ];
        let plan = plan(&events, &reads, filter_matches, None);
        assert_eq!(
            recipients(&plan),
            [
                (Some(live.clone()), false),
                (Some(sandbox), false),
                (Some(live), false)
            ]
        );
    }

    #[test]
    fn a_merchant_without_endpoints_gets_its_events_stored_with_no_deliveries() {
        let merchant = MerchantId::generate();
        let (reads, _) = reads(&merchant, Vec::new());
        let events = [event(&merchant, PAYIN)];
        let plan = plan(&events, &reads, filter_matches, None);
        assert_eq!(plan.answers, [created(&events[0], 0)]);
        assert_eq!(plan.new_events.len(), 1);
        assert!(plan.deliveries.is_empty());
    }

    #[test]
    fn each_delivery_of_an_unkeyed_event_is_offered_in_order_and_leased_if_taken() {
        let merchant = MerchantId::generate();
        let endpoints = vec![target(&[], true), target(&[], true)];
        let (reads, ids) = reads(&merchant, endpoints);
        let events = [
            event(&merchant, PAYIN),
            NewEvent {
                ordering_key: Some("txn_1".into()),
                ..event(&merchant, PAYIN)
            },
            event(&merchant, "payin.failed"),
        ];
        // Room for two: the first endpoint's, then whatever is offered next.
        let mut asked = Vec::new();
        let mut take = |offered_for: &MerchantId, endpoint: &EndpointId| {
            assert_eq!(*offered_for, merchant);
            asked.push(endpoint.clone());
            asked.len() == 1 || asked.len() == 3
        };
        let plan = plan(&events, &reads, filter_matches, Some(&mut take));
        assert_eq!(
            asked,
            [
                ids[0].clone(),
                ids[1].clone(),
                ids[0].clone(),
                ids[1].clone()
            ],
            "the keyed event's deliveries are not offered"
        );
        let leased: Vec<(&EventId, &EndpointId)> = plan
            .deliveries
            .iter()
            .filter_map(|d| Some((&d.event.id, &d.leased_to()?.id)))
            .collect();
        assert_eq!(leased, [(&events[0].id, &ids[0]), (&events[2].id, &ids[0])]);
        assert_eq!(plan.deliveries.len(), 6);
    }

    #[test]
    fn without_an_offer_nothing_is_leased() {
        let merchant = MerchantId::generate();
        let (reads, _) = reads(&merchant, vec![target(&[], true)]);
        let events = [event(&merchant, PAYIN)];
        let plan = plan(&events, &reads, filter_matches, None);
        assert_eq!(recipients(&plan).len(), 1);
        assert!(plan.deliveries[0].leased_to().is_none());
    }
}
