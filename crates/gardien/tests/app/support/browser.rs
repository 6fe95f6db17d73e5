//! Drives a real Chromium for browser tests: starts `chromedriver` on a free
//! port (its process group is killed on drop), opens a fresh headless session
//! with its own profile, and saves screenshots under
//! `<workspace>/target/screenshots/` (not `CARGO_TARGET_DIR`, which may be
//! elsewhere) so that people can look at the pages the tests saw.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
const WIDTH: u32 = 1280;
const HEIGHT: u32 = 900;
const WAIT: Duration = Duration::from_secs(10);

pub struct Browser {
    client: Option<Client>,
    driver: Child,
    /// The Chromium profile and the chromedriver log.
    profile: tempfile::TempDir,
    /// Prefix of the automatic screenshots taken after each `goto`.
    label: String,
    shots: AtomicU32,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session (1280×900, English).
    pub async fn start() -> Browser {
        let profile = tempfile::tempdir().expect("a temporary Chromium profile");
        let port = free_port();
        let log = std::fs::File::create(profile.path().join("chromedriver.log"))
            .expect("the chromedriver log");
        let mut command = Command::new(CHROMEDRIVER);
        command
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log);
        // Its own process group, so that drop ends Chromium with it.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let driver = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"));
        wait_for_port(port).await;

        let user_data_dir = profile.path().join("chromium");
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-dev-shm-usage",
                    "--disable-component-update",
                    "--no-first-run",
                    "--lang=en-US",
                    format!("--window-size={WIDTH},{HEIGHT}"),
                    format!("--user-data-dir={}", user_data_dir.display()),
                ],
                "prefs": { "intl.accept_languages": "en-US,en" },
            },
        });
        let capabilities = match capabilities {
            serde_json::Value::Object(map) => map,
            _ => unreachable!("capabilities are an object"),
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap_or_else(|e| {
                let log = std::fs::read_to_string(profile.path().join("chromedriver.log"))
                    .unwrap_or_default();
                panic!("cannot open a Chromium session: {e}\nchromedriver log:\n{log}")
            });
        set_viewport(&client, WIDTH, HEIGHT).await;

        let label = std::thread::current()
            .name()
            .unwrap_or("browser")
            .replace("::", "-")
            .replace(
                |c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '_',
                "_",
            );
        Browser {
            client: Some(client),
            driver,
            profile,
            label,
            shots: AtomicU32::new(0),
        }
    }

    /// The WebDriver client, for what the helpers below do not cover.
    pub fn client(&self) -> &Client {
        self.client.as_ref().expect("the session is open")
    }

    /// Opens `url`, then saves a screenshot `<test>-<n>.png`.
    pub async fn goto(&self, url: &str) {
        self.client()
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
        let n = self.shots.fetch_add(1, Ordering::Relaxed) + 1;
        self.screenshot(&format!("{}-{n:02}", self.label)).await;
    }

    pub async fn title(&self) -> String {
        self.client().title().await.expect("the page title")
    }

    pub async fn current_url(&self) -> String {
        self.client()
            .current_url()
            .await
            .expect("the current URL")
            .to_string()
    }

    /// The element matching the CSS selector, waiting for it to appear.
    pub async fn find(&self, css: &str) -> Element {
        self.client()
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    /// Waits until an element matches the CSS selector (e.g. after a submit).
    pub async fn wait_for(&self, css: &str) {
        self.find(css).await;
    }

    pub async fn text(&self, css: &str) -> String {
        self.read(css, "element text", |element| async move {
            element.text().await
        })
        .await
    }

    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.read(css, "element attribute", |element| async move {
            element.attr(name).await
        })
        .await
    }

    /// Reads from the element `css` finds, again while the page it was
    /// found on is being replaced by the next one.
    async fn read<T, F, Fut>(&self, css: &str, what: &str, read: F) -> T
    where
        F: Fn(Element) -> Fut,
        Fut: std::future::Future<Output = Result<T, fantoccini::error::CmdError>>,
    {
        let deadline = Instant::now() + WAIT;
        loop {
            match read(self.find(css).await).await {
                Err(e) if replaced(&e) && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(25)).await
                }
                result => return result.expect(what),
            }
        }
    }

    /// Clicks what submits a form or follows a link, and waits until the
    /// next page replaced this one (an element of this page is stale), so
    /// that what is read next is read on the new page.
    pub async fn click_and_load(&self, css: &str) {
        let page = self.find("html").await;
        self.click(css).await;
        let deadline = Instant::now() + WAIT;
        loop {
            if page.tag_name().await.is_err_and(|e| replaced(&e)) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{css} did not lead to another page"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
    }

    /// Replaces the value of a text field.
    pub async fn fill(&self, css: &str, value: &str) {
        let field = self.find(css).await;
        field.clear().await.expect("clear the field");
        field
            .send_keys(value)
            .await
            .unwrap_or_else(|e| panic!("cannot type into {css}: {e}"));
    }

    /// Chooses the option of value `value` in a `<select>`.
    pub async fn select(&self, css: &str, value: &str) {
        self.find(css)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("cannot select {value} in {css}: {e}"));
    }

    /// Saves what the window shows as `target/screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client().screenshot().await.expect("a screenshot");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("the screenshot folder");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("the screenshot file");
        path
    }

    /// Ends the session cleanly (drop also works, more abruptly).
    pub async fn close(mut self) {
        if let Some(client) = self.client.take() {
            let _ = client.close().await;
        }
    }

    /// chromedriver's log, to print when a test fails.
    pub fn driver_log(&self) -> String {
        std::fs::read_to_string(self.profile.path().join("chromedriver.log")).unwrap_or_default()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The group holds chromedriver and the Chromium it started.
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Sizes the window so that the page itself (what screenshots show) gets
/// `width`×`height`: headless Chromium still counts some browser frame.
async fn set_viewport(client: &Client, width: u32, height: u32) {
    client
        .set_window_size(width, height)
        .await
        .expect("window size");
    let inner = client
        .execute(
            "return [window.innerWidth, window.innerHeight];",
            Vec::new(),
        )
        .await
        .expect("the viewport size");
    let size = |i: usize| inner.get(i).and_then(|v| v.as_u64()).unwrap_or(0) as u32;
    let (extra_width, extra_height) = (
        width.saturating_sub(size(0)),
        height.saturating_sub(size(1)),
    );
    if extra_width > 0 || extra_height > 0 {
        client
            .set_window_size(width + extra_width, height + extra_height)
            .await
            .expect("window size");
    }
}

/// `<workspace>/target/screenshots`.
pub fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots")
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

async fn wait_for_port(port: u16) {
    let deadline = Instant::now() + WAIT;
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not listen on {port} in time"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether a command failed because its element's page was replaced (the
/// element was found just before a navigation): find it again.
fn replaced(error: &fantoccini::error::CmdError) -> bool {
    match error {
        fantoccini::error::CmdError::Standard(e) => {
            e.error == fantoccini::error::ErrorStatus::StaleElementReference
                || e.message.contains("does not belong to the document")
        }
        _ => false,
    }
}
