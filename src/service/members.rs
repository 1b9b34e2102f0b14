//! A merchant's team: owners invite people by e-mail (the link is shown
//! once to copy, and mailed too when SMTP is configured), change their
//! roles and remove them. A removed member's sessions end at once (each
//! request checks its member still exists). No change ever leaves a
//! merchant without an owner.
//!
//! An invitation's token is 256 random bits, stored as SHA-256 only, and
//! works once, for `INVITATION_LIFETIME`.

use super::access::require;
use super::api_keys::hash_api_key;
use super::audit::{Actor, Audit, Change};
use super::clock::Clock;
use super::mail::{Mail, Mailer};
use super::{password, ServiceError};
use crate::store::{NewInvitation, Store, StoreError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::SubsecRound;
use herald_app::model::audit::AuditAction;
use herald_app::model::id::{InvitationId, MemberId, MerchantId};
use herald_app::model::member::{
    Account, Invitation, IssuedInvitation, Member, MemberRole, Permission, Team,
};
use herald_app::model::merchant::{normalize_email, validate_password};
use rand::RngCore;

/// How long an invitation may wait to be accepted.
pub const INVITATION_LIFETIME: chrono::Duration = chrono::Duration::days(7);

/// Where invitations open: `/invitations/<token>` on the dashboard.
pub const INVITATION_PATH: &str = "/invitations/";

/// What refusing to leave a merchant without an owner says.
pub const LAST_OWNER: &str = "This is the account's only owner: make someone else an owner first.";

/// The team operations.
#[derive(Clone)]
pub struct Members {
    store: Store,
    mailer: Option<Mailer>,
    /// The dashboard's address as people reach it (`HERALD_PUBLIC_URL`).
    public_url: String,
    clock: Clock,
    audit: Audit,
}

impl std::fmt::Debug for Members {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Members")
            .field("mail", &self.mailer.is_some())
            .finish_non_exhaustive()
    }
}

impl Members {
    /// Team operations over `store`; invitations are mailed with `mailer`
    /// when there is one and point at `public_url`.
    pub fn new(store: Store, mailer: Option<Mailer>, public_url: String) -> Self {
        Members {
            audit: Audit::new(store.clone()),
            store,
            mailer,
            public_url: public_url.trim_end_matches('/').to_owned(),
            clock: Clock::system(),
        }
    }

    /// The same, reading the time from `clock`.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The merchant's members, oldest first.
    pub async fn list(&self, merchant: &MerchantId) -> Result<Vec<Member>, ServiceError> {
        Ok(self.store.members_of(merchant).await?)
    }

    /// The merchant's open invitations, newest first.
    pub async fn invitations(
        &self,
        merchant: &MerchantId,
    ) -> Result<Vec<Invitation>, ServiceError> {
        Ok(self
            .store
            .open_invitations(merchant, self.clock.now())
            .await?)
    }

    /// The team page's data, for member `you`.
    pub async fn team(&self, merchant: &MerchantId, you: &MemberId) -> Result<Team, ServiceError> {
        Ok(Team {
            members: self.list(merchant).await?,
            invitations: self.invitations(merchant).await?,
            you: you.clone(),
            mail_configured: self.mailer.is_some(),
        })
    }

    /// Invites `email` to join `merchant` as `role` (owners only).
    pub async fn invite(
        &self,
        merchant: &MerchantId,
        email: &str,
        role: MemberRole,
    ) -> Result<IssuedInvitation, ServiceError> {
        require(Permission::ManageMembers)?;
        let email = normalize_email(email)?;
        let Some(account) = self.store.merchant_by_id(merchant).await? else {
            return Err(ServiceError::NotFound("merchant"));
        };
        if self.store.member_by_email(&email).await?.is_some() {
            return Err(ServiceError::Conflict(
                "Someone with this email is already a member of a Herald account.".into(),
            ));
        }
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let token = format!("hin_{}", URL_SAFE_NO_PAD.encode(bytes));
        let created_at = self.clock.now().trunc_subsecs(3);
        let invitation = Invitation {
            id: InvitationId::generate(),
            email: email.clone(),
            role,
            created_at,
            expires_at: created_at + INVITATION_LIFETIME,
        };
        self.store
            .insert_invitation(&NewInvitation {
                invitation: invitation.clone(),
                token_hash: hash_api_key(&token),
                merchant_id: merchant.clone(),
            })
            .await?;
        self.audit
            .record(
                Change::new(merchant, AuditAction::MemberInvited, &email)
                    .detail(format!("as {}", role.as_str())),
            )
            .await?;
        let url = format!("{}{INVITATION_PATH}{token}", self.public_url);
        let mailed = match &self.mailer {
            Some(mailer) => {
                let mail = Mail {
                    to: email,
                    subject: format!("Join {} on Herald", account.name),
                    body: format!(
                        "You are invited to join \"{}\" on Herald, its webhook dashboard, as {} \
                         ({}).\n\nOpen this link within 7 days to choose a password and log \
                         in; it works once:\n\n{url}\n",
                        account.name,
                        role.label().to_lowercase(),
                        role.summary()
                    ),
                };
                let mailer = mailer.clone();
                // Sent on its own task: a slow SMTP server never holds the page.
                tokio::spawn(async move {
                    if let Err(e) = mailer.send(&mail).await {
                        tracing::warn!(error = %e, "mailing an invitation failed");
                    }
                });
                true
            }
            None => false,
        };
        Ok(IssuedInvitation {
            invitation,
            url,
            mailed,
        })
    }

