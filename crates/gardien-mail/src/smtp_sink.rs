//! A small SMTP server for tests (feature `testing`): it speaks real SMTP
//! (EHLO/HELO, MAIL FROM, RCPT TO, DATA with dot-unstuffing, RSET, NOOP,
//! QUIT) on 127.0.0.1, accepts every message and records it, so tests watch
//! Gardien's mail cross a real SMTP exchange.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// A message the sink accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    /// The envelope sender (`MAIL FROM`).
    pub from: String,
    /// The envelope recipients (`RCPT TO`).
    pub to: Vec<String>,
    /// The message as transmitted after `DATA`, dot-unstuffed, CRLF line ends.
    pub data: String,
}

impl ReceivedMail {
    /// The raw value of the first header called `name` (case-insensitive)
    /// of the message, unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        header_in(head_of(&self.data), name)
    }

    /// A header with its RFC 2047 encoded words (`=?utf-8?b?…?=`) decoded:
    /// the `Subject` as the person reads it.
    pub fn decoded_header(&self, name: &str) -> Option<String> {
        self.header(name).map(|value| decode_words(&value))
    }

    /// The decoded body of the first part whose type is `content_type`
    /// (`text/plain`, `text/html`), in a single-part or multipart message.
    pub fn part(&self, content_type: &str) -> Option<String> {
        find_part(&self.data, content_type)
    }

    pub fn text_body(&self) -> Option<String> {
        self.part("text/plain")
    }

    pub fn html_body(&self) -> Option<String> {
        self.part("text/html")
    }
}

fn head_of(entity: &str) -> &str {
    entity.split("\r\n\r\n").next().unwrap_or_default()
}

fn body_of(entity: &str) -> &str {
    entity.split_once("\r\n\r\n").map_or("", |(_, body)| body)
}

fn header_in(head: &str, name: &str) -> Option<String> {
    let mut value: Option<String> = None;
    for line in head.split("\r\n") {
        if let Some(current) = value.as_mut() {
            if line.starts_with([' ', '\t']) {
                current.push(' ');
                current.push_str(line.trim());
                continue;
            }
            break;
        }
        if let Some((key, rest)) = line.split_once(':') {
            if key.eq_ignore_ascii_case(name) {
                value = Some(rest.trim().to_owned());
            }
        }
    }
    value
}

/// The value of parameter `name` in a header value (`boundary="x"`).
fn parameter(value: &str, name: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|param| {
        let (key, val) = param.trim().split_once('=')?;
        key.eq_ignore_ascii_case(name)
            .then(|| val.trim().trim_matches('"').to_owned())
    })
}

fn find_part(entity: &str, wanted: &str) -> Option<String> {
    let head = head_of(entity);
    let content_type = header_in(head, "Content-Type").unwrap_or_else(|| "text/plain".to_owned());
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if mime.starts_with("multipart/") {
        let boundary = parameter(&content_type, "boundary")?;
        let delimiter = format!("--{boundary}");
        return body_of(entity)
            .split(delimiter.as_str())
            .skip(1)
            .take_while(|part| !part.starts_with("--"))
            // The line break before a delimiter belongs to the delimiter.
            .map(|part| part.strip_suffix("\r\n").unwrap_or(part))
            .find_map(|part| find_part(part.trim_start_matches("\r\n"), wanted));
    }
    if mime != wanted {
        return None;
    }
    let body = body_of(entity);
    let encoding = header_in(head, "Content-Transfer-Encoding").unwrap_or_default();
    let bytes = match encoding.to_ascii_lowercase().as_str() {
        "base64" => {
            use base64::Engine;
            let compact: String = body.split_whitespace().collect();
            base64::engine::general_purpose::STANDARD
                .decode(compact)
                .ok()?
        }
        "quoted-printable" => decode_quoted_printable(body),
        _ => body.as_bytes().to_vec(),
    };
    Some(String::from_utf8_lossy(&bytes).replace("\r\n", "\n"))
}

fn decode_quoted_printable(body: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'=' if bytes[i + 1..].starts_with(b"\r\n") => i += 3,
            b'=' if bytes[i + 1..].starts_with(b"\n") => i += 2,
            b'=' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        i += 3;
                    }
                    None => {
                        out.push(b'=');
                        i += 1;
                    }
                }
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

/// Decodes RFC 2047 encoded words; whitespace between two words is dropped.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut previous_was_word = false;
    for token in value.split(' ').filter(|t| !t.is_empty()) {
        let decoded = decode_word(token);
        let is_word = decoded.is_some();
        // Whitespace between two encoded words is not part of the text.
        let glued = is_word && previous_was_word;
        if !(out.is_empty() || glued) {
            out.push(' ');
        }
        out.push_str(&decoded.unwrap_or_else(|| token.to_owned()));
        previous_was_word = is_word;
    }
    out
}

