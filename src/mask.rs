//! Secret values and their masking. Every sink (terminal, traces, errors, reports) passes
//! text through [`Masker::mask`] before writing it.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

/// What a masked value is replaced with.
pub const MASK: &str = "••••••";

/// Values too short to mask without hiding unrelated text (e.g. `1`).
const MIN_SECRET_LEN: usize = 3;

/// The set of secret values known so far in a run; cheap to clone and share.
#[derive(Debug, Clone, Default)]
pub struct Masker {
    secrets: Arc<RwLock<Secrets>>,
}

/// The secrets of a run, indexed so that masking a text costs about its length rather than
/// one substring search per secret.
///
/// Why: a run keeps every secret it meets (with its encodings, six strings per value), and
/// every sink masks with all of them. With one search per secret, a suite of 200 PingOne
/// device flows spent more than half of its time in `str::contains` (perf,
/// docs/performance.md), and each flow took longer than the one before.
#[derive(Debug, Default)]
struct Secrets {
    /// Every secret, in the order it became known.
    all: Vec<String>,
    /// The same, to tell a known one at once.
    known: HashSet<String>,
    /// Positions in `all` by the first [`MIN_SECRET_LEN`] bytes of the secret.
    by_start: HashMap<[u8; MIN_SECRET_LEN], Vec<usize>>,
    /// Which two first bytes any secret starts with: most positions of a text are ruled out
    /// without a look-up.
    starts: Box<[u64]>,
    /// Some secret holds a character of [`MASK`]: then masking may reveal a secret that was
    /// not in the text, and it takes the long way.
    holds_mask: bool,
    /// Some secret is too short for `by_start` (an encoding can only be longer than its
    /// value, but the index does not rely on it).
    unindexed: bool,
}

/// Up to this many secrets, trying each one is as fast as the index.
const FEW_SECRETS: usize = 32;

impl Secrets {
    fn insert(&mut self, secret: String) {
        if self.known.contains(&secret) {
            return;
        }
        let bytes = secret.as_bytes();
        self.unindexed |= bytes.len() < MIN_SECRET_LEN;
        if let Some(start) = bytes.get(..MIN_SECRET_LEN) {
            let mut key = [0u8; MIN_SECRET_LEN];
            key.copy_from_slice(start);
            self.by_start.entry(key).or_default().push(self.all.len());
            if self.starts.is_empty() {
                self.starts = vec![0u64; 1 << 10].into_boxed_slice();
            }
            let pair = usize::from(bytes[0]) << 8 | usize::from(bytes[1]);
            self.starts[pair / 64] |= 1 << (pair % 64);
        }
        self.holds_mask |= MASK.chars().any(|c| secret.contains(c));
        self.known.insert(secret.clone());
        self.all.push(secret);
    }

    /// The secrets found in `text`, in masking order: longest first, then in the order they
    /// became known (as one sorted list, re-sorted on every addition, used to give).
    fn found_in(&self, text: &str) -> Vec<&str> {
        let mut found: Vec<usize> = if self.all.len() <= FEW_SECRETS || self.unindexed {
            (0..self.all.len())
                .filter(|&i| text.contains(self.all[i].as_str()))
                .collect()
        } else {
            let bytes = text.as_bytes();
            let mut found = Vec::new();
            for (at, window) in bytes.windows(MIN_SECRET_LEN).enumerate() {
                let pair = usize::from(window[0]) << 8 | usize::from(window[1]);
                if self.starts[pair / 64] & (1 << (pair % 64)) == 0 {
                    continue;
                }
                let mut key = [0u8; MIN_SECRET_LEN];
                key.copy_from_slice(window);
                for &i in self.by_start.get(&key).into_iter().flatten() {
                    if bytes[at..].starts_with(self.all[i].as_bytes()) && !found.contains(&i) {
                        found.push(i);
                    }
                }
            }
            found
        };
        found.sort_by_key(|&i| (std::cmp::Reverse(self.all[i].len()), i));
        found.into_iter().map(|i| self.all[i].as_str()).collect()
    }
}

