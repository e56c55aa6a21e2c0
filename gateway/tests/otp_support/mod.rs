//! Receivers the one-time-code tests start on loopback: a small but real SMTP server
//! (RFC 5321 commands as lettre speaks them, dot-unstuffing, one message per DATA), and
//! an HTTP endpoint standing in for an SMS/WhatsApp provider that records each request.
//!
//! Neither offers "expect nothing within N seconds": a fixed wait passes whenever the
//! send is slower than the wait. To show that a message was not sent, start the server
//! with `otp.delivery.concurrency = 1` (one send at a time, in queue order), have it send
//! a later message, and check that the later one is the next to arrive.
#![allow(dead_code)]

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine as _;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(15);

/// A message the SMTP server accepted.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub from: String,
    pub to: Vec<String>,
    /// Headers and body as sent (CRLF line ends, dots unstuffed).
    pub data: String,
}

impl Delivered {
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next()?;
        let prefix = format!("{}:", name.to_ascii_lowercase());
        head.split("\r\n")
            .find(|l| l.to_ascii_lowercase().starts_with(&prefix))
            .map(|l| l[prefix.len()..].trim().to_owned())
    }

    /// The decoded text body (7bit, quoted-printable or base64).
    pub fn text(&self) -> String {
        crate::common::mail_text(&self.data)
    }

    /// The first run of exactly six digits in the body.
    pub fn code(&self) -> String {
        six_digits(&self.text()).expect("a 6-digit code in the mail")
    }

    /// The first http(s) link in the body.
    pub fn link(&self) -> String {
        let text = self.text();
        let start = text.find("http").expect("a link in the mail");
        text[start..].split_whitespace().next().unwrap().to_owned()
    }
}

/// The first run of exactly six digits.
pub fn six_digits(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i - start == 6 {
                return Some(text[start..i].to_owned());
            }
        } else {
            i += 1;
        }
    }
    None
}

/// The SMTP server.
pub struct SmtpSink {
    pub addr: SocketAddr,
    rx: mpsc::UnboundedReceiver<Delivered>,
}

impl SmtpSink {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(smtp_session(stream, tx.clone()));
            }
        });
        Self { addr, rx }
    }

    /// The next delivered message (fails after a bounded wait).
    pub async fn next(&mut self) -> Delivered {
        tokio::time::timeout(WAIT, self.rx.recv())
            .await
            .expect("a mail within the time limit")
            .expect("the SMTP server is running")
    }
}

fn path_arg(line: &str) -> String {
    let start = line.find('<').map(|i| i + 1).unwrap_or(0);
    let end = line.rfind('>').unwrap_or(line.len());
    line[start..end].to_owned()
}

async fn smtp_session(stream: TcpStream, tx: mpsc::UnboundedSender<Delivered>) {
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    let _ = w.write_all(b"220 sink.test ESMTP ready\r\n").await;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    // Bounded: a session ends at QUIT, at EOF, or after this many commands.
    for _ in 0..1000 {
        line.clear();
        match tokio::time::timeout(WAIT, r.read_line(&mut line)).await {
            Ok(Ok(n)) if n > 0 => {}
            _ => return,
        }
        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-sink.test greets you\r\n250-8BITMIME\r\n250 SIZE 10485760\r\n",
            "HELO" => b"250 sink.test\r\n",
            "MAIL" => {
                from = path_arg(&line);
                to.clear();
                b"250 2.1.0 OK\r\n"
            }
            "RCPT" => {
                to.push(path_arg(&line));
                b"250 2.1.5 OK\r\n"
            }
            "DATA" => {
                let _ = w.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await;
                let mut data = String::new();
                loop {
                    let mut l = String::new();
                    match tokio::time::timeout(WAIT, r.read_line(&mut l)).await {
                        Ok(Ok(n)) if n > 0 => {}
                        _ => return,
                    }
                    if l == ".\r\n" {
                        break;
                    }
                    data.push_str(l.strip_prefix('.').unwrap_or(&l));
                }
                let _ = tx.send(Delivered {
                    from: from.clone(),
                    to: to.clone(),
                    data,
                });
                b"250 2.0.0 queued\r\n"
            }
            "RSET" => {
                from.clear();
                to.clear();
                b"250 2.0.0 OK\r\n"
            }
            "NOOP" => b"250 2.0.0 OK\r\n",
            "QUIT" => {
                let _ = w.write_all(b"221 2.0.0 bye\r\n").await;
                return;
            }
            _ => b"502 5.5.2 not implemented\r\n",
        };
        if w.write_all(reply).await.is_err() {
            return;
        }
    }
}

/// One request the provider stand-in received.
#[derive(Debug, Clone)]
pub struct Captured {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Captured {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }

    pub fn form(&self) -> HashMap<String, String> {
        serde_urlencoded::from_str(&self.body).expect("a form body")
    }
}

/// The SMS/WhatsApp provider stand-in.
pub struct Provider {
    pub base: String,
    rx: mpsc::UnboundedReceiver<Captured>,
    handle: actix_web::dev::ServerHandle,
}

async fn capture(
    req: HttpRequest,
    body: web::Bytes,
    tx: web::Data<mpsc::UnboundedSender<Captured>>,
) -> HttpResponse {
    let _ = tx.send(Captured {
        method: req.method().to_string(),
        path: req.path().to_owned(),
        query: req.query_string().to_owned(),
        headers: req
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    HttpResponse::Ok().json(serde_json::json!({"status": "accepted"}))
}

impl Provider {
    pub async fn start() -> Self {
        let (tx, rx) = mpsc::unbounded_channel::<Captured>();
        let tx = web::Data::new(tx);
        let server = HttpServer::new(move || {
            App::new()
                .app_data(tx.clone())
                .default_service(web::to(capture))
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
        let addr = server.addrs()[0];
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            base: format!("http://{addr}"),
            rx,
            handle,
        }
    }

    pub async fn next(&mut self) -> Captured {
        tokio::time::timeout(WAIT, self.rx.recv())
            .await
            .expect("a provider request within the time limit")
            .expect("the provider is running")
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

/// The payload of a JWT, decoded.
pub fn jwt_claims(jwt: &str) -> serde_json::Value {
    let payload = jwt.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}
