//! The merchants' servers in the soak: one listener on 127.0.0.1 serving
//! every endpoint (told apart by path), misbehaving on purpose, and keeping
//! a log of every request and what it did with it.

use rand::Rng;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The receiver misbehaves on at most this many tries of one event at one
/// endpoint, so the retry schedule always ends in a delivery.
pub(crate) const MAX_FAILURES_PER_EVENT: usize = 3;
/// How long a hanging answer takes: past Herald's 1 s request timeout.
const HANG: Duration = Duration::from_millis(1500);

/// What the merchant's server did with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Behaviour {
    Ok,
    ServerError,
    /// Answers after Herald's request timeout.
    Hang,
    /// Resets the connection (RST) without an answer.
    Reset,
}

impl Behaviour {
    /// The status the receiver sent, if it sent one in time.
    pub(crate) fn answered(self) -> Option<u16> {
        match self {
            Behaviour::Ok => Some(200),
            Behaviour::ServerError => Some(500),
            Behaviour::Hang | Behaviour::Reset => None,
        }
    }
}

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    /// Since the receiver started.
    pub(crate) at: Duration,
    /// The endpoint, the last segment of the path.
    pub(crate) endpoint: String,
    pub(crate) event: String,
    pub(crate) delivery: String,
    pub(crate) attempt: u32,
    pub(crate) behaviour: Behaviour,
}

#[derive(Default)]
struct State {
    log: Vec<Request>,
    /// Bad tries so far, and whether one was a hang, by (endpoint, event).
    failures: HashMap<(String, String), (usize, bool)>,
    /// Requests being answered now, by endpoint.
    in_flight: HashMap<String, usize>,
    /// Endpoints whose next request hangs (see `hang_next`).
    hang_next: Vec<String>,
}

/// The chaos receiver; clones share one state.
#[derive(Clone)]
pub(crate) struct ChaosReceiver {
    addr: SocketAddr,
    started: Instant,
    state: Arc<Mutex<State>>,
    /// While set the port is closed: connections are refused.
    down: Arc<AtomicBool>,
}

