//! Operational mail: one plain-text message per alert, to the merchant's
//! address, through the SMTP server of `HERALD_SMTP_URL`.

use crate::store::Store;
use herald_app::model::id::AlertId;
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Notify};

/// How long one mail may take (connect, TLS, send) before it counts as failed.
const SEND_TIMEOUT: Duration = Duration::from_secs(15);
/// Mails waiting for the SMTP server, across merchants; each merchant's
/// share of it is bounded by `HERALD_MAILS_PER_HOUR`.
const OUTBOX_CAPACITY: usize = 1024;

/// Why mail cannot be configured or sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("{0}")]
    Config(String),
    #[error("`{0}` is not a mail address (`Name <user@example.com>` or `user@example.com`)")]
    Address(String),
    #[error("building the mail: {0}")]
    Build(String),
    #[error("sending the mail: {0}")]
    Send(String),
}

/// How to reach the SMTP server, read from `HERALD_SMTP_URL`.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpTarget {
    host: String,
    port: u16,
    security: SmtpSecurity,
    credentials: Option<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SmtpSecurity {
    /// `smtps://`: TLS from the first byte (port 465).
    Tls,
    /// `smtp://`: STARTTLS, required (port 587).
    StartTls,
    /// `smtp://…?tls=none`: no encryption, allowed to a loopback relay only.
    Plain,
}

impl std::fmt::Debug for SmtpTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the password.
        write!(
            f,
            "SmtpTarget({:?} {}:{})",
            self.security, self.host, self.port
        )
    }
}

impl SmtpTarget {
    /// Reads `smtps://user:pass@host[:port]`, `smtp://user:pass@host[:port]`
    /// (STARTTLS) or `smtp://host[:port]?tls=none` (a loopback relay).
    pub fn parse(text: &str) -> Result<SmtpTarget, MailError> {
        let url =
            url::Url::parse(text).map_err(|e| MailError::Config(format!("not a URL ({e})")))?;
        let host = url
            .host_str()
            .filter(|host| !host.is_empty())
            .ok_or_else(|| MailError::Config("needs a host (smtps://mail.example.com)".into()))?
            .trim_matches(['[', ']'])
            .to_owned();
        let plain = url
            .query_pairs()
            .any(|(name, value)| name == "tls" && value == "none");
        let security = match (url.scheme(), plain) {
            ("smtps", false) => SmtpSecurity::Tls,
            ("smtp", false) => SmtpSecurity::StartTls,
            ("smtp", true) => SmtpSecurity::Plain,
            ("smtps", true) => {
                return Err(MailError::Config(
                    "`smtps://` always uses TLS; drop `tls=none`".into(),
                ))
            }
            (other, _) => {
                return Err(MailError::Config(format!(
                    "scheme `{other}` is not smtp:// or smtps://"
                )))
            }
        };
        if security == SmtpSecurity::Plain && !is_loopback_host(&host) {
            return Err(MailError::Config(
                "`tls=none` sends mail (and any password) in the clear: allowed only to a relay on \
                 this machine (127.0.0.1, ::1, localhost)"
                    .into(),
            ));
        }
        let port = url.port().unwrap_or(match security {
            SmtpSecurity::Tls => 465,
            SmtpSecurity::StartTls => 587,
            SmtpSecurity::Plain => 25,
        });
        let decode = |part: &str| {
            percent_encoding::percent_decode_str(part)
                .decode_utf8_lossy()
                .into_owned()
        };
        let credentials = (!url.username().is_empty()).then(|| {
            (
                decode(url.username()),
                decode(url.password().unwrap_or_default()),
            )
        });
        Ok(SmtpTarget {
            host,
            port,
            security,
            credentials,
        })
    }
}

fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Reads a sender or recipient address.
pub fn parse_mailbox(text: &str) -> Result<Mailbox, MailError> {
    text.parse::<Mailbox>()
        .map_err(|_| MailError::Address(text.to_owned()))
}

