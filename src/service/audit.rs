//! The audit log: services append an entry for each change a security
//! review asks about (and each secret revealed, each log-in), saying who,
//! what, when, from where, on which merchant and which object.
//!
//! Who and from where are properties of the request, not of the operation:
//! the HTTP edge opens a `RequestContext` around each request
//! (`within_request`) with the client's address and the dashboard account,
//! and the credential checks add the API key or the platform token when one
//! is used. Services read it when they record, so no operation's signature
//! carries the caller for the log's sake. Outside a request (the delivery
//! engine, the CLI) the actor is Herald itself.
//!
//! Entries are only ever inserted: no code updates or deletes them, and
//! retention (which purges delivery history) never touches the table.

use super::pagination::{decode_cursor_as, page, Page};
use super::ServiceError;
use crate::store::{NewAuditEntry, Store};
use chrono::{SubsecRound, Utc};
use herald_app::model::audit::{ActorKind, AuditAction, AuditEntry};
use herald_app::model::id::{ApiKeyId, AuditEntryId, MerchantId};
use herald_app::model::member::MemberRole;
use herald_app::model::scope::Scope;
use std::future::Future;
use std::net::IpAddr;
use std::sync::Mutex;

/// Who is acting, as the log names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A dashboard account, by email.
    Member(String),
    /// A merchant API key.
    ApiKey(ApiKeyId),
    /// The platform token (`None`), or an operator's account (its email).
    Operator(Option<String>),
    /// Herald itself.
    Herald,
}

impl Actor {
    fn parts(&self) -> (ActorKind, Option<String>) {
        match self {
            Actor::Member(email) => (ActorKind::Member, Some(email.clone())),
            Actor::ApiKey(id) => (ActorKind::ApiKey, Some(id.to_string())),
            Actor::Operator(email) => (ActorKind::Operator, email.clone()),
            Actor::Herald => (ActorKind::Herald, None),
        }
    }
}

/// A dashboard session's member, as checked at the start of the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionMember {
    pub merchant: MerchantId,
    pub email: String,
    pub role: MemberRole,
}

/// What the edge knows about the request being served.
#[derive(Debug, Default)]
pub struct RequestContext {
    client: Option<IpAddr>,
    /// The dashboard member of the session, when the request has no bearer
    /// token (with one, the session is not what authenticates it).
    member: Option<SessionMember>,
    /// The credential that authenticated the request, once checked.
    credential: Mutex<Option<Actor>>,
}

impl RequestContext {
    /// A request from `client`, logged in to the dashboard as `member`.
    pub fn new(client: Option<IpAddr>, member: Option<SessionMember>) -> Self {
        RequestContext {
            client,
            member,
            credential: Mutex::new(None),
        }
    }
}

tokio::task_local! {
    static REQUEST: RequestContext;
}

/// Runs `serve` (the handling of one request) with `context` as the request
/// audit entries are about.
pub async fn within_request<F: Future>(context: RequestContext, serve: F) -> F::Output {
    REQUEST.scope(context, serve).await
}

/// Notes the credential that authenticated this request (an API key, the
/// platform token); a no-op outside a request.
pub fn authenticated_as(actor: Actor) {
    let _ = REQUEST.try_with(|request| {
        if let Ok(mut credential) = request.credential.lock() {
            *credential = Some(actor);
        }
    });
}

/// The request's credential, its dashboard member and its client address.
fn current() -> (Option<Actor>, Option<SessionMember>, Option<IpAddr>) {
    REQUEST
        .try_with(|request| {
            let credential = request.credential.lock().ok().and_then(|c| c.clone());
            (credential, request.member.clone(), request.client)
        })
        .unwrap_or((Some(Actor::Herald), None, None))
}

