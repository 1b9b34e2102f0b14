//! A real SMTP server on 127.0.0.1 that records every message it is sent:
//! the merchant's mailbox, played by the test.
//!
//! Built on `mailin-embedded` (blocking IO, a thread pool of its own), so it
//! works the same under any test runtime and under the real `herald`
//! binary. `mailin-embedded` has no way to stop a running server: dropping
//! the listener makes it refuse every later message (so nothing is recorded
//! for a test that is over), and its threads (one accepting, `SESSIONS` in
//! the pool, all idle) stay until the test binary exits: a bounded leak.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use mailin_embedded::response::{INTERNAL_ERROR, OK};
use mailin_embedded::{Handler, Response, Server};
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// SMTP sessions served at once. Herald pools its connections (and two
/// processes may each hold some), and an idle pooled connection keeps a
/// pool thread: enough that a new one never waits behind idle ones.
const SESSIONS: u32 = 8;

/// One message as the server received it.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The envelope sender (`MAIL FROM`), without angle brackets.
    pub from: String,
    /// The envelope recipients (`RCPT TO`), without angle brackets.
    pub to: Vec<String>,
    /// The message as sent after `DATA`: headers and body, raw.
    pub data: String,
}

impl Mail {
    /// A header of the message (the first of that name), unfolded and with
    /// RFC 2047 encoded words decoded.
    pub fn header(&self, name: &str) -> Option<String> {
        let (head, _) = split_message(&self.data);
        header_in(&parse_headers(head), name).map(|value| decode_words(&value))
    }

    /// The subject, decoded ("" when there is none).
    pub fn subject(&self) -> String {
        self.header("subject").unwrap_or_default()
    }

    /// The text a mail client shows: the body decoded from its transfer
    /// encoding (quoted-printable or base64; soft line breaks joined), every
    /// text part of a multipart message, one after another.
    pub fn body(&self) -> String {
        let (head, body) = split_message(&self.data);
        decode_entity(&parse_headers(head), body)
    }
}

#[derive(Default)]
struct Shared {
    messages: Mutex<Vec<Mail>>,
    /// Set when the listener is dropped: later messages are refused.
    closed: AtomicBool,
}

/// What one SMTP session has seen of the message it is receiving; the
/// server clones it for each connection.
#[derive(Clone)]
struct Recorder {
    shared: Arc<Shared>,
    from: String,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for Recorder {
    fn mail(&mut self, _ip: IpAddr, _domain: &str, _from: &str) -> Response {
        if self.shared.closed.load(Ordering::SeqCst) {
            return INTERNAL_ERROR;
        }
        OK
    }

    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.from = bare_address(from);
        self.to = to.iter().map(|t| bare_address(t)).collect();
        self.data.clear();
        OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        if self.shared.closed.load(Ordering::SeqCst) {
            return INTERNAL_ERROR;
        }
        let mail = Mail {
            from: std::mem::take(&mut self.from),
            to: std::mem::take(&mut self.to),
            data: String::from_utf8_lossy(&std::mem::take(&mut self.data)).into_owned(),
        };
        // Recorded before the server answers 250: once the sender has its
        // answer, the message is here.
        self.shared.messages.lock().expect("lock").push(mail);
        OK
    }
}

fn bare_address(address: &str) -> String {
    address
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_owned()
}

/// The SMTP server; stops accepting messages when dropped.
pub struct SmtpListener {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl SmtpListener {
    /// Starts a plain SMTP server (no TLS, no authentication) on 127.0.0.1
    /// on a free port.
    pub fn start() -> SmtpListener {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind SMTP");
        let addr = listener.local_addr().expect("SMTP addr");
        let shared = Arc::new(Shared::default());
        let recorder = Recorder {
            shared: shared.clone(),
            from: String::new(),
            to: Vec::new(),
            data: Vec::new(),
        };
        let mut server = Server::new(recorder);
        server
            .with_name("mail.herald.test")
            .with_num_threads(SESSIONS)
            .with_tcp_listener(listener);
        std::thread::Builder::new()
            .name(format!("smtp-{}", addr.port()))
            .spawn(move || {
                // Serves until the process ends (see the module comment).
                let _ = server.serve();
            })
            .expect("SMTP thread");
        SmtpListener { addr, shared }
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What to give Herald as `HERALD_SMTP_URL`: plain SMTP to this loopback
    /// server (`tls=none`, which Herald allows to loopback relays only; a
    /// bare `smtp://` means STARTTLS required, which this server does not
    /// offer).
    pub fn url(&self) -> String {
        format!("smtp://{}?tls=none", self.addr)
    }

    /// Every message received so far, in order.
    pub fn messages(&self) -> Vec<Mail> {
        self.shared.messages.lock().expect("lock").clone()
    }

    /// Waits until at least `n` messages arrived, or panics after `timeout`.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Mail> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.messages();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "the SMTP server got {} messages, expected {n} within {timeout:?}: {:?}",
                got.len(),
                got.iter().map(Mail::subject).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for SmtpListener {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::SeqCst);
    }
}

// --- reading the messages (RFC 5322, MIME) ---

/// (header section, body): split at the first empty line; line ends
/// normalised to `\n`.
fn split_message(data: &str) -> (String, String) {
    let data = data.replace("\r\n", "\n");
    match data.split_once("\n\n") {
        Some((head, body)) => (head.to_owned(), body.to_owned()),
        None => (data, String::new()),
    }
}

/// The headers of a header section, continuation lines unfolded (the line
/// break removed, the white space kept, as RFC 5322 says).
fn parse_headers(head: impl AsRef<str>) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.as_ref().lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push_str(line);
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    headers
}