impl Masker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a secret value (and its common encodings).
    pub fn add(&self, value: &str) {
        if value.chars().count() < MIN_SECRET_LEN {
            return;
        }
        let mut secrets = self.secrets.write().unwrap_or_else(|e| e.into_inner());
        // The forms a value takes on the way out: URL-encoded (percent and form style, as in
        // query strings and form bodies) and JSON-escaped (inside a JSON string).
        let percent: String =
            percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        let form: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
        let json = serde_json::to_string(value).unwrap_or_default();
        let json = json
            .strip_prefix('"')
            .and_then(|j| j.strip_suffix('"'))
            .unwrap_or(&json)
            .to_owned();
        // Escaped in XML text and in a double-quoted attribute, as the JUnit report writes
        // them (src/report/junit.rs), so that masking a rendered report still finds them.
        let xml_text = value
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('\r', "&#13;");
        let xml_attribute = xml_text
            .replace('"', "&quot;")
            .replace('\n', "&#10;")
            .replace('\t', "&#9;");
        for v in [
            value.to_owned(),
            percent,
            form,
            json,
            xml_text,
            xml_attribute,
        ] {
            secrets.insert(v);
        }
    }

    /// Replaces every known secret in `text`.
    pub fn mask<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let secrets = self.secrets.read().unwrap_or_else(|e| e.into_inner());
        if secrets.all.is_empty() {
            return Cow::Borrowed(text);
        }
        // Longest first, so that a secret containing another is masked whole.
        let found = if secrets.holds_mask {
            // A replacement may bring out a secret that was not there: try them all.
            let mut all: Vec<&str> = secrets.all.iter().map(String::as_str).collect();
            all.sort_by_key(|s| std::cmp::Reverse(s.len()));
            all
        } else {
            secrets.found_in(text)
        };
        if found.is_empty() {
            return Cow::Borrowed(text);
        }
        let mut out = text.to_owned();
        for s in found {
            if out.contains(s) {
                out = out.replace(s, MASK);
            }
        }
        Cow::Owned(out)
    }

    pub fn is_secret(&self, value: &str) -> bool {
        let secrets = self.secrets.read().unwrap_or_else(|e| e.into_inner());
        secrets.known.contains(value)
    }
}

/// Bytes a [`MaskingWriter`] gathers before it masks and passes them on.
const CHUNK: usize = 64 * 1024;

impl Masker {
    /// A writer that masks every known secret in what passes through it, for texts too big
    /// to hold twice (a report of a long run): what [`MaskingWriter::finish`] has written is
    /// exactly `self.mask(whole text)`, holding only a chunk at a time.
    pub fn writer<W: std::io::Write>(&self, inner: W) -> MaskingWriter<'_, W> {
        self.writer_with_chunk(inner, CHUNK)
    }

    fn writer_with_chunk<W: std::io::Write>(&self, inner: W, chunk: usize) -> MaskingWriter<'_, W> {
        let secrets = self.secrets.read().unwrap_or_else(|e| e.into_inner());
        let longest = secrets.all.iter().map(String::len).max().unwrap_or(0);
        MaskingWriter {
            masker: self,
            inner,
            pending: Vec::new(),
            // A secret's replacement may reveal another one anywhere: then nothing is masked
            // before the whole text is there.
            hold: if secrets.holds_mask {
                usize::MAX
            } else {
                longest.saturating_sub(1)
            },
            forms: secrets.all.clone(),
            chunk: chunk.max(1),
        }
    }
}

/// See [`Masker::writer`]. Text reaches the inner writer in chunks, each masked once every
/// secret that could start in it is wholly in view; `flush` flushes only the inner writer,
/// and [`finish`](MaskingWriter::finish) writes the rest.
pub struct MaskingWriter<'a, W: std::io::Write> {
    masker: &'a Masker,
    inner: W,
    pending: Vec<u8>,
    /// Bytes kept back at the end of `pending`: the longest secret but one, so that any
    /// secret starting before them is whole.
    hold: usize,
    /// The secrets known when the writer was made.
    forms: Vec<String>,
    chunk: usize,
}

