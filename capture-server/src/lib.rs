//! A PostHog-compatible capture endpoint for tests: `POST /batch/` on 127.0.0.1, as strict
//! about the envelope as PostHog's capture service, with scripted answers (errors, delays,
//! silence) and a record of everything it received.
//!
//! It listens on loopback only and answers nothing but `/batch/`; it is never used outside
//! tests. Like PostHog, it can refuse bodies over a size limit with 413
//! ([`CaptureServer::set_body_limit`]), and a stopped server can be started again on the same
//! port ([`CaptureServer::start_on_port`]), for a host that was down and comes back.

use serde_json::Value;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How the server answers one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// This status code (and PostHog's `{"status": 1}` body for a 2xx).
    Status(u16),
    /// 429 with a `Retry-After` of this many seconds.
    RetryAfter(u64),
    /// Wait, then answer as the inner reply.
    Delay(Duration, Box<Reply>),
    /// Accept the connection and never answer (a firewall that drops packets).
    NeverAnswer,
}

/// One request the server received.
#[derive(Debug, Clone)]
pub struct Received {
    /// The status it was answered with (`None`: never answered).
    pub status: Option<u16>,
    /// The parsed body, if it was JSON.
    pub body: Option<Value>,
    /// The body's length in bytes.
    pub size: usize,
}

#[derive(Default)]
struct Shared {
    script: VecDeque<Reply>,
    /// Bodies longer than this are answered 413 (PostHog's capture refuses bodies over 20 MB).
    body_limit: Option<usize>,
    received: Vec<Received>,
    /// Requests held open by [`Reply::NeverAnswer`], answered only when the server stops.
    held: Vec<tiny_http::Request>,
}

