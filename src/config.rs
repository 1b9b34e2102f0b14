//! One typed configuration, from command-line flags and `HERALD_*` variables,
//! validated at start-up: a bad value stops Herald with the variable's name.

use crate::crypto::secret_box::{SealError, SecretBox};
use crate::engine::retry::RetrySchedule;
use crate::engine::ssrf::{parse_allowed_cidrs, parse_allowed_ports, AllowedPorts};
use crate::service::rate_limits::RateLimitSettings;
use clap::builder::BoolishValueParser;
use clap::{Args, Parser, Subcommand};
use herald_app::model::duration::parse_duration;
pub use herald_app::model::merchant::SignUpMode;
use ipnet::IpNet;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// How long a dashboard session lasts after log-in unless configured.
pub const DEFAULT_SESSION_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

/// The default database: a SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite:herald.db";

/// Herald: webhook delivery for payments platforms.
#[derive(Debug, Parser)]
#[command(name = "herald", version, about)]
pub struct Cli {
    /// Database URL: `sqlite:PATH` (created if missing) or `postgres://USER@HOST/DB`.
    #[arg(long, env = "HERALD_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,

    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate the database, then serve the dashboard, the API and the delivery engine.
    Serve(ServeConfig),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Operator commands.
    #[command(subcommand)]
    Admin(AdminCommand),
}

/// Operator commands.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a merchant account; prints its id and a new API key.
    CreateMerchant {
        /// The merchant's display name.
        #[arg(long)]
        name: String,
        /// The log-in email (unique).
        #[arg(long)]
        email: String,
        /// Read a dashboard password from standard input (its first line),
        /// never from the command line, where other users and the shell
        /// history see it: `printf '%s' "$PW" | herald admin create-merchant …
        /// --password-stdin`. Without it the merchant can only use the API.
        #[arg(long)]
        password_stdin: bool,
        /// Make the account an operator (admin pages, all merchants).
        #[arg(long)]
        admin: bool,
    },
    /// Re-seal every stored signing secret with HERALD_SECRET_KEY (after
    /// setting, changing or removing it; the old key in HERALD_SECRET_KEY_PREVIOUS).
    ResealSecrets {
        #[command(flatten)]
        keys: SecretKeys,
    },
}