impl<W: std::io::Write> MaskingWriter<'_, W> {
    /// Masks and writes what is left, flushes the inner writer and returns it.
    pub fn finish(mut self) -> std::io::Result<W> {
        self.emit(true)?;
        self.inner.flush()?;
        Ok(self.inner)
    }

    /// Masks and writes the part of `pending` that no later byte can change: all of it when
    /// `all`, else up to a cut before the held-back bytes, on a character boundary and
    /// outside any occurrence of a secret.
    fn emit(&mut self, all: bool) -> std::io::Result<()> {
        let mut cut = if all {
            self.pending.len()
        } else {
            self.pending.len().saturating_sub(self.hold)
        };
        if !all {
            loop {
                while cut > 0 && self.pending.get(cut).is_some_and(|b| b & 0xC0 == 0x80) {
                    cut -= 1;
                }
                let across = self
                    .forms
                    .iter()
                    .filter_map(|f| occurrence_across(&self.pending, cut, f.as_bytes()))
                    .min();
                match across {
                    Some(start) => cut = start,
                    None => break,
                }
            }
        }
        if cut == 0 {
            return Ok(());
        }
        let text = std::str::from_utf8(&self.pending[..cut])
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        self.inner.write_all(self.masker.mask(text).as_bytes())?;
        self.pending.drain(..cut);
        Ok(())
    }
}

/// The start of the first occurrence of `secret` in `bytes` that begins before `cut` and
/// ends after it.
fn occurrence_across(bytes: &[u8], cut: usize, secret: &[u8]) -> Option<usize> {
    if secret.len() < 2 || cut == 0 {
        return None;
    }
    let first = cut.saturating_sub(secret.len() - 1);
    (first..cut).find(|&p| bytes.get(p..p + secret.len()) == Some(secret))
}

