//! Passwords after sign-up: a member changes their own (the current one
//! required), or resets a forgotten one with a link mailed to its address
//! when SMTP is configured. Either way every other session of the account
//! ends (`store::sessions` refuses sessions begun before the change), and
//! links mailed earlier stop working.
//!
//! A reset token is 256 random bits; only its SHA-256 is stored, like a
//! login link's. Asking for a link answers the same whether the address is
//! an account or not, so the form tells no one who has an account.

use super::api_keys::hash_api_key;
use super::audit::{Actor, Audit, Change};
use super::clock::Clock;
use super::login_throttle::{LoginThrottle, Throttled};
use super::mail::{Mail, Mailer};
use super::rate_limits::{Per, RateLimit};
use super::{password, ServiceError};
use crate::store::{NewPasswordReset, Store};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::SubsecRound;
use herald_app::model::audit::AuditAction;
use herald_app::model::id::MemberId;
use herald_app::model::merchant::{normalize_email, validate_password, FieldError};
use rand::RngCore;
use std::net::IpAddr;

/// How long a mailed reset link works: long enough to reach a mailbox,
/// short enough that an old mail in a breached inbox is worthless.
pub const RESET_LIFETIME: chrono::Duration = chrono::Duration::minutes(30);

/// Where reset links open: `/reset-password/<token>` on the dashboard.
pub const RESET_PATH: &str = "/reset-password/";

/// Reset mails one account gets per hour at most; more requests are
/// answered the same way and send nothing (no one fills an inbox with them).
const RESETS_PER_ACCOUNT_PER_HOUR: u32 = 5;

/// What a wrong current password says.
pub const WRONG_CURRENT_PASSWORD: &str = "That is not your current password.";

/// Why a reset link changed nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetRefused {
    /// No such link.
    Unknown,
    /// Used already (or voided by a later change of the password).
    Used,
    /// Its time is over.
    Expired,
}

impl ResetRefused {
    /// What the reset page says.
    pub fn message(self) -> &'static str {
        match self {
            ResetRefused::Unknown => {
                "This reset link is not valid. Ask for a new one on the log-in page."
            }
            ResetRefused::Used => {
                "This reset link has been used already: each link works once. Ask for a new one."
            }
            ResetRefused::Expired => {
                "This reset link has expired: links work for 30 minutes. Ask for a new one."
            }
        }
    }
}

/// The password operations.
#[derive(Clone, Debug)]
pub struct Passwords {
    store: Store,
    /// `None`: no SMTP, so no reset by mail.
    mailer: Option<MailerHandle>,
    /// The dashboard's address as people reach it (`HERALD_PUBLIC_URL`).
    public_url: String,
    clock: Clock,
    audit: Audit,
    /// Wrong current passwords and reset requests, per account and address.
    throttle: LoginThrottle,
    /// Reset mails per account.
    mails: RateLimit<String>,
}

/// The mailer, with a `Debug` that says nothing about it.
#[derive(Clone)]
struct MailerHandle(Mailer);

impl std::fmt::Debug for MailerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Mailer")
    }
}

impl Passwords {
    /// Password operations over `store`; reset links are mailed with
    /// `mailer` (none: no resets) and point at `public_url`.
    pub fn new(store: Store, mailer: Option<Mailer>, public_url: String) -> Self {
        Passwords {
            audit: Audit::new(store.clone()),
            store,
            mailer: mailer.map(MailerHandle),
            public_url: public_url.trim_end_matches('/').to_owned(),
            clock: Clock::system(),
            throttle: LoginThrottle::default(),
            mails: RateLimit::new(
                "password reset mails",
                RESETS_PER_ACCOUNT_PER_HOUR,
                Per::Hour,
                "per account",
                "nothing",
            ),
        }
    }

    /// The same, reading the time from `clock`.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Whether a forgotten password can be reset by mail here.
    pub fn reset_by_mail(&self) -> bool {
        self.mailer.is_some()
    }

    /// Changes `member`'s password from `current` to `new`, asked from
    /// `client`. Every other session of the account ends; the caller keeps
    /// its own by starting it afresh (a new session id).
    pub async fn change(
        &self,
        member: &MemberId,
        current: &str,
        new: &str,
        client: Option<IpAddr>,
    ) -> Result<(), ServiceError> {
        validate_password(new).map_err(|e| renamed(e, "new_password"))?;
        let Some(record) = self.store.member_by_id(member).await? else {
            return Err(ServiceError::NotFound("member"));
        };
        let Some(stored) = record.password_hash else {
            return Err(ServiceError::invalid("current_password", NO_PASSWORD));
        };
        // Guessing the current password from a session left open is
        // throttled like log-in guessing.
        let reservation = self
            .throttle
            .reserve(member.as_str(), client)
            .map_err(too_many)?;
        if !password::verify(current.to_owned(), Some(stored)).await? {
            return Err(ServiceError::invalid(
                "current_password",
                WRONG_CURRENT_PASSWORD,
            ));
        }
        self.throttle.succeeded(reservation);
        let hash = password::hash(new.to_owned()).await?;
        let now = self.clock.now().trunc_subsecs(3);
        if !self.store.set_password(member, &hash, now).await? {
            return Err(ServiceError::NotFound("member"));
        }
        self.audit
            .record(Change::about(
                &record.merchant_id,
                AuditAction::PasswordChanged,
            ))
            .await
    }