/// How `herald serve` runs.
#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address to listen on [default: Leptos.toml's site-addr, else 127.0.0.1:3000].
    #[arg(long, env = "HERALD_ADDR", value_parser = named("HERALD_ADDR", parse_addr))]
    pub addr: Option<SocketAddr>,

    /// Bearer token for ingest and the admin API; generated, stored hashed and
    /// printed once at first start when unset.
    #[arg(long, env = "HERALD_PLATFORM_TOKEN", hide_env_values = true,
          value_parser = named("HERALD_PLATFORM_TOKEN", parse_token))]
    pub platform_token: Option<SecretString>,

    /// Private, loopback or link-local ranges deliveries may reach (comma-separated CIDRs).
    #[arg(long, env = "HERALD_ALLOWED_PRIVATE_CIDRS", default_value = "",
          value_parser = named("HERALD_ALLOWED_PRIVATE_CIDRS", parse_cidrs))]
    pub allowed_private_cidrs: CidrList,

    /// Ports deliveries may use (comma-separated); destinations inside
    /// HERALD_ALLOWED_PRIVATE_CIDRS may use any port.
    #[arg(long, env = "HERALD_ALLOWED_PORTS", default_value = "80,443,8080,8443",
          value_parser = named("HERALD_ALLOWED_PORTS", parse_allowed_ports))]
    pub allowed_ports: AllowedPorts,

    /// Accept plain-http endpoint URLs (for development only).
    #[arg(long, env = "HERALD_ALLOW_HTTP", default_value = "false",
          value_parser = BoolishValueParser::new(), action = clap::ArgAction::Set)]
    pub allow_http: bool,

    /// Waits before each attempt, comma-separated (the first is usually 0s).
    #[arg(long, env = "HERALD_RETRY_SCHEDULE", default_value = "0s,5s,5m,30m,2h,5h,10h,10h",
          value_parser = named("HERALD_RETRY_SCHEDULE", parse_schedule))]
    pub retry_schedule: RetrySchedule,

    /// Total time allowed for one delivery attempt.
    #[arg(long, env = "HERALD_REQUEST_TIMEOUT", default_value = "15s",
          value_parser = named("HERALD_REQUEST_TIMEOUT", parse_timeout))]
    pub request_timeout: Duration,

    /// Disable an endpoint whose deliveries have all failed for this long.
    #[arg(long, env = "HERALD_AUTO_DISABLE_AFTER", default_value = "5d",
          value_parser = named("HERALD_AUTO_DISABLE_AFTER", parse_positive_duration))]
    pub auto_disable_after: Duration,

    /// Delete events (with their deliveries and attempts) older than this,
    /// never one with a delivery still pending; `off` keeps them forever.
    #[arg(long, env = "HERALD_RETENTION", default_value = "30d",
          value_parser = named("HERALD_RETENTION", parse_retention))]
    pub retention: HistoryKept,

    /// Tell the merchant (`herald.endpoint.failing`, and a mail) once an
    /// endpoint's deliveries have all failed for this long.
    #[arg(long, env = "HERALD_FAILING_ALERT_AFTER", default_value = "1h",
          value_parser = named("HERALD_FAILING_ALERT_AFTER", parse_duration_text))]
    pub failing_alert_after: Duration,

    /// Requests in flight at once to one endpoint.
    #[arg(long, env = "HERALD_ENDPOINT_CONCURRENCY", default_value = "4",
          value_parser = named("HERALD_ENDPOINT_CONCURRENCY", parse_concurrency))]
    pub endpoint_concurrency: usize,

    /// Deliveries in flight at once in this process, across all merchants.
    #[arg(long, env = "HERALD_MAX_IN_FLIGHT", default_value = "256",
          value_parser = named("HERALD_MAX_IN_FLIGHT", parse_max_in_flight))]
    pub max_in_flight: usize,

    /// The most of those one merchant may hold, in percent (so one
    /// merchant's slow or dead endpoints never take the others' places).
    #[arg(long, env = "HERALD_MERCHANT_SHARE", default_value = "25",
          value_parser = named("HERALD_MERCHANT_SHARE", parse_percent))]
    pub merchant_share: u8,

    /// How long a dashboard session lasts after log-in, however active it
    /// is; then the user logs in again (the idle limit is 12 hours).
    #[arg(long, env = "HERALD_SESSION_MAX_AGE", default_value = "24h",
          value_parser = named("HERALD_SESSION_MAX_AGE", parse_session_max_age))]
    pub session_max_age: Duration,

    /// Who may create an account: `open` (anyone, at /signup) or `closed`
    /// (accounts come from the platform only: the admin API, the CLI and
    /// login links). Close it in production.
    #[arg(long, env = "HERALD_SIGNUP", default_value = "open",
          value_parser = named("HERALD_SIGNUP", parse_sign_up_mode))]
    pub signup: SignUpMode,

    /// Mark session cookies `Secure`; set it when Herald is served over TLS.
    #[arg(long, env = "HERALD_SECURE_COOKIES", default_value = "false",
          value_parser = BoolishValueParser::new(), action = clap::ArgAction::Set)]
    pub secure_cookies: bool,

    #[command(flatten)]
    pub secret_keys: SecretKeys,

    #[command(flatten)]
    pub limits: Limits,

    #[command(flatten)]
    pub mail: MailSettings,

    /// Bind every delivery's connection to this local address (the fixed
    /// egress IP merchants allow-list).
    #[arg(long, env = "HERALD_OUTBOUND_ADDRESS",
          value_parser = named("HERALD_OUTBOUND_ADDRESS", parse_ip))]
    pub outbound_address: Option<IpAddr>,

    /// Send every delivery through this HTTP proxy (`http://proxy:3128`);
    /// Herald resolves and checks each destination and has the proxy connect
    /// to that address (CONNECT to the IP for https), never to the name.
    #[arg(long, env = "HERALD_OUTBOUND_PROXY", hide_env_values = true,
          value_parser = named("HERALD_OUTBOUND_PROXY", parse_proxy))]
    pub outbound_proxy: Option<ProxyUrl>,

    /// The addresses receivers see deliveries come from when they leave
    /// through a proxy or NAT (comma-separated IPs); shown to merchants to
    /// allow-list, with HERALD_OUTBOUND_ADDRESS.
    #[arg(long, env = "HERALD_EGRESS_ADDRESSES",
          value_parser = named("HERALD_EGRESS_ADDRESSES", parse_ip_list))]
    pub egress_addresses: Option<IpList>,
}