/// One mail to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// Sends mail through one SMTP server; cheap to clone (connections are pooled).
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// A mailer for the configured server and sender (both checked at start-up).
    pub fn new(smtp_url: &str, from: &str) -> Result<Mailer, MailError> {
        let target = SmtpTarget::parse(smtp_url)?;
        let builder = match target.security {
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&target.host),
            SmtpSecurity::StartTls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&target.host)
            }
            SmtpSecurity::Plain => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
                &target.host,
            )),
        }
        .map_err(|e| MailError::Config(e.to_string()))?;
        let mut builder = builder.port(target.port).timeout(Some(SEND_TIMEOUT));
        if let Some((user, password)) = target.credentials {
            builder = builder.credentials(Credentials::new(user, password));
        }
        Ok(Mailer {
            transport: builder.build(),
            from: parse_mailbox(from)?,
        })
    }

    /// Sends one plain-text mail.
    pub async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let message = Message::builder()
            .from(self.from.clone())
            .to(parse_mailbox(&mail.to)?)
            .subject(mail.subject.as_str())
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())
            .map_err(|e| MailError::Build(e.to_string()))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| MailError::Send(e.to_string()))
    }
}

/// Mails waiting to go, sent one at a time by their own task: a slow or
/// unreachable SMTP server delays mail, never the operational events.
/// What is queued when the process stops is not sent (mail is at most once).
#[derive(Clone)]
pub struct Outbox {
    queue: mpsc::Sender<(AlertId, Mail)>,
    /// Queued or being sent.
    pending: Arc<AtomicUsize>,
    /// Signalled when `pending` falls to zero.
    settled: Arc<Notify>,
}

impl Outbox {
    /// Starts the sending task; it records each mail sent on its alert.
    pub fn start(mailer: Mailer, store: Store) -> Outbox {
        let (queue, mut waiting) = mpsc::channel::<(AlertId, Mail)>(OUTBOX_CAPACITY);
        let pending = Arc::new(AtomicUsize::new(0));
        let settled = Arc::new(Notify::new());
        let (count, done) = (pending.clone(), settled.clone());
        tokio::spawn(async move {
            while let Some((alert, mail)) = waiting.recv().await {
                match mailer.send(&mail).await {
                    Ok(()) => {
                        if let Err(e) = store.mark_alert_mailed(&alert).await {
                            tracing::warn!(error = %e, %alert, "recording a sent mail failed");
                        }
                    }
                    Err(e) => tracing::warn!(
                        error = %e, %alert,
                        "mailing an alert failed; it is still listed on the merchant's notifications page"
                    ),
                }
                if count.fetch_sub(1, Ordering::AcqRel) == 1 {
                    done.notify_waiters();
                }
            }
        });
        Outbox {
            queue,
            pending,
            settled,
        }
    }

    /// Queues a mail; false if the outbox is full (the mail is not sent).
    pub fn offer(&self, alert: AlertId, mail: Mail) -> bool {
        self.pending.fetch_add(1, Ordering::AcqRel);
        if self.queue.try_send((alert, mail)).is_ok() {
            return true;
        }
        if self.pending.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.settled.notify_waiters();
        }
        false
    }

    /// Waits until every queued mail was sent or given up.
    pub async fn settled(&self) {
        loop {
            // Registered before the check, so a wake-up in between is kept.
            let notified = self.settled.notified();
            if self.pending.load(Ordering::Acquire) == 0 {
                return;
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_tls_ports_and_credentials() {
        let tls = SmtpTarget::parse("smtps://ops%40example.com:p%40ss@mail.example.com").unwrap();
        assert_eq!(tls.security, SmtpSecurity::Tls);
        assert_eq!(tls.port, 465);
        assert_eq!(
            tls.credentials,
            Some(("ops@example.com".to_owned(), "p@ss".to_owned()))
        );
        let starttls = SmtpTarget::parse("smtp://mail.example.com").unwrap();
        assert_eq!(
            (starttls.security, starttls.port),
            (SmtpSecurity::StartTls, 587)
        );
        let plain = SmtpTarget::parse("smtp://127.0.0.1:2525?tls=none").unwrap();
        assert_eq!((plain.security, plain.port), (SmtpSecurity::Plain, 2525));
        assert!(SmtpTarget::parse("smtp://[::1]?tls=none").is_ok());
        assert!(
            !format!("{tls:?}").contains("p@ss"),
            "Debug hides the password"
        );
    }

    #[test]
    fn plain_smtp_only_to_this_machine_and_other_schemes_are_refused() {
        for bad in [
            "smtp://mail.example.com?tls=none",
            "smtp://10.0.0.5:25?tls=none",
            "smtps://127.0.0.1?tls=none",
            "imap://mail.example.com",
            "mail.example.com",
        ] {
            assert!(SmtpTarget::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn senders_are_mail_addresses() {
        assert!(parse_mailbox("Herald <webhooks@example.com>").is_ok());
        assert!(parse_mailbox("webhooks@example.com").is_ok());
        assert!(parse_mailbox("not an address").is_err());
    }
}