/// The running server; stops when dropped.
pub struct CaptureServer {
    url: String,
    shared: Arc<Mutex<Shared>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl CaptureServer {
    /// Starts a server on a free port of 127.0.0.1 that accepts every valid batch.
    pub fn start() -> CaptureServer {
        let server = tiny_http::Server::http("127.0.0.1:0").expect("bind 127.0.0.1");
        CaptureServer::serving(server)
    }

    /// Starts a server on `port` of 127.0.0.1, such as the port of a server that was stopped:
    /// the host is back. Waits a little for the old listener to be closed; panics if the port
    /// stays taken.
    pub fn start_on_port(port: u16) -> CaptureServer {
        let address = format!("127.0.0.1:{port}");
        let mut attempts = 0;
        loop {
            match tiny_http::Server::http(&address) {
                Ok(server) => return CaptureServer::serving(server),
                Err(error) if attempts >= 40 => panic!("cannot bind {address}: {error}"),
                Err(_) => {
                    attempts += 1;
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
    }

    fn serving(server: tiny_http::Server) -> CaptureServer {
        let port = server.server_addr().to_ip().expect("an IP address").port();
        let shared = Arc::new(Mutex::new(Shared::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let shared = Arc::clone(&shared);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || serve(server, shared, stop))
        };
        CaptureServer {
            url: format!("http://127.0.0.1:{port}"),
            shared,
            stop,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.url
            .rsplit(':')
            .next()
            .and_then(|port| port.parse().ok())
            .expect("the URL ends with the port")
    }

    /// Answers 413 (Payload Too Large) to every request whose body is longer than `bytes`, as
    /// PostHog's capture service does above 20 MB; such requests take nothing from the script.
    pub fn set_body_limit(&self, bytes: usize) {
        self.lock().body_limit = Some(bytes);
    }

    /// Answers the next requests with `replies`, in order; after them, valid batches get 200.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.lock().script.extend(replies);
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    /// The events of every batch answered with a 2xx, in the order received.
    pub fn accepted_events(&self) -> Vec<Value> {
        self.lock()
            .received
            .iter()
            .filter(|r| r.status.is_some_and(|s| (200..300).contains(&s)))
            .filter_map(|r| r.body.as_ref()?.get("batch")?.as_array().cloned())
            .flatten()
            .collect()
    }

    /// Waits until at least `count` events were accepted or `limit` passed; returns them.
    /// (A bound on waiting for a background process, not a speed assertion.)
    pub fn wait_for_events(&self, count: usize, limit: Duration) -> Vec<Value> {
        let start = Instant::now();
        loop {
            let events = self.accepted_events();
            if events.len() >= count || start.elapsed() > limit {
                return events;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for CaptureServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(server: tiny_http::Server, shared: Arc<Mutex<Shared>>, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::SeqCst) {
        let Ok(Some(mut request)) = server.recv_timeout(Duration::from_millis(20)) else {
            continue;
        };
        let mut body = String::new();
        let readable = std::io::Read::read_to_string(request.as_reader(), &mut body).is_ok();
        let parsed: Option<Value> = serde_json::from_str(&body).ok();
        let mut guard = shared.lock().unwrap_or_else(|p| p.into_inner());
        let verdict = if request.url().trim_end_matches('/') != "/batch" {
            Err(404)
        } else if *request.method() != tiny_http::Method::Post {
            Err(405)
        } else if !readable {
            Err(400)
        } else if guard.body_limit.is_some_and(|limit| body.len() > limit) {
            Err(413)
        } else {
            validate(parsed.as_ref()).map_err(|_| 400)
        };
        let reply = match verdict {
            Err(status) => Reply::Status(status),
            Ok(()) => guard.script.pop_front().unwrap_or(Reply::Status(200)),
        };
        let index = guard.received.len();
        guard.received.push(Received {
            status: None,
            body: parsed,
            size: body.len(),
        });
        match reply {
            Reply::NeverAnswer => guard.held.push(request),
            Reply::Delay(wait, then) => {
                drop(guard);
                let shared = Arc::clone(&shared);
                std::thread::spawn(move || {
                    std::thread::sleep(wait);
                    answer(request, &then, index, &shared);
                });
            }
            other => {
                drop(guard);
                answer(request, &other, index, &shared);
            }
        }
    }
}

fn answer(request: tiny_http::Request, reply: &Reply, index: usize, shared: &Mutex<Shared>) {
    let (status, headers) = match reply {
        Reply::Status(status) => (*status, vec![]),
        Reply::RetryAfter(seconds) => (429, vec![("Retry-After", seconds.to_string())]),
        Reply::Delay(_, inner) => return answer(request, inner, index, shared),
        Reply::NeverAnswer => return,
    };
    let body = if (200..300).contains(&status) {
        r#"{"status": 1}"#
    } else {
        r#"{"type": "validation_error", "code": "invalid_payload"}"#
    };
    let mut response = tiny_http::Response::from_string(body).with_status_code(status);
    for (name, value) in headers {
        if let Ok(header) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            response = response.with_header(header);
        }
    }
    let _ = request.respond(response);
    let mut guard = shared.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(received) = guard.received.get_mut(index) {
        received.status = Some(status);
    }
}

/// The checks PostHog's capture service makes on a `/batch/` body.
pub fn validate(body: Option<&Value>) -> Result<(), String> {
    let body = body.ok_or("the body is not JSON")?;
    match body.get("api_key").and_then(Value::as_str) {
        Some(key) if !key.is_empty() => {}
        _ => return Err("api_key is missing or empty".into()),
    }
    let batch = body
        .get("batch")
        .and_then(Value::as_array)
        .ok_or("batch is missing")?;
    if batch.is_empty() {
        return Err("batch is empty".into());
    }
    for event in batch {
        match event.get("event").and_then(Value::as_str) {
            Some(name) if !name.is_empty() => {}
            _ => return Err("an event has no name".into()),
        }
        match event.get("distinct_id").and_then(Value::as_str) {
            Some(id) if !id.is_empty() => {}
            _ => return Err("an event has no distinct_id".into()),
        }
        if let Some(uuid) = event.get("uuid") {
            let valid = uuid
                .as_str()
                .is_some_and(|u| uuid::Uuid::try_parse(u).is_ok());
            if !valid {
                return Err("an event has an invalid uuid".into());
            }
        }
        if !event.get("properties").is_none_or(Value::is_object) {
            return Err("properties is not an object".into());
        }
    }
    Ok(())
}