    /// Mails a reset link to the account with `email`, if there is one and
    /// it has not had too many lately; answers the same either way.
    /// `Forbidden` when this Herald cannot send mail.
    pub async fn request_reset(
        &self,
        email: &str,
        client: Option<IpAddr>,
    ) -> Result<(), ServiceError> {
        let Some(MailerHandle(mailer)) = &self.mailer else {
            return Err(ServiceError::Forbidden(NO_MAIL.into()));
        };
        let email = normalize_email(email)?;
        // Counted per address too, so one client cannot walk a list of
        // emails; each request counts, none "succeeds".
        self.throttle.reserve(&email, client).map_err(too_many)?;
        // Only an account with a password resets one: one the platform made
        // without (it logs in with login links) gets no password by mail.
        let Some(member) = self
            .store
            .member_by_email(&email)
            .await?
            .filter(|member| member.password_hash.is_some())
        else {
            return Ok(());
        };
        let Some(merchant) = self.store.merchant_by_id(&member.merchant_id).await? else {
            return Ok(());
        };
        if self.mails.check(&email).is_err() {
            return Ok(());
        }
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let token = format!("hpr_{}", URL_SAFE_NO_PAD.encode(bytes));
        let created_at = self.clock.now().trunc_subsecs(3);
        self.store
            .insert_password_reset(&NewPasswordReset {
                token_hash: hash_api_key(&token),
                member_id: member.member.id.clone(),
                created_at,
                expires_at: created_at + RESET_LIFETIME,
            })
            .await?;
        self.audit
            .record_as(
                &Actor::Member(email.clone()),
                Change::about(&merchant.id, AuditAction::PasswordResetRequested),
            )
            .await?;
        let mail = Mail {
            to: email,
            subject: "Reset your Herald password".into(),
            body: format!(
                "Someone (we hope you) asked to reset the password of the Herald account \
                 \"{}\".\n\nOpen this link within 30 minutes to choose a new password; it \
                 works once:\n\n{}{RESET_PATH}{token}\n\nIf you did not ask, ignore this \
                 mail: your password stays as it is.\n",
                merchant.name, self.public_url
            ),
        };
        // Sent on its own task: a slow SMTP server neither holds the page
        // nor, by the time the answer takes, tells who has an account.
        let mailer = mailer.clone();
        tokio::spawn(async move {
            if let Err(e) = mailer.send(&mail).await {
                tracing::warn!(error = %e, "mailing a password reset link failed");
            }
        });
        Ok(())
    }

    /// Sets a new password with the reset link's `token`: once, within its
    /// lifetime. Ends every session of the account. Why not, when it could
    /// not be used.
    pub async fn reset(
        &self,
        token: &str,
        new: &str,
    ) -> Result<Result<MemberId, ResetRefused>, ServiceError> {
        validate_password(new)?;
        let token_hash = hash_api_key(token);
        let now = self.clock.now();
        // Told apart before hashing: a dead link costs no argon2 run.
        match self.store.password_reset_state(&token_hash).await? {
            None => return Ok(Err(ResetRefused::Unknown)),
            Some(state) if state.used => return Ok(Err(ResetRefused::Used)),
            Some(state) if state.expires_at <= now => return Ok(Err(ResetRefused::Expired)),
            Some(_) => {}
        }
        let hash = password::hash(new.to_owned()).await?;
        let now = self.clock.now();
        let Some(member) = self.store.reset_password(&token_hash, &hash, now).await? else {
            // Used or expired while the password was hashed.
            return Ok(Err(
                match self.store.password_reset_state(&token_hash).await? {
                    Some(state) if !state.used => ResetRefused::Expired,
                    Some(_) => ResetRefused::Used,
                    None => ResetRefused::Unknown,
                },
            ));
        };
        if let Some(record) = self.store.member_by_id(&member).await? {
            self.audit
                .record_as(
                    &Actor::Member(record.member.email),
                    Change::about(&record.merchant_id, AuditAction::PasswordReset),
                )
                .await?;
        }
        Ok(Ok(member))
    }
}

/// What changing the password of an account without one says.
pub const NO_PASSWORD: &str =
    "This account has no password: it logs in with links from your platform.";

/// What the forgot-password form says when this Herald has no SMTP.
pub const NO_MAIL: &str = "This Herald cannot send e-mail (no SMTP server is configured), so a \
     forgotten password cannot be reset by mail here. Ask your platform's operators for a login \
     link, then choose a new password under Account.";

fn too_many(Throttled { retry_after }: Throttled) -> ServiceError {
    ServiceError::RateLimited {
        message: format!(
            "Too many attempts. Try again in {} s.",
            retry_after.as_secs()
        ),
        retry_after,
    }
}

/// A password rule's error, about the form field `field`.
fn renamed(e: FieldError, field: &str) -> ServiceError {
    ServiceError::invalid(field, e.message)
}