/// A list of IP addresses (`203.0.113.7,2001:db8::7`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpList(pub Vec<IpAddr>);

impl ServeConfig {
    /// Where deliveries come from, as merchants allow-list them: the bound
    /// source address and the declared egress addresses, each once.
    pub fn egress(&self) -> Vec<IpAddr> {
        let mut out: Vec<IpAddr> = self.outbound_address.into_iter().collect();
        for ip in self.egress_addresses.iter().flat_map(|list| &list.0) {
            if !out.contains(ip) {
                out.push(*ip);
            }
        }
        out
    }
}

/// How long history is kept: `None` is forever. An alias, not `Option`
/// written out, so that clap reads `off` as a value of the setting rather
/// than taking `Option` to mean the setting may be absent.
pub type HistoryKept = Option<Duration>;

/// Where operational mails go out, and the address links in them start with.
#[derive(Debug, Clone, Default, Args)]
pub struct MailSettings {
    /// Send operational mails through this SMTP server:
    /// `smtps://user:password@host:465` (TLS), `smtp://user:password@host:587`
    /// (STARTTLS required), or `smtp://host:25?tls=none` (plain: loopback
    /// relays only). Unset: no mail is sent.
    #[arg(long, env = "HERALD_SMTP_URL", hide_env_values = true, requires = "mail_from",
          value_parser = named("HERALD_SMTP_URL", parse_smtp_url))]
    pub smtp_url: Option<SecretString>,

    /// The sender of operational mails (`Herald <webhooks@example.com>`);
    /// required with HERALD_SMTP_URL.
    #[arg(long, env = "HERALD_MAIL_FROM",
          value_parser = named("HERALD_MAIL_FROM", parse_mailbox))]
    pub mail_from: Option<String>,

    /// The dashboard's address as merchants reach it (`https://webhooks.example.com`),
    /// for the links in mails [default: http://<HERALD_ADDR>].
    #[arg(long, env = "HERALD_PUBLIC_URL",
          value_parser = named("HERALD_PUBLIC_URL", parse_public_url))]
    pub public_url: Option<String>,
}

/// A proxy URL; `Debug` hides its credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyUrl(pub url::Url);

impl fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ProxyUrl({}://{}:{})",
            self.0.scheme(),
            self.0.host_str().unwrap_or_default(),
            self.0.port_or_known_default().unwrap_or_default()
        )
    }
}

/// Rate limits and quotas. The defaults are far above what an ordinary
/// merchant does; each refusal names the setting that raises it.
#[derive(Debug, Clone, Args)]
pub struct Limits {
    /// Requests a second one merchant's API keys may make together (0: no limit).
    #[arg(long, env = "HERALD_API_KEY_RATE", default_value = "100",
          value_parser = named("HERALD_API_KEY_RATE", parse_rate))]
    pub api_key_rate: u32,

    /// Requests a second the platform token may make (0: no limit).
    #[arg(long, env = "HERALD_PLATFORM_RATE", default_value = "0",
          value_parser = named("HERALD_PLATFORM_RATE", parse_rate))]
    pub platform_rate: u32,

    /// Test events one merchant may send a minute (0: no limit).
    #[arg(long, env = "HERALD_TEST_EVENTS_PER_MINUTE", default_value = "30",
          value_parser = named("HERALD_TEST_EVENTS_PER_MINUTE", parse_rate))]
    pub test_events_per_minute: u32,

    /// Replays and bulk retries one merchant may start an hour (0: no limit).
    #[arg(long, env = "HERALD_REPLAYS_PER_HOUR", default_value = "30",
          value_parser = named("HERALD_REPLAYS_PER_HOUR", parse_rate))]
    pub replays_per_hour: u32,

    /// Accounts one client address may sign up an hour (0: no limit).
    #[arg(long, env = "HERALD_SIGNUPS_PER_HOUR", default_value = "10",
          value_parser = named("HERALD_SIGNUPS_PER_HOUR", parse_rate))]
    pub sign_ups_per_hour: u32,

    /// Operational mails one merchant may get an hour (0: no limit); the
    /// changes over it are still told as events and listed.
    #[arg(long, env = "HERALD_MAILS_PER_HOUR", default_value = "30",
          value_parser = named("HERALD_MAILS_PER_HOUR", parse_rate))]
    pub mails_per_hour: u32,

    /// Endpoints one merchant may have.
    #[arg(long, env = "HERALD_MAX_ENDPOINTS", default_value = "100",
          value_parser = named("HERALD_MAX_ENDPOINTS", parse_max_endpoints))]
    pub max_endpoints: u32,

    /// Inbound connections served at once; more wait to be accepted.
    #[arg(long, env = "HERALD_MAX_CONNECTIONS", default_value = "4096",
          value_parser = named("HERALD_MAX_CONNECTIONS", parse_max_connections))]
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        let rates = RateLimitSettings::default();
        Limits {
            api_key_rate: rates.api_key_per_second,
            platform_rate: rates.platform_per_second,
            test_events_per_minute: rates.test_events_per_minute,
            replays_per_hour: rates.replays_per_hour,
            sign_ups_per_hour: rates.sign_ups_per_hour,
            mails_per_hour: rates.mails_per_hour,
            max_endpoints: crate::service::endpoints::DEFAULT_MAX_ENDPOINTS,
            max_connections: crate::http::connections::ConnectionLimits::default().max_connections,
        }
    }
}