fn decode_word(token: &str) -> Option<String> {
    let inner = token.strip_prefix("=?")?.strip_suffix("?=")?;
    let mut pieces = inner.splitn(3, '?');
    let (_charset, encoding, text) = (pieces.next()?, pieces.next()?, pieces.next()?);
    let bytes = match encoding {
        "b" | "B" => {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .ok()?
        }
        "q" | "Q" => decode_quoted_printable(&text.replace('_', " ")),
        _ => return None,
    };
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

#[derive(Default)]
struct Shared {
    inbox: Mutex<Inbox>,
    arrived: Notify,
}

/// The messages in order of arrival, and where each recipient's are: a long
/// test (hundreds of thousands of messages) reads one address's mail
/// without copying everyone's.
#[derive(Default)]
struct Inbox {
    messages: Vec<ReceivedMail>,
    by_recipient: std::collections::HashMap<String, Vec<usize>>,
}

impl Inbox {
    fn push(&mut self, mail: ReceivedMail) {
        let index = self.messages.len();
        let mut recipients: Vec<String> = mail.to.iter().map(|t| t.to_ascii_lowercase()).collect();
        recipients.sort_unstable();
        recipients.dedup();
        for recipient in recipients {
            self.by_recipient.entry(recipient).or_default().push(index);
        }
        self.messages.push(mail);
    }

    fn to(&self, recipient: &str) -> Vec<ReceivedMail> {
        self.by_recipient
            .get(&recipient.to_ascii_lowercase())
            .map(|indices| indices.iter().map(|&i| self.messages[i].clone()).collect())
            .unwrap_or_default()
    }
}

/// A running SMTP sink. Stops when dropped.
pub struct SmtpSink {
    address: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl SmtpSink {
    /// Starts a sink on a free port of 127.0.0.1.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_on(0).await
    }

    /// Starts a sink on `port` of 127.0.0.1 (0 for a free one), e.g. the port
    /// a test told Gardien about before the sink was up.
    pub async fn start_on(port: u16) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let address = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let task = tokio::spawn(accept(listener, shared.clone()));
        Ok(Self {
            address,
            shared,
            task,
        })
    }

    /// A port of 127.0.0.1 that nothing listens on (it was free a moment
    /// ago): connecting to it fails, until a sink starts on it.
    pub fn unused_port() -> std::io::Result<u16> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
        Ok(listener.local_addr()?.port())
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// The messages received so far, in order of arrival.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.inbox().messages.clone()
    }

    /// The messages whose envelope names `recipient` (case-insensitive), in
    /// order of arrival.
    pub fn messages_to(&self, recipient: &str) -> Vec<ReceivedMail> {
        self.inbox().to(recipient)
    }

    /// Waits until at least `n` messages to `recipient` arrived or `timeout`
    /// passed, and returns that recipient's messages by then (check their
    /// number).
    pub async fn wait_for_recipient(
        &self,
        recipient: &str,
        n: usize,
        timeout: Duration,
    ) -> Vec<ReceivedMail> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // Registered before checking, so an arrival in between is not missed.
            let arrived = self.shared.arrived.notified();
            let messages = self.messages_to(recipient);
            if messages.len() >= n {
                return messages;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return self.messages_to(recipient);
            }
        }
    }

    fn inbox(&self) -> std::sync::MutexGuard<'_, Inbox> {
        self.shared
            .inbox
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until at least `n` messages arrived or `timeout` passed, and
    /// returns the messages received by then (check their number).
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // Registered before checking, so an arrival in between is not missed.
            let arrived = self.shared.arrived.notified();
            let messages = self.messages();
            if messages.len() >= n {
                return messages;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return self.messages();
            }
        }
    }

    /// Stops listening; connections in progress are cut.
    pub fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept(listener: TcpListener, shared: Arc<Shared>) {
    let mut sessions = tokio::task::JoinSet::new();
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let shared = shared.clone();
                sessions.spawn(async move {
                    // A client that misbehaves only ends its own session.
                    let _ = session(stream, &shared).await;
                });
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
        // Reap finished sessions; the rest are aborted with this task.
        while sessions.try_join_next().is_some() {}
    }
}