    /// Withdraws one of the merchant's open invitations (owners only).
    pub async fn revoke_invitation(
        &self,
        merchant: &MerchantId,
        id: &InvitationId,
    ) -> Result<(), ServiceError> {
        require(Permission::ManageMembers)?;
        if !self.store.revoke_invitation(merchant, id).await? {
            return Err(ServiceError::NotFound("invitation"));
        }
        self.audit
            .record(Change::new(
                merchant,
                AuditAction::InvitationRevoked,
                id.as_str(),
            ))
            .await
    }

    /// Gives one of the merchant's members `role` (owners only); never
    /// demotes the last owner.
    pub async fn set_role(
        &self,
        merchant: &MerchantId,
        id: &MemberId,
        role: MemberRole,
    ) -> Result<Member, ServiceError> {
        require(Permission::ManageMembers)?;
        let current = self.member_of(merchant, id).await?;
        if current.role == role {
            return Ok(current);
        }
        if !self.store.set_member_role(merchant, id, role).await? {
            return Err(ServiceError::Conflict(LAST_OWNER.into()));
        }
        self.audit
            .record(
                Change::new(merchant, AuditAction::MemberRoleChanged, &current.email)
                    .detail(format!("{} → {}", current.role.as_str(), role.as_str())),
            )
            .await?;
        Ok(Member { role, ..current })
    }

    /// Removes one of the merchant's members (owners only); never the last
    /// owner. Their sessions end at once.
    pub async fn remove(&self, merchant: &MerchantId, id: &MemberId) -> Result<(), ServiceError> {
        require(Permission::ManageMembers)?;
        let current = self.member_of(merchant, id).await?;
        if !self.store.remove_member(merchant, id).await? {
            return Err(ServiceError::Conflict(LAST_OWNER.into()));
        }
        self.audit
            .record(Change::new(
                merchant,
                AuditAction::MemberRemoved,
                &current.email,
            ))
            .await
    }

    /// The name of the team an open invitation with `token` is for, and
    /// the invitation.
    pub async fn invitation(&self, token: &str) -> Result<(String, Invitation), ServiceError> {
        let Some(open) = self
            .store
            .open_invitation(&hash_api_key(token), self.clock.now())
            .await?
        else {
            return Err(ServiceError::NotFound("invitation"));
        };
        let name = self
            .store
            .merchant_by_id(&open.merchant_id)
            .await?
            .map(|m| m.name)
            .ok_or(ServiceError::NotFound("invitation"))?;
        Ok((name, open.invitation))
    }

    /// Accepts the invitation with `token`, with the new member's
    /// password: once, in time. The account to log in.
    pub async fn accept(&self, token: &str, new_password: &str) -> Result<Account, ServiceError> {
        validate_password(new_password)?;
        let token_hash = hash_api_key(token);
        // A dead link costs no argon2 run.
        if self
            .store
            .open_invitation(&token_hash, self.clock.now())
            .await?
            .is_none()
        {
            return Err(ServiceError::NotFound("invitation"));
        }
        let hash = password::hash(new_password.to_owned()).await?;
        let record = match self
            .store
            .accept_invitation(&token_hash, MemberId::generate(), &hash, self.clock.now())
            .await
        {
            Ok(Some(record)) => record,
            Ok(None) => return Err(ServiceError::NotFound("invitation")),
            Err(StoreError::Conflict(_)) => {
                return Err(ServiceError::Conflict(
                    "Someone with this email is already a member of a Herald account.".into(),
                ))
            }
            Err(e) => return Err(e.into()),
        };
        let Some(merchant) = self.store.merchant_by_id(&record.merchant_id).await? else {
            return Err(ServiceError::NotFound("invitation"));
        };
        self.audit
            .record_as(
                &Actor::Member(record.member.email.clone()),
                Change::about(&merchant.id, AuditAction::MemberJoined)
                    .detail(format!("as {}", record.member.role.as_str())),
            )
            .await?;
        Ok(Account {
            merchant,
            member: record.member,
        })
    }

    /// One of the merchant's members (`NotFound` for anyone else's).
    async fn member_of(
        &self,
        merchant: &MerchantId,
        id: &MemberId,
    ) -> Result<Member, ServiceError> {
        match self.store.member_by_id(id).await? {
            Some(record) if &record.merchant_id == merchant => Ok(record.member),
            _ => Err(ServiceError::NotFound("member")),
        }
    }
}