impl Limits {
    /// The rate limits' counts.
    pub fn rates(&self) -> RateLimitSettings {
        RateLimitSettings {
            api_key_per_second: self.api_key_rate,
            platform_per_second: self.platform_rate,
            test_events_per_minute: self.test_events_per_minute,
            replays_per_hour: self.replays_per_hour,
            sign_ups_per_hour: self.sign_ups_per_hour,
            mails_per_hour: self.mails_per_hour,
        }
    }
}

/// The keys that seal endpoint signing secrets in the database.
#[derive(Debug, Clone, Default, Args)]
pub struct SecretKeys {
    /// Seal signing secrets at rest with this key: standard base64 of 32
    /// random bytes (`openssl rand -base64 32`). Unset: stored as they are.
    #[arg(long, env = "HERALD_SECRET_KEY", hide_env_values = true,
          value_parser = named("HERALD_SECRET_KEY", parse_secret_key))]
    pub secret_key: Option<SecretString>,

    /// Earlier keys, comma-separated: still open what they sealed, until
    /// `herald admin reseal-secrets` has re-sealed it with the current key.
    #[arg(long, env = "HERALD_SECRET_KEY_PREVIOUS", hide_env_values = true, value_delimiter = ',',
          value_parser = named("HERALD_SECRET_KEY_PREVIOUS", parse_secret_key))]
    pub secret_key_previous: Vec<SecretString>,
}

impl SecretKeys {
    /// The sealer these keys make (they were checked when parsed).
    pub fn secret_box(&self) -> Result<SecretBox, SealError> {
        let previous: Vec<&str> = self
            .secret_key_previous
            .iter()
            .map(SecretString::expose)
            .collect();
        SecretBox::new(
            self.secret_key.as_ref().map(SecretString::expose),
            &previous,
        )
    }
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            addr: None,
            platform_token: None,
            allowed_private_cidrs: CidrList::default(),
            allowed_ports: AllowedPorts::default(),
            allow_http: false,
            retry_schedule: RetrySchedule::default(),
            request_timeout: Duration::from_secs(15),
            auto_disable_after: Duration::from_secs(5 * 24 * 3600),
            failing_alert_after: Duration::from_secs(3600),
            retention: Some(Duration::from_secs(30 * 24 * 3600)),
            endpoint_concurrency: 4,
            max_in_flight: 256,
            merchant_share: 25,
            session_max_age: DEFAULT_SESSION_MAX_AGE,
            secure_cookies: false,
            signup: SignUpMode::Open,
            secret_keys: SecretKeys::default(),
            limits: Limits::default(),
            mail: MailSettings::default(),
            outbound_address: None,
            outbound_proxy: None,
            egress_addresses: None,
        }
    }
}

/// A secret from the configuration; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps a secret.
    pub fn new(value: String) -> Self {
        SecretString(value)
    }

    /// The secret itself; call only where it is used.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString([redacted])")
    }
}