fn header_in(headers: &[(String, String)], name: &str) -> Option<String> {
    let name = name.to_ascii_lowercase();
    headers
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.trim().to_owned())
}

/// A parameter of a structured header value (`boundary` of a Content-Type).
fn parameter(value: &str, name: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|part| {
        let (key, raw) = part.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| raw.trim().trim_matches('"').to_owned())
    })
}

/// The decoded text of one MIME entity: its body in its transfer encoding,
/// or, for a multipart, the text of each of its parts.
fn decode_entity(headers: &[(String, String)], body: impl AsRef<str>) -> String {
    let body = body.as_ref();
    let content_type = header_in(headers, "content-type")
        .unwrap_or_else(|| "text/plain".to_owned())
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/") {
        let original = header_in(headers, "content-type").unwrap_or_default();
        let Some(boundary) = parameter(&original, "boundary") else {
            return body.to_owned();
        };
        let delimiter = format!("--{boundary}");
        let mut texts = Vec::new();
        // The preamble comes before the first delimiter, the epilogue after
        // the closing one (`--boundary--`).
        for part in body.split(delimiter.as_str()).skip(1) {
            if part.starts_with("--") {
                break;
            }
            let part = part.strip_prefix('\n').unwrap_or(part);
            let (head, part_body) = match part.split_once("\n\n") {
                Some((head, part_body)) => (head.to_owned(), part_body.to_owned()),
                // A part with no headers: its body follows the empty line.
                None => (String::new(), part.to_owned()),
            };
            let part_headers = parse_headers(&head);
            let part_type = header_in(&part_headers, "content-type")
                .unwrap_or_else(|| "text/plain".to_owned())
                .to_ascii_lowercase();
            if part_type.starts_with("text/") || part_type.starts_with("multipart/") {
                texts.push(decode_entity(&part_headers, part_body));
            }
        }
        return texts.join("\n");
    }
    let encoding = header_in(headers, "content-transfer-encoding")
        .unwrap_or_default()
        .to_ascii_lowercase();
    match encoding.as_str() {
        "quoted-printable" => quoted_printable(body),
        "base64" => {
            let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
            match STANDARD.decode(compact.as_bytes()) {
                Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                Err(_) => body.to_owned(),
            }
        }
        _ => body.to_owned(),
    }
}

/// Decodes quoted-printable: `=XX` is a byte, `=` at a line end a soft line
/// break (the two lines are one).
fn quoted_printable(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' {
            if bytes.get(i + 1) == Some(&b'\n') {
                i += 2;
                continue;
            }
            if bytes.get(i + 1) == Some(&b'\r') && bytes.get(i + 2) == Some(&b'\n') {
                i += 3;
                continue;
            }
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|pair| std::str::from_utf8(pair).ok())
                .and_then(|pair| u8::from_str_radix(pair, 16).ok());
            if let Some(byte) = hex {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Decodes the RFC 2047 encoded words (`=?utf-8?b?…?=`, `=?utf-8?q?…?=`) of
/// a header value; white space between two encoded words goes, as the RFC
/// says (a long subject is split into several).
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    let mut last_was_word = false;
    while let Some(start) = rest.find("=?") {
        let (before, candidate) = rest.split_at(start);
        match encoded_word(candidate) {
            Some((text, used)) => {
                if !(last_was_word && before.trim().is_empty()) {
                    out.push_str(before);
                }
                out.push_str(&text);
                rest = &candidate[used..];
                last_was_word = true;
            }
            None => {
                out.push_str(before);
                out.push_str("=?");
                rest = &candidate[2..];
                last_was_word = false;
            }
        }
    }
    out.push_str(rest);
    out
}