impl ChaosReceiver {
    pub(crate) async fn start() -> ChaosReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let receiver = ChaosReceiver {
            addr: listener.local_addr().expect("addr"),
            started: Instant::now(),
            state: Arc::default(),
            down: Arc::default(),
        };
        tokio::spawn(receiver.clone().accept(listener));
        receiver
    }

    /// The URL of one endpoint of this receiver.
    pub(crate) fn url(&self, endpoint: &str) -> String {
        format!("http://{}/hooks/{endpoint}", self.addr)
    }

    /// Since the receiver started, on the clock of `Request::at`.
    pub(crate) fn now(&self) -> Duration {
        self.started.elapsed()
    }

    pub(crate) fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    pub(crate) fn is_down(&self) -> bool {
        self.down.load(Ordering::SeqCst)
    }

    /// Every request so far.
    pub(crate) fn log(&self) -> Vec<Request> {
        self.state.lock().expect("lock").log.clone()
    }

    /// Makes the next request to `endpoint` hang, and waits (at most
    /// `within`) until one is being held: the caller then acts on the
    /// endpoint with an attempt to it in flight. Whether one came.
    pub(crate) async fn hold_an_attempt(&self, endpoint: &str, within: Duration) -> bool {
        self.state
            .lock()
            .expect("lock")
            .hang_next
            .push(endpoint.to_owned());
        let deadline = Instant::now() + within;
        loop {
            {
                let mut state = self.state.lock().expect("lock");
                if state.in_flight.get(endpoint).copied().unwrap_or(0) > 0 {
                    return true;
                }
                if Instant::now() > deadline {
                    state.hang_next.retain(|e| e != endpoint);
                    return false;
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Accepts until told to go down; then closes the port, and binds it
    /// again when told to come back.
    async fn accept(self, mut listener: TcpListener) {
        loop {
            if self.is_down() {
                drop(listener);
                while self.is_down() {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                listener = loop {
                    match TcpListener::bind(self.addr).await {
                        Ok(listener) => break listener,
                        Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                    }
                };
            }
            let accepted =
                tokio::time::timeout(Duration::from_millis(100), listener.accept()).await;
            if let Ok(Ok((stream, _))) = accepted {
                tokio::spawn(self.clone().serve(stream));
            }
        }
    }

    /// Serves one keep-alive connection, one request at a time.
    async fn serve(self, mut stream: TcpStream) {
        let mut buffer = Vec::new();
        loop {
            let Some((path, headers, body_len)) = read_head(&mut stream, &mut buffer).await else {
                return;
            };
            while buffer.len() < body_len {
                let mut chunk = [0u8; 8192];
                match stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                }
            }
            buffer.drain(..body_len);
            if self.is_down() {
                return;
            }
            let endpoint = path.rsplit('/').next().unwrap_or_default().to_owned();
            let behaviour = self.decide(&endpoint, &headers);
            let reply: &[u8] = match behaviour {
                Behaviour::Ok => b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
                Behaviour::ServerError => {
                    b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 4\r\n\r\noops"
                }
                Behaviour::Hang => {
                    tokio::time::sleep(HANG).await;
                    b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nlate"
                }
                Behaviour::Reset => {
                    // Linger 0: closing sends RST, not FIN. Deprecated for
                    // blocking the thread on drop, which a zero linger
                    // does not: the reset is immediate.
                    #[allow(deprecated)]
                    let _ = stream.set_linger(Some(Duration::ZERO));
                    self.done(&endpoint);
                    return;
                }
            };
            let written = stream.write_all(reply).await;
            self.done(&endpoint);
            if written.is_err() {
                return;
            }
        }
    }

    /// Picks what to do with this request and logs it.
    fn decide(&self, endpoint: &str, headers: &HashMap<String, String>) -> Behaviour {
        let field = |name: &str| headers.get(name).cloned().unwrap_or_default();
        let event = field("webhook-id");
        let mut state = self.state.lock().expect("lock");
        *state.in_flight.entry(endpoint.to_owned()).or_insert(0) += 1;
        let held = state.hang_next.iter().position(|e| e == endpoint);
        let key = (endpoint.to_owned(), event.clone());
        let (failures, hung) = state.failures.get(&key).copied().unwrap_or((0, false));
        let roll: f64 = rand::thread_rng().gen();
        let behaviour = if let Some(held) = held {
            state.hang_next.swap_remove(held);
            Behaviour::Hang
        } else if failures >= MAX_FAILURES_PER_EVENT || roll < 0.65 {
            Behaviour::Ok
        } else if roll < 0.82 {
            Behaviour::ServerError
        } else if roll < 0.87 && !hung {
            // At most one hang per event and endpoint: a timeout waits a
            // minute before its retry, and the drain bound counts one.
            Behaviour::Hang
        } else {
            Behaviour::Reset
        };
        if behaviour != Behaviour::Ok {
            let entry = state.failures.entry(key).or_insert((0, false));
            entry.0 += 1;
            entry.1 |= behaviour == Behaviour::Hang;
        }
        let request = Request {
            at: self.started.elapsed(),
            endpoint: endpoint.to_owned(),
            event,
            delivery: field("herald-delivery-id"),
            attempt: field("herald-attempt").parse().unwrap_or(0),
            behaviour,
        };
        state.log.push(request);
        behaviour
    }

    fn done(&self, endpoint: &str) {
        let mut state = self.state.lock().expect("lock");
        if let Some(n) = state.in_flight.get_mut(endpoint) {
            *n = n.saturating_sub(1);
        }
    }
}

/// Reads one request head; returns its path, its headers (lowercase names)
/// and the body length, leaving what follows the head in `buffer`.
async fn read_head(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
) -> Option<(String, HashMap<String, String>, usize)> {
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
            buffer.drain(..end + 4);
            let mut lines = head.lines();
            let path = lines
                .next()
                .and_then(|line| line.split_whitespace().nth(1))
                .unwrap_or_default()
                .to_owned();
            let headers: HashMap<String, String> = lines
                .filter_map(|line| line.split_once(':'))
                .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
                .collect();
            let length = headers
                .get("content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            return Some((path, headers, length));
        }
        let mut chunk = [0u8; 8192];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
}
