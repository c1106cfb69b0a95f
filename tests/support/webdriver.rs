//! A small W3C WebDriver client over real HTTP to Debian's `chromedriver`, driving headless
//! Chromium at phone size: find by CSS, click, type, read text, screenshot. Enough for the app's
//! end-to-end run; no crate needed for five JSON requests.

use serde_json::{Value, json};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Browser {
    driver: Child,
    http: reqwest::blocking::Client,
    base: String,
    session: String,
    _profile: tempfile::TempDir,
}

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Whether chromium and chromedriver are installed (scripts/deps.sh installs them).
pub fn available() -> bool {
    Path::new("/usr/bin/chromium").exists() && Path::new("/usr/bin/chromedriver").exists()
}

impl Browser {
    /// Start chromedriver and a headless Chromium with a 390×844 window (a phone).
    pub fn start() -> Browser {
        Browser::start_sized(390, 844)
    }

    /// The same with a viewport of `width` × `height` (an office PC's screen).
    pub fn start_sized(width: i64, height: i64) -> Browser {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver");
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while http.get(format!("{base}/status")).send().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    format!("--window-size={width},{height}"), "--lang=zh-CN".to_string(),
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        }}});
        let r: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .unwrap()
            .json()
            .unwrap();
        let session = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {r}"))
            .to_string();
        let browser = Browser {
            driver,
            http,
            base,
            session,
            _profile: profile,
        };
        // The viewport asked for (the window's frame is not part of it).
        browser.call(
            reqwest::Method::POST,
            "/window/rect",
            json!({"width": width, "height": height}),
        );
        let inner = browser.script("return [window.innerWidth, window.innerHeight]");
        let (w, h) = (
            inner[0].as_i64().unwrap_or(width),
            inner[1].as_i64().unwrap_or(height),
        );
        browser.call(
            reqwest::Method::POST,
            "/window/rect",
            json!({"width": width + (width - w), "height": height + (height - h)}),
        );
        browser
    }

    fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut req = self.http.request(method.clone(), url);
        if method != reqwest::Method::GET {
            req = req.json(&body);
        }
        let v: Value = req.send().unwrap().json().unwrap();
        v["value"].clone()
    }

    /// A Chrome DevTools command through chromedriver (`goog/cdp/execute`): what the end-to-end
    /// run uses to be the phone's sensors (a position, a refused permission).
    pub fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.call(
            reqwest::Method::POST,
            "/goog/cdp/execute",
            json!({"cmd": cmd, "params": params}),
        )
    }

    pub fn open(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", json!({ "url": url }));
    }

    /// Run a script in the page and return its value.
    pub fn script(&self, js: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            json!({"script": js, "args": []}),
        )
    }

    /// The page's visible text.
    pub fn text(&self) -> String {
        self.script("return document.body ? document.body.innerText : ''")
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Wait until the page's text contains `needle`.
    pub fn wait_text(&self, needle: &str, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let t = self.text();
            if t.contains(needle) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "waited {secs} s for {needle:?}; the page says:\n{t}"
            );
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    /// Open `url` again and again until its text contains `needle`: for what the server
    /// changes on its own (a message the courier sends), which no page shows without a reload.
    pub fn wait_text_reopening(&self, url: &str, needle: &str, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while !self.text().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "waited {secs} s for {needle:?} at {url}; the page says:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(300));
            self.open(url);
        }
    }

    fn find(&self, css: &str, secs: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let v = self.call(
                reqwest::Method::POST,
                "/element",
                json!({"using": "css selector", "value": css}),
            );
            if let Some(id) = v[ELEMENT].as_str() {
                return id.to_string();
            }
            assert!(
                Instant::now() < deadline,
                "no element {css:?} ({v}); the page says:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    /// Click the first element matching `css` (waiting up to 10 s for it).
    pub fn click(&self, css: &str) {
        let id = self.find(css, 10);
        let r = self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            json!({}),
        );
        // A click landing on the notice or the tab bar is retried once through the DOM.
        if r.get("error").is_some() {
            self.script(&format!(
                "document.querySelector({}).click(); return null",
                serde_json::to_string(css).unwrap()
            ));
        }
    }

    /// Type into the first element matching `css`.
    pub fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css, 10);
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            json!({ "text": text }),
        );
    }

    pub fn screenshot(&self, path: &Path) {
        use base64::Engine;
        let v = self.call(reqwest::Method::GET, "/screenshot", json!({}));
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap())
            .unwrap();
        std::fs::write(path, png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self
            .http
            .delete(format!("{}/session/{}", self.base, self.session))
            .send();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