impl<W: std::io::Write> std::io::Write for MaskingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if self.pending.len() >= self.chunk.saturating_add(self.hold) {
            self.emit(false)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_form_and_json_encodings() {
        let m = Masker::new();
        m.add("se cr\"et/+x");
        assert_eq!(m.mask("a=se+cr%22et%2F%2Bx&b"), format!("a={MASK}&b"));
        assert_eq!(
            m.mask(r#"{"k":"se cr\"et/+x"}"#),
            format!(r#"{{"k":"{MASK}"}}"#)
        );
    }

    #[test]
    fn masks_xml_escaped_forms() {
        let m = Masker::new();
        m.add("a\"b<&>\nc");
        assert_eq!(
            m.mask("<v>a\"b&lt;&amp;&gt;\nc</v>"),
            format!("<v>{MASK}</v>")
        );
        assert_eq!(
            m.mask("<v m=\"a&quot;b&lt;&amp;&gt;&#10;c\"/>"),
            format!("<v m=\"{MASK}\"/>")
        );
    }

    #[test]
    fn masks_with_many_secrets_as_with_few() {
        let m = Masker::new();
        for i in 0..500 {
            m.add(&format!("tok-{i:04}-{}", "x".repeat(i % 7)));
        }
        m.add("abc");
        m.add("abcdef-long");
        let text = "a tok-0008-x b tok-0499-xx abcdef-long abc tok-9999 ab";
        assert_eq!(
            m.mask(text),
            format!("a {MASK} b {MASK} {MASK} {MASK} tok-9999 ab")
        );
        assert_eq!(m.mask("nothing here"), "nothing here");
        assert!(m.is_secret("tok-0003-xxx") && !m.is_secret("tok-0003"));
    }

    #[test]
    fn masks_values_and_url_encodings() {
        let m = Masker::new();
        m.add("p@ss word");
        assert_eq!(m.mask("x=p@ss word"), format!("x={MASK}"));
        assert_eq!(m.mask("x=p%40ss%20word&y"), format!("x={MASK}&y"));
        m.add("1");
        assert_eq!(m.mask("1"), "1");
    }
}

/// Names whose values are credentials whatever the scenario says: JSON keys, form fields and
/// capture names such as `access_token`, `refreshToken`, `client_secret`, `password`.
pub fn is_secret_name(name: &str) -> bool {
    let key: String = name
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect();
    matches!(
        key.as_str(),
        "accesstoken"
            | "refreshtoken"
            | "idtoken"
            | "clientsecret"
            | "password"
            | "newpassword"
            | "currentpassword"
            | "apikey"
            | "sessiontoken"
            | "devicecode"
    )
}

impl Masker {
    /// Registers credentials found in an exchange: `Authorization` header values (and the
    /// password inside Basic), secret-named form fields and JSON keys in the request body,
    /// and secret-named JSON keys in the response body.
    pub fn learn_from_exchange(
        &self,
        request_headers: &[(String, String)],
        request_body: Option<&[u8]>,
        response_body: &[u8],
    ) {
        for (name, value) in request_headers {
            if name.eq_ignore_ascii_case("authorization")
                || name.eq_ignore_ascii_case("proxy-authorization")
            {
                let credential = value.split_once(' ').map(|(_, c)| c).unwrap_or(value);
                self.add(credential.trim());
                if value.len() > 6 && value[..6].eq_ignore_ascii_case("basic ") {
                    use base64::Engine;
                    if let Ok(decoded) =
                        base64::engine::general_purpose::STANDARD.decode(credential.trim())
                    {
                        if let Some((_, password)) =
                            String::from_utf8_lossy(&decoded).split_once(':')
                        {
                            self.add(password);
                        }
                    }
                }
            }
        }
        if let Some(body) = request_body {
            self.learn_from_body(body);
        }
        self.learn_from_body(response_body);
    }

    fn learn_from_body(&self, body: &[u8]) {
        let Ok(text) = std::str::from_utf8(body) else {
            return;
        };
        let trimmed = text.trim_start();
        if trimmed.starts_with('{') || trimmed.starts_with('[') {
            // Cheap pre-check before parsing: any secret-looking key at all? (ASCII case
            // folding without a lower-case copy of the body: bodies can be tens of MB.)
            static KEYS: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
            let keys = KEYS.get_or_init(|| {
                regex::Regex::new(
                    "(?i-u)token|secret|password|apikey|api_key|api-key|device_code|devicecode|device-code",
                )
                .ok()
            });
            if keys.as_ref().is_some_and(|k| !k.is_match(text)) {
                return;
            }
            // Walked, not parsed into a tree: a parsed document takes about ten times its
            // text in memory (docs/performance.md). As when it was parsed, the secrets count
            // only if the whole body is JSON.
            let mut found = Vec::new();
            let mut de = serde_json::Deserializer::from_str(text);
            let walk = SecretWalk {
                found: &mut found,
                depth: 0,
                secret_key: false,
            };
            if serde::de::DeserializeSeed::deserialize(walk, &mut de).is_ok() && de.end().is_ok() {
                for secret in found {
                    self.add(&secret);
                }
            }
        } else if text.contains('=') && !text.contains('\n') {
            for pair in text.split('&') {
                if let Some((k, v)) = pair.split_once('=') {
                    let k = percent_encoding::percent_decode_str(&k.replace('+', " "))
                        .decode_utf8_lossy()
                        .into_owned();
                    if is_secret_name(&k) {
                        let v = percent_encoding::percent_decode_str(&v.replace('+', " "))
                            .decode_utf8_lossy()
                            .into_owned();
                        self.add(&v);
                    }
                }
            }
        }
    }
}

/// How deep into a JSON body secret-named keys are looked for.
const MAX_SECRET_DEPTH: usize = 64;

/// Walks a JSON document as parsing it into a `serde_json::Value` would (the same checks, so
/// it fails on the same bodies) and collects the string values of secret-named keys of maps
/// up to [`MAX_SECRET_DEPTH`] deep (in arrays and in the values of other keys too), without
/// building the document. Of duplicate keys, every value is collected.
struct SecretWalk<'a> {
    found: &'a mut Vec<String>,
    /// The depth of this value (the document is at 0).
    depth: usize,
    /// This value is that of a secret-named key.
    secret_key: bool,
}

impl SecretWalk<'_> {
    fn below(&mut self, secret_key: bool) -> SecretWalk<'_> {
        SecretWalk {
            found: &mut *self.found,
            depth: self.depth + 1,
            secret_key,
        }
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for SecretWalk<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for SecretWalk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E>(self, value: &str) -> Result<(), E> {
        if self.secret_key {
            self.found.push(value.to_owned());
        }
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(self.below(false))?.is_some() {}
        Ok(())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let looking = self.depth <= MAX_SECRET_DEPTH;
        while let Some(secret) = map.next_key_seed(SecretKey)? {
            map.next_value_seed(self.below(looking && secret))?;
        }
        Ok(())
    }
}

/// A map key: whether it names a secret (see [`is_secret_name`]).
struct SecretKey;