/// The allow-list of private ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CidrList(pub Vec<IpNet>);

/// Prefixes a value parser's error with the variable it came from, so a bad
/// environment value is reported by name.
fn named<T: 'static>(
    var: &'static str,
    parse: fn(&str) -> Result<T, String>,
) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static {
    move |s| parse(s).map_err(|e| format!("{var}: {e}"))
}

fn parse_sign_up_mode(s: &str) -> Result<SignUpMode, String> {
    SignUpMode::parse(s.trim()).ok_or_else(|| format!("`{s}` is neither `open` nor `closed`"))
}

fn parse_addr(s: &str) -> Result<SocketAddr, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("`{s}` is not an address like 127.0.0.1:3000"))
}

fn parse_token(s: &str) -> Result<SecretString, String> {
    // Long enough that guessing is hopeless; printable so it fits a header.
    if s.len() < 32 {
        return Err("must be at least 32 characters".into());
    }
    if !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("must be printable ASCII without spaces".into());
    }
    Ok(SecretString(s.to_owned()))
}

fn parse_secret_key(s: &str) -> Result<SecretString, String> {
    SecretBox::new(Some(s), &[]).map_err(|e| e.to_string())?;
    Ok(SecretString(s.trim().to_owned()))
}

fn parse_ip_list(s: &str) -> Result<IpList, String> {
    s.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(parse_ip)
        .collect::<Result<Vec<_>, _>>()
        .map(IpList)
}

fn parse_ip(s: &str) -> Result<IpAddr, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("`{s}` is not an IP address like 203.0.113.7"))
}

fn parse_proxy(s: &str) -> Result<ProxyUrl, String> {
    let url = url::Url::parse(s.trim()).map_err(|e| format!("not a URL ({e})"))?;
    // Plain http to the proxy only: deliveries are pinned to the checked
    // address through it (engine::proxy), and TLS runs inside the tunnel.
    if url.scheme() != "http" || url.host_str().is_none() {
        return Err("must be an http:// proxy URL with a host (http://proxy.internal:3128)".into());
    }
    Ok(ProxyUrl(url))
}

fn parse_smtp_url(s: &str) -> Result<SecretString, String> {
    crate::service::mail::SmtpTarget::parse(s.trim())
        .map(|_| SecretString::new(s.trim().to_owned()))
        .map_err(|e| e.to_string())
}

fn parse_mailbox(s: &str) -> Result<String, String> {
    crate::service::mail::parse_mailbox(s.trim())
        .map(|_| s.trim().to_owned())
        .map_err(|e| e.to_string())
}

fn parse_public_url(s: &str) -> Result<String, String> {
    let url = url::Url::parse(s.trim()).map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(
            "must be an http(s):// address with a host (https://webhooks.example.com)".into(),
        );
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

fn parse_retention(s: &str) -> Result<Option<Duration>, String> {
    match s.trim() {
        "off" | "0" | "0s" => Ok(None),
        text => parse_duration(text)
            .map(Some)
            .map_err(|e| format!("{e} (or `off` to keep history forever)")),
    }
}

fn parse_duration_text(s: &str) -> Result<Duration, String> {
    parse_duration(s).map_err(|e| e.to_string())
}

fn parse_cidrs(s: &str) -> Result<CidrList, String> {
    parse_allowed_cidrs(s).map(CidrList)
}

fn parse_schedule(s: &str) -> Result<RetrySchedule, String> {
    s.parse::<RetrySchedule>().map_err(|e| e.to_string())
}

fn parse_timeout(s: &str) -> Result<Duration, String> {
    let timeout = parse_duration(s).map_err(|e| e.to_string())?;
    if timeout < Duration::from_millis(100) || timeout > Duration::from_secs(300) {
        return Err(format!("`{s}` must be between 100ms and 5m"));
    }
    Ok(timeout)
}

fn parse_positive_duration(s: &str) -> Result<Duration, String> {
    match parse_duration(s) {
        Ok(d) if d.is_zero() => Err("must be longer than 0s".into()),
        Ok(d) => Ok(d),
        Err(e) => Err(e.to_string()),
    }
}

fn parse_session_max_age(s: &str) -> Result<Duration, String> {
    let max_age = parse_duration(s).map_err(|e| e.to_string())?;
    // A second is useless to people but lets tests watch a session end.
    if max_age < Duration::from_secs(1) || max_age > Duration::from_secs(90 * 24 * 3600) {
        return Err(format!("`{s}` must be between 1s and 90d"));
    }
    Ok(max_age)
}

fn parse_concurrency(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if (1..=64).contains(&n) => Ok(n),
        _ => Err(format!("`{s}` must be a whole number from 1 to 64")),
    }
}