/// The role this request acts with: its session member's, when a session
/// (not an API key or the platform token) authenticates it. `None` means
/// no role limits it: a credential, or no request at all (the engine, the
/// CLI).
pub(super) fn acting_role() -> Option<MemberRole> {
    REQUEST
        .try_with(|request| {
            let has_credential = request
                .credential
                .lock()
                .map(|c| c.is_some())
                .unwrap_or(true);
            if has_credential {
                None
            } else {
                request.member.as_ref().map(|m| m.role)
            }
        })
        .ok()
        .flatten()
}

/// One change to record.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    pub merchant: Option<&'a MerchantId>,
    pub action: AuditAction,
    pub object_id: Option<&'a str>,
    pub detail: Option<String>,
}

impl<'a> Change<'a> {
    /// `action` on `object_id` of `merchant`.
    pub fn new(merchant: &'a MerchantId, action: AuditAction, object_id: &'a str) -> Self {
        Change {
            merchant: Some(merchant),
            action,
            object_id: Some(object_id),
            detail: None,
        }
    }

    /// `action` on `merchant`'s account itself.
    pub fn about(merchant: &'a MerchantId, action: AuditAction) -> Self {
        Change {
            merchant: Some(merchant),
            action,
            object_id: None,
            detail: None,
        }
    }

    /// The same, saying more.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

/// The audit log.
#[derive(Clone, Debug)]
pub struct Audit {
    store: Store,
}

impl Audit {
    /// The log in `store`.
    pub fn new(store: Store) -> Self {
        Audit { store }
    }

    /// Appends `change`, by whoever this request is.
    pub async fn record(&self, change: Change<'_>) -> Result<(), ServiceError> {
        let (credential, member, _) = current();
        let actor = match (credential, member) {
            (Some(actor), _) => actor,
            (None, Some(member)) => self.member_actor(&member).await?,
            // A request nothing authenticated changes nothing audited;
            // should one, it is not blamed on anyone.
            (None, None) => Actor::Herald,
        };
        self.record_as(&actor, change).await
    }

    /// Appends `change` by `actor` (log-ins, where the request itself
    /// decides who it is).
    pub async fn record_as(&self, actor: &Actor, change: Change<'_>) -> Result<(), ServiceError> {
        let (_, _, client) = current();
        let (actor_kind, actor) = actor.parts();
        self.store
            .insert_audit_entry(&NewAuditEntry {
                id: AuditEntryId::generate(),
                at: Utc::now().trunc_subsecs(3),
                merchant_id: change.merchant.cloned(),
                actor_kind,
                actor,
                action: change.action,
                object_id: change.object_id.map(str::to_owned),
                detail: change.detail,
                client_address: client.map(|ip| ip.to_string()),
            })
            .await?;
        Ok(())
    }

    /// A session's member as an actor: an operator account's member is the
    /// platform's person, anyone else a member, by email.
    async fn member_actor(&self, member: &SessionMember) -> Result<Actor, ServiceError> {
        Ok(match self.store.merchant_by_id(&member.merchant).await? {
            Some(merchant) if merchant.is_admin() => Actor::Operator(Some(member.email.clone())),
            _ => Actor::Member(member.email.clone()),
        })
    }

    /// The entries `scope` may see, newest first: a merchant its own, an
    /// operator every merchant's or (`merchant`) one's.
    pub async fn list(
        &self,
        scope: &Scope,
        merchant: Option<&str>,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<AuditEntry>, ServiceError> {
        let merchant = match scope {
            Scope::Merchant(own) => Some(own.clone()),
            Scope::Operator => merchant
                .map(MerchantId::parse)
                .transpose()
                .map_err(|e| ServiceError::invalid("merchant_id", e.to_string()))?,
        };
        let before = decode_cursor_as(cursor, AuditEntryId::parse)?;
        let entries: Vec<AuditEntry> = self
            .store
            .audit_entries(merchant.as_ref(), before.as_ref(), limit)
            .await?;
        Ok(page(entries, limit, |e| (e.at, e.id.to_string())))
    }
}
