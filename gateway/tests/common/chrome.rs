//! Real-browser helpers: chromedriver as a child process, and a relying party's
//! callback that answers whatever arrives (bounded).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The relying party's callback: answers a small page to whatever arrives (bounded).
pub fn callback_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(20) {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 8192];
            let _ = s.read(&mut buf);
            let body = "<h1>Back at the app</h1>";
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

pub struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn start_chromedriver() -> Option<(Driver, u16)> {
    let bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(&bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let driver = Driver(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some((driver, port));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

/// The browser tests' tenant `shop`: a first-party client redirecting to `redirect_uri`
/// and the user `buyer@shop.example`. Returns the created client.
pub async fn shop(server: &super::TestServer, redirect_uri: &str) -> serde_json::Value {
    use serde_json::json;
    server
        .admin("/tenants", json!({"id": "shop", "display_name": "Shop"}))
        .await;
    let c = server
        .admin(
            "/tenants/shop/clients",
            json!({"name": "Shop web", "redirect_uris": [redirect_uri], "first_party": true}),
        )
        .await;
    server
        .admin(
            "/tenants/shop/users",
            json!({"email": "buyer@shop.example", "password": super::PASSWORD}),
        )
        .await;
    c
}

/// How a browser flow failed: a WebDriver error, a page that never got where it should
/// (with what it showed instead), or a page that showed something it must not.
#[derive(Debug)]
#[allow(dead_code)] // Read through Debug when the test fails.
pub enum Failed {
    Cmd(fantoccini::error::CmdError),
    Timeout(String),
    Wrong(String),
}

impl From<fantoccini::error::CmdError> for Failed {
    fn from(e: fantoccini::error::CmdError) -> Self {
        Self::Cmd(e)
    }
}

/// A step of a browser flow.
pub type Flow<T> = Result<T, Failed>;

/// Waits until `done` holds for the page (its URL and source), at most `secs` seconds.
pub async fn wait_for(
    browser: &fantoccini::Client,
    secs: u64,
    what: &str,
    done: impl Fn(&str, &str) -> bool,
) -> Flow<()> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let url = browser.current_url().await?.to_string();
        let source = browser.source().await?;
        if done(&url, &source) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(Failed::Timeout(format!(
                "waiting for {what}; at {url}:\n{source}"
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