/// One encoded word at the start of `text`: (decoded text, bytes used).
fn encoded_word(text: &str) -> Option<(String, usize)> {
    let inner = text.strip_prefix("=?")?;
    let (_charset, inner) = inner.split_once('?')?;
    let (encoding, inner) = inner.split_once('?')?;
    let end = inner.find("?=")?;
    let payload = &inner[..end];
    if payload.contains(char::is_whitespace) {
        return None;
    }
    let bytes = match encoding.to_ascii_lowercase().as_str() {
        "b" => STANDARD.decode(payload.as_bytes()).ok()?,
        "q" => quoted_printable(&payload.replace('_', " ")).into_bytes(),
        _ => return None,
    };
    let used = text.len() - inner.len() + end + 2;
    Some((String::from_utf8_lossy(&bytes).into_owned(), used))
}

// --- the listener and the decoding on their own, without Herald ---

#[test]
fn bodies_and_subjects_decode_as_a_mail_client_shows_them() {
    // Quoted-printable with a soft line break in a URL and an escaped `=`.
    let qp = Mail {
        from: "a@example.test".into(),
        to: vec!["b@example.test".into()],
        data: "Subject: =?utf-8?q?Deliveries_to_https://x.test/h_?=\r\n =?utf-8?b?YXJlIGZhaWxpbmcg4oCU?=\r\n\
               Content-Type: text/plain; charset=utf-8\r\n\
               Content-Transfer-Encoding: quoted-printable\r\n\r\n\
               Open https://herald.example.test/endpoi=\r\nnts/ep_1?a=3Db to see it.\r\n"
            .into(),
    };
    assert_eq!(
        qp.subject(),
        "Deliveries to https://x.test/h are failing \u{2014}"
    );
    assert!(
        qp.body()
            .contains("https://herald.example.test/endpoints/ep_1?a=b"),
        "{}",
        qp.body()
    );

    let b64 = Mail {
        data: format!(
            "Subject: plain\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            STANDARD.encode("see https://herald.example.test/endpoints/ep_2")
        ),
        ..qp.clone()
    };
    assert_eq!(b64.subject(), "plain");
    assert!(b64.body().contains("/endpoints/ep_2"), "{}", b64.body());

    let multipart = Mail {
        data: "Subject: parts\r\nContent-Type: multipart/alternative;\r\n boundary=\"XYZ\"\r\n\r\n\
               preamble\r\n--XYZ\r\nContent-Type: text/plain\r\n\r\nplain text\r\n\
               --XYZ\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
               <a href=3D\"https://h.test/endpoints/ep_3\">x</a>\r\n--XYZ--\r\nepilogue\r\n"
            .into(),
        ..qp
    };
    let body = multipart.body();
    assert!(body.contains("plain text"), "{body}");
    assert!(
        body.contains("href=\"https://h.test/endpoints/ep_3\""),
        "{body}"
    );
    assert!(
        !body.contains("preamble") && !body.contains("epilogue"),
        "{body}"
    );
}

/// Speaks SMTP to the listener by hand: what it records is what was sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listener_records_what_a_client_sends() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    let smtp = SmtpListener::start();
    assert!(
        smtp.url().starts_with("smtp://127.0.0.1:"),
        "{}",
        smtp.url()
    );
    let stream = tokio::net::TcpStream::connect(smtp.addr())
        .await
        .expect("connect");
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    // An SMTP reply: lines `NNN-…` then a last `NNN …`; its code.
    async fn reply(read: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> u16 {
        loop {
            let mut line = String::new();
            let n = tokio::time::timeout(Duration::from_secs(5), read.read_line(&mut line))
                .await
                .expect("the server answers")
                .expect("read");
            assert!(n > 0, "the server closed the connection");
            if line.as_bytes().get(3) != Some(&b'-') {
                return line[..3].parse().expect("a reply code");
            }
        }
    }
    assert_eq!(reply(&mut read).await, 220);
    for (command, expected) in [
        ("EHLO client.test\r\n", 250),
        ("MAIL FROM:<herald@example.test>\r\n", 250),
        ("RCPT TO:<merchant@example.test>\r\n", 250),
        ("DATA\r\n", 354),
    ] {
        write.write_all(command.as_bytes()).await.expect("write");
        assert_eq!(reply(&mut read).await, expected, "{command}");
    }
    write
        .write_all(
            b"From: Herald <herald@example.test>\r\nSubject: hello\r\n\r\nline one\r\nline two\r\n.\r\n",
        )
        .await
        .expect("write");
    assert_eq!(reply(&mut read).await, 250);
    write.write_all(b"QUIT\r\n").await.expect("write");

    let got = smtp.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].from, "herald@example.test");
    assert_eq!(got[0].to, ["merchant@example.test"]);
    assert_eq!(got[0].subject(), "hello");
    assert_eq!(
        got[0].header("from").as_deref(),
        Some("Herald <herald@example.test>")
    );
    assert_eq!(got[0].body(), "line one\nline two\n");
}