impl<'de> serde::de::DeserializeSeed<'de> for SecretKey {
    type Value = bool;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl serde::de::Visitor<'_> for SecretKey {
    type Value = bool;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E>(self, key: &str) -> Result<bool, E> {
        Ok(is_secret_name(key))
    }
}

#[cfg(test)]
mod learn_tests {
    use super::*;

    #[test]
    fn learns_from_json_bodies_only_when_the_whole_body_is_json() {
        let m = Masker::new();
        m.learn_from_exchange(
            &[],
            None,
            br#"{"a": [{"client_secret": "s3cr3t-1"}], "b": 1"#,
        );
        m.learn_from_exchange(&[], None, br#"{"password": "pw-222"} trailing"#);
        assert_eq!(m.mask("s3cr3t-1 pw-222"), "s3cr3t-1 pw-222");
        m.learn_from_exchange(
            &[],
            None,
            br#"{"a": [{"Client-Secret": "s3cr3t-1"}], "n": 1.5, "password": 7}"#,
        );
        assert_eq!(m.mask("s3cr3t-1 pw-222"), format!("{MASK} pw-222"));
    }

    #[test]
    fn learns_credentials_from_an_exchange() {
        let m = Masker::new();
        m.learn_from_exchange(
            &[("Authorization".into(), "Basic dXNlcjpzM2NyZXQ=".into())],
            Some(b"grant_type=password&password=hunter22&username=bob"),
            br#"{"access_token":"tok-123456","token_type":"Bearer","nested":{"refreshToken":"ref-999"}}"#,
        );
        let text = "s3cret hunter22 tok-123456 ref-999 bob Bearer dXNlcjpzM2NyZXQ=";
        assert_eq!(
            m.mask(text),
            format!("{MASK} {MASK} {MASK} {MASK} bob Bearer {MASK}")
        );
    }

    /// Whatever the chunk size, the writer gives what masking the whole text gives: secrets
    /// cut by every chunk boundary, next to each other, overlapping, inside multi-byte text.
    #[test]
    fn the_masking_writer_equals_masking_the_whole_text() {
        use std::io::Write as _;
        let m = Masker::new();
        m.add("s3cr3t-token");
        m.add("abcd");
        m.add("cdef");
        m.add("tük");
        let pieces = [
            "x",
            "s3cr3t-token",
            "é",
            "abcdef",
            "\"",
            "s3cr3t",
            "-token",
            "a",
            "tük",
            "✓",
            "ab",
            "cd",
            "ef",
            "  ",
            "s3cr3t%2Dtoken",
            "abcdabcd",
        ];
        let mut seed = 7u64;
        for _ in 0..300 {
            let mut text = String::new();
            for _ in 0..40 {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                text.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
            }
            let expected = m.mask(&text).into_owned();
            for chunk in [1, 2, 3, 5, 8, 13, 64] {
                let mut w = m.writer_with_chunk(Vec::new(), chunk);
                // Written in uneven pieces, some splitting characters.
                for part in text.as_bytes().chunks(1 + chunk % 7) {
                    w.write_all(part).unwrap();
                }
                let out = String::from_utf8(w.finish().unwrap()).unwrap();
                assert_eq!(out, expected, "chunk {chunk}, text {text:?}");
                assert!(
                    !out.contains("s3cr3t-token") && !out.contains("abcd"),
                    "{out}"
                );
            }
        }
    }

    #[test]
    fn the_masking_writer_without_secrets_passes_text_through() {
        use std::io::Write as _;
        let m = Masker::new();
        let mut w = m.writer(Vec::new());
        w.write_all("plain ✓ text".as_bytes()).unwrap();
        assert_eq!(w.finish().unwrap(), "plain ✓ text".as_bytes());
    }

    #[test]
    fn the_masking_writer_holds_everything_when_a_secret_holds_the_mask() {
        use std::io::Write as _;
        let m = Masker::new();
        m.add("x•y-secret");
        m.add("plain-secret");
        let text = "a x•y-secret b plain-secret c".repeat(50);
        let mut w = m.writer_with_chunk(Vec::new(), 4);
        for part in text.as_bytes().chunks(3) {
            w.write_all(part).unwrap();
        }
        let out = String::from_utf8(w.finish().unwrap()).unwrap();
        assert_eq!(out, m.mask(&text));
        assert!(!out.contains("plain-secret") && !out.contains("x•y-secret"));
    }
}