async fn session(stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 smtp-sink ESMTP ready\r\n").await?;
    let mut from: Option<String> = None;
    let mut to: Vec<String> = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if lines.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let command = String::from_utf8_lossy(&line);
        let command = command.trim_end_matches(['\r', '\n']);
        let verb = command
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let answer: &[u8] = match verb.as_str() {
            "EHLO" => b"250-smtp-sink\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 10485760\r\n",
            "HELO" => b"250 smtp-sink\r\n",
            "MAIL" => match path_argument(command, "FROM:") {
                Some(path) => {
                    from = Some(path);
                    to.clear();
                    b"250 2.1.0 OK\r\n"
                }
                None => b"501 5.5.4 Syntax: MAIL FROM:<address>\r\n",
            },
            "RCPT" => match (from.is_some(), path_argument(command, "TO:")) {
                (false, _) => b"503 5.5.1 MAIL first\r\n",
                (true, Some(path)) => {
                    to.push(path);
                    b"250 2.1.5 OK\r\n"
                }
                (true, None) => b"501 5.5.4 Syntax: RCPT TO:<address>\r\n",
            },
            "DATA" if from.is_none() || to.is_empty() => b"503 5.5.1 RCPT first\r\n",
            "DATA" => {
                write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let data = read_data(&mut lines).await?;
                let received = ReceivedMail {
                    from: from.take().unwrap_or_default(),
                    to: std::mem::take(&mut to),
                    data,
                };
                shared
                    .inbox
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(received);
                shared.arrived.notify_waiters();
                b"250 2.0.0 OK: queued\r\n"
            }
            "RSET" => {
                from = None;
                to.clear();
                b"250 2.0.0 OK\r\n"
            }
            "NOOP" => b"250 2.0.0 OK\r\n",
            "QUIT" => {
                write.write_all(b"221 2.0.0 Bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 5.5.2 Command not implemented\r\n",
        };
        write.write_all(answer).await?;
    }
}

/// `MAIL FROM:<a@b> BODY=8BITMIME` → `a@b`.
fn path_argument(command: &str, keyword: &str) -> Option<String> {
    let rest = command.get(5..)?.trim_start();
    let prefix = rest.get(..keyword.len())?;
    if !prefix.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = rest[keyword.len()..].trim_start();
    let inner = rest.strip_prefix('<')?;
    let end = inner.find('>')?;
    Some(inner[..end].to_owned())
}

/// Reads the DATA section up to the lone `.` line, undoing dot-stuffing.
async fn read_data<R: tokio::io::AsyncBufRead + Unpin>(lines: &mut R) -> std::io::Result<String> {
    let mut data = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if lines.read_until(b'\n', &mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if line == b".\r\n" || line == b".\n" {
            break;
        }
        let content = line.strip_prefix(b".").unwrap_or(&line);
        data.extend_from_slice(content);
    }
    Ok(String::from_utf8_lossy(&data).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_paths_with_parameters() {
        assert_eq!(
            path_argument("MAIL FROM:<a@b.example> BODY=8BITMIME", "FROM:").as_deref(),
            Some("a@b.example")
        );
        assert_eq!(
            path_argument("RCPT TO: <c@d.example>", "TO:").as_deref(),
            Some("c@d.example")
        );
        assert_eq!(path_argument("MAIL FROM:<>", "FROM:").as_deref(), Some(""));
        assert_eq!(path_argument("MAIL TO:<x@y>", "FROM:"), None);
        assert_eq!(path_argument("MAIL", "FROM:"), None);
    }

    #[test]
    fn finds_folded_headers() {
        let mail = ReceivedMail {
            from: String::new(),
            to: vec![],
            data: "Subject: a\r\n long one\r\nMessage-ID: <x@y>\r\n\r\nSubject: body".into(),
        };
        assert_eq!(mail.header("subject").as_deref(), Some("a long one"));
        assert_eq!(mail.header("Message-Id").as_deref(), Some("<x@y>"));
        assert_eq!(mail.header("To"), None);
    }

    #[test]
    fn decodes_what_lettre_encodes() {
        let text = "Bonjour Élise,\n\nune ligne très longue ".to_owned() + &"é".repeat(120) + "\n";
        let html = "<p>Société &amp; Fils</p>".to_owned() + &"x".repeat(200);
        let message = lettre::Message::builder()
            .from("Gardien <no-reply@gardien.example>".parse().unwrap())
            .to("ana@cabinet.example".parse().unwrap())
            .subject("Votre accès à « Société Générale » est activé")
            .multipart(lettre::message::MultiPart::alternative_plain_html(
                text.clone(),
                html.clone(),
            ))
            .unwrap();
        let data = String::from_utf8(message.formatted()).unwrap();
        let mail = ReceivedMail {
            from: String::new(),
            to: vec![],
            data,
        };
        assert_eq!(
            mail.decoded_header("Subject").as_deref(),
            Some("Votre accès à « Société Générale » est activé")
        );
        assert_eq!(mail.text_body().as_deref(), Some(text.as_str()));
        assert_eq!(mail.html_body().as_deref(), Some(html.as_str()));
        assert_eq!(mail.part("image/png"), None);
    }
}