fn parse_max_in_flight(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if (2..=65_536).contains(&n) => Ok(n),
        _ => Err(format!("`{s}` must be a whole number from 2 to 65536")),
    }
}

fn parse_rate(s: &str) -> Result<u32, String> {
    match s.trim().parse::<u32>() {
        Ok(n) if n <= 1_000_000 => Ok(n),
        _ => Err(format!(
            "`{s}` must be a whole number from 0 (no limit) to 1000000"
        )),
    }
}

fn parse_max_endpoints(s: &str) -> Result<u32, String> {
    match s.trim().parse::<u32>() {
        Ok(n) if (1..=100_000).contains(&n) => Ok(n),
        _ => Err(format!("`{s}` must be a whole number from 1 to 100000")),
    }
}

fn parse_max_connections(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if (16..=1_000_000).contains(&n) => Ok(n),
        _ => Err(format!("`{s}` must be a whole number from 16 to 1000000")),
    }
}

fn parse_percent(s: &str) -> Result<u8, String> {
    match s.trim().trim_end_matches('%').parse::<u8>() {
        Ok(n) if (1..=100).contains(&n) => Ok(n),
        _ => Err(format!("`{s}` must be a percentage from 1 to 100")),
    }
}

impl ServeConfig {
    /// Deliveries one merchant may have in flight at once in this process:
    /// its share of `max_in_flight`, at least one.
    pub fn per_merchant(&self) -> usize {
        (self.max_in_flight * usize::from(self.merchant_share) / 100).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serve(args: &[&str]) -> Result<ServeConfig, String> {
        let mut argv = vec!["herald", "serve"];
        argv.extend_from_slice(args);
        match Cli::try_parse_from(argv)
            .map_err(|e| e.to_string())?
            .command
        {
            Command::Serve(config) => Ok(config),
            other => Err(format!("unexpected {other:?}")),
        }
    }

    #[test]
    fn defaults_match_the_documentation() {
        let config = serve(&[]).unwrap();
        assert_eq!(config.request_timeout, Duration::from_secs(15));
        assert_eq!(
            config.retry_schedule.to_string(),
            "0s,5s,5m,30m,2h,5h,10h,10h"
        );
        assert!(!config.allow_http);
        assert!(config.allowed_private_cidrs.0.is_empty());
        assert_eq!(config.allowed_ports, AllowedPorts::default());
        assert_eq!(config.max_in_flight, 256);
        assert_eq!(config.session_max_age, DEFAULT_SESSION_MAX_AGE);
        assert_eq!(
            ServeConfig::default().session_max_age,
            config.session_max_age
        );
        assert_eq!(config.per_merchant(), 64, "a quarter of the places");
        let default = ServeConfig::default();
        assert_eq!(default.per_merchant(), config.per_merchant());
        assert_eq!(config.limits.rates(), RateLimitSettings::default());
        assert_eq!(config.limits.max_endpoints, default.limits.max_endpoints);
        assert_eq!(
            config.limits.max_connections,
            default.limits.max_connections
        );
        assert_eq!(config.limits.api_key_rate, 100);
        assert_eq!(config.limits.platform_rate, 0, "off by default");
        assert_eq!(config.failing_alert_after, Duration::from_secs(3600));
        assert_eq!(config.retention, Some(Duration::from_secs(30 * 24 * 3600)));
        assert_eq!(default.retention, config.retention);
        assert_eq!(serve(&["--retention", "off"]).unwrap().retention, None);
        assert_eq!(default.failing_alert_after, config.failing_alert_after);
        assert!(config.mail.smtp_url.is_none(), "no mail unless configured");
    }

    #[test]
    fn mail_needs_a_sender_and_a_well_formed_server() {
        let err = serve(&["--smtp-url", "smtp://127.0.0.1:2525"]).unwrap_err();
        assert!(
            err.contains("mail-from") || err.contains("mail_from"),
            "{err}"
        );
        let config = serve(&[
            "--smtp-url",
            "smtps://user:pass@mail.example.com",
            "--mail-from",
            "Herald <webhooks@example.com>",
            "--public-url",
            "https://webhooks.example.com/",
        ])
        .unwrap();
        assert_eq!(
            config.mail.public_url.as_deref(),
            Some("https://webhooks.example.com")
        );
        assert!(
            !format!("{config:?}").contains("pass@"),
            "the SMTP password stays hidden"
        );
    }

    #[test]
    fn a_merchant_share_is_a_percentage_of_the_places() {
        let config = serve(&["--max-in-flight", "10", "--merchant-share", "50%"]).unwrap();
        assert_eq!(config.per_merchant(), 5);
        let config = serve(&["--max-in-flight", "10", "--merchant-share", "1"]).unwrap();
        assert_eq!(config.per_merchant(), 1, "never less than one place");
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (flag, value, var) in [
            ("--request-timeout", "soon", "HERALD_REQUEST_TIMEOUT"),
            ("--retry-schedule", "5s,often", "HERALD_RETRY_SCHEDULE"),
            (
                "--allowed-private-cidrs",
                "10.0.0.0/33",
                "HERALD_ALLOWED_PRIVATE_CIDRS",
            ),
            ("--addr", "localhost", "HERALD_ADDR"),
            ("--allowed-ports", "443,smtp", "HERALD_ALLOWED_PORTS"),
            ("--platform-token", "short", "HERALD_PLATFORM_TOKEN"),
            ("--auto-disable-after", "0s", "HERALD_AUTO_DISABLE_AFTER"),
            ("--endpoint-concurrency", "0", "HERALD_ENDPOINT_CONCURRENCY"),
            ("--max-in-flight", "1", "HERALD_MAX_IN_FLIGHT"),
            ("--merchant-share", "0", "HERALD_MERCHANT_SHARE"),
            ("--merchant-share", "150%", "HERALD_MERCHANT_SHARE"),
            ("--api-key-rate", "1.5", "HERALD_API_KEY_RATE"),
            ("--platform-rate", "lots", "HERALD_PLATFORM_RATE"),
            (
                "--test-events-per-minute",
                "1e9",
                "HERALD_TEST_EVENTS_PER_MINUTE",
            ),
            ("--replays-per-hour", "x", "HERALD_REPLAYS_PER_HOUR"),
            ("--sign-ups-per-hour", "ten", "HERALD_SIGNUPS_PER_HOUR"),
            ("--mails-per-hour", "many", "HERALD_MAILS_PER_HOUR"),
            ("--max-endpoints", "0", "HERALD_MAX_ENDPOINTS"),
            ("--max-connections", "3", "HERALD_MAX_CONNECTIONS"),
            ("--secret-key", "c2hvcnQ=", "HERALD_SECRET_KEY"),
            ("--retention", "forever", "HERALD_RETENTION"),
            (
                "--failing-alert-after",
                "soon",
                "HERALD_FAILING_ALERT_AFTER",
            ),
            ("--smtp-url", "imap://mail.example.com", "HERALD_SMTP_URL"),
            ("--mail-from", "not an address", "HERALD_MAIL_FROM"),
            ("--public-url", "webhooks.example.com", "HERALD_PUBLIC_URL"),
            ("--session-max-age", "0s", "HERALD_SESSION_MAX_AGE"),
            ("--session-max-age", "1y", "HERALD_SESSION_MAX_AGE"),
            ("--outbound-address", "eth0", "HERALD_OUTBOUND_ADDRESS"),
            ("--outbound-proxy", "socks5://x:1", "HERALD_OUTBOUND_PROXY"),
            (
                "--outbound-proxy",
                "https://proxy:3128",
                "HERALD_OUTBOUND_PROXY",
            ),
            (
                "--secret-key-previous",
                "nope",
                "HERALD_SECRET_KEY_PREVIOUS",
            ),
        ] {
            let err = serve(&[flag, value]).unwrap_err();
            assert!(err.contains(var), "{flag} {value}: {err}");
        }
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let config = serve(&["--platform-token", "tok_0123456789abcdef0123456789abcdef"]).unwrap();
        assert!(!format!("{config:?}").contains("0123456789abcdef"));
    }
}
