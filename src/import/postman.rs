//! `stepwise import postman`: a Postman collection (v2.0 or v2.1) becomes one scenario, and a
//! Postman environment an env file.
//!
//! - **One collection, one scenario.** Postman runs a collection top to bottom with one set of
//!   variables, and a workflow's folders depend on each other (a later folder uses what an
//!   earlier one captured); stepwise scenario files each have their own variables. So folders
//!   become groups of steps, introduced by a `# folder: ...` comment; requests keep their order
//!   and their names.
//! - Requests: method, URL (`url.query` → `query`, path variables filled in), headers (disabled
//!   ones skipped), auth (bearer, basic, API key, an OAuth 2 token; inherited from the folder or
//!   the collection unless `noauth`), bodies (raw JSON → `json`, raw text → `body`, urlencoded →
//!   `form`, form-data → `multipart`, binary file → `body.file`, GraphQL → `json`).
//! - Redirects: Postman follows them, stepwise does not by default; the scenario sets
//!   `defaults.follow_redirects: true` and a request with `followRedirects: false` gets
//!   `follow_redirects: false`.
//! - Scripts: see [`script`]. Whatever is not translated stays beside its step as a
//!   `# postman (not translated): ...` comment and is listed in [`Imported::warnings`].
//! - Environment: values go to `env.yaml`, except values that use other variables (`{{tld}}`),
//!   which become templates in the scenario's `vars`, and empty values the scripts set. Secret
//!   values are listed in the scenario's `secrets`.

mod collection;
mod js;
mod placeholders;
mod script;

use crate::import::yaml_writer::{self, Comment, Entry, Item as YItem, Node};
use collection::{Auth, Body, Collection, Environment, Headers, Item, Request, RequestOrUrl, Url};
use indexmap::IndexMap;
use placeholders::{escape_literal, Converter};
use script::{Action, ActionKind, CaptureSource, CaptureSpec, Op, Phase, StatusPattern, Val};
use std::collections::{BTreeSet, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Why a collection or an environment could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be read.
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file is not JSON.
    #[error("`{path}` is not JSON ({message}); expected a Postman collection exported as Collection v2.1 (or v2.0)")]
    NotJson { path: PathBuf, message: String },
    /// The file is JSON, but not what was expected.
    #[error("`{path}` is not a Postman {expected}: {reason}")]
    Unexpected {
        path: PathBuf,
        expected: &'static str,
        reason: String,
    },
    /// A collection format other than v2.0 and v2.1.
    #[error("`{path}` is a Postman collection in format {version}; stepwise imports v2.0 and v2.1 (in Postman: Export → Collection v2.1)")]
    UnsupportedVersion { path: PathBuf, version: String },
    /// A file to write exists already.
    #[error("`{path}` exists already; remove it, choose another folder with `-o`, or pass `--force` to overwrite it")]
    Exists { path: PathBuf },
    /// A file could not be written.
    #[error("cannot write `{path}`: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl ImportError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            ImportError::Read { .. } | ImportError::Write { .. } => crate::exit_code::NETWORK_OR_IO,
            _ => crate::exit_code::INVALID,
        }
    }
}

/// Settings of an import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Written as `# yaml-language-server: $schema=<this>` on the first line of the scenario.
    pub schema: Option<String>,
}

/// A generated file: its name (in the output folder) and its text.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedFile {
    pub file_name: String,
    pub text: String,
}

/// Something that was not translated, and where its comment is in the generated file.
#[derive(Debug, Clone, PartialEq)]
pub struct Warning {
    /// The generated file.
    pub file: String,
    /// The (1-based) line of the comment in that file.
    pub line: usize,
    /// The step (request name), folder or `collection` it belongs to.
    pub place: String,
    /// The script line, or what was not translated.
    pub text: String,
    /// A line of a Postman script (rather than a setting).
    pub script_line: bool,
}

/// The result of an import.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The collection's name.
    pub name: String,
    pub scenario: GeneratedFile,
    /// The env file, when an environment was given.
    pub env: Option<GeneratedFile>,
    /// How many requests became steps.
    pub steps: usize,
    pub warnings: Vec<Warning>,
    /// Things translated with a difference worth knowing.
    pub notes: Vec<String>,
    /// Variables in the env file.
    pub env_names: Vec<String>,
    /// Variables the scenario uses that nothing sets (to give with `--var` or `--env`).
    pub undefined: Vec<String>,
}

impl Imported {
    /// The names `stepwise validate` should take as given from outside.
    pub fn outside_names(&self) -> Vec<String> {
        self.env_names
            .iter()
            .chain(&self.undefined)
            .cloned()
            .collect()
    }

    /// The warning summary (for stderr): every line not translated, then the notes.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let (script, other): (Vec<&Warning>, Vec<&Warning>) =
            self.warnings.iter().partition(|w| w.script_line);
        let list = |out: &mut String, items: &[&Warning], one: &str, many: &str| {
            if items.is_empty() {
                return;
            }
            let what = if items.len() == 1 { one } else { many };
            let _ = writeln!(out, "warning: {} {what} not translated:", items.len());
            for w in items {
                let _ = writeln!(out, "  {}:{}: {}: {}", w.file, w.line, w.place, w.text);
            }
        };
        list(&mut out, &script, "script line was", "script lines were");
        list(&mut out, &other, "other thing was", "other things were");
        if !self.undefined.is_empty() {
            let _ = writeln!(
                out,
                "warning: the scenario uses variables that neither the collection nor {} sets: {} (give them with --var NAME=VALUE or --env FILE)",
                if self.env.is_some() { "the environment" } else { "an environment" },
                self.undefined.join(", ")
            );
        }
        for n in &self.notes {
            let _ = writeln!(out, "note: {n}");
        }
        out
    }
}

/// Reads a collection (and an environment) and translates them.
pub fn import(
    collection: &Path,
    environment: Option<&Path>,
    options: &ImportOptions,
) -> Result<Imported, ImportError> {
    let read = |path: &Path| {
        std::fs::read_to_string(path).map_err(|source| ImportError::Read {
            path: path.to_owned(),
            source,
        })
    };
    let text = read(collection)?;
    let env = match environment {
        Some(p) => Some((read(p)?, p)),
        None => None,
    };
    import_str(
        &text,
        collection,
        env.as_ref().map(|(t, p)| (t.as_str(), *p)),
        options,
    )
}

/// Translates a collection's JSON text; `path` names it in errors.
pub fn import_str(
    text: &str,
    path: &Path,
    environment: Option<(&str, &Path)>,
    options: &ImportOptions,
) -> Result<Imported, ImportError> {
    let collection = parse_collection(text, path)?;
    let environment = match environment {
        Some((text, path)) => Some(parse_environment(text, path)?),
        None => None,
    };
    Ok(Importer::new(&collection, environment.as_ref()).run(options))
}

/// Writes the generated files into `dir` (created if needed); refuses to overwrite a file
/// unless `force`. Returns the paths written.
pub fn write(imported: &Imported, dir: &Path, force: bool) -> Result<Vec<PathBuf>, ImportError> {
    let files: Vec<&GeneratedFile> = std::iter::once(&imported.scenario)
        .chain(imported.env.as_ref())
        .collect();
    // `-o .` (the default) writes `x.yaml`, not `./x.yaml`.
    let paths: Vec<PathBuf> = files
        .iter()
        .map(|f| {
            if dir == Path::new(".") {
                PathBuf::from(&f.file_name)
            } else {
                dir.join(&f.file_name)
            }
        })
        .collect();
    if !force {
        if let Some(p) = paths.iter().find(|p| p.exists()) {
            return Err(ImportError::Exists { path: p.clone() });
        }
    }
    std::fs::create_dir_all(dir).map_err(|source| ImportError::Write {
        path: dir.to_owned(),
        source,
    })?;
    for (file, path) in files.iter().zip(&paths) {
        std::fs::write(path, &file.text).map_err(|source| ImportError::Write {
            path: path.clone(),
            source,
        })?;
    }
    Ok(paths)
}

fn parse_collection(text: &str, path: &Path) -> Result<Collection, ImportError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| ImportError::NotJson {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
    let unexpected = |reason: &str| ImportError::Unexpected {
        path: path.to_owned(),
        expected: "collection (v2.0 or v2.1)",
        reason: reason.to_owned(),
    };
    let obj = value
        .as_object()
        .ok_or_else(|| unexpected("expected a JSON object with `info` and `item`"))?;
    if obj.contains_key("values") && !obj.contains_key("item") {
        return Err(unexpected(
            "it looks like an environment (it has `values`); give it with `--environment`",
        ));
    }
    if obj.contains_key("requests") || obj.contains_key("order") {
        return Err(ImportError::UnsupportedVersion {
            path: path.to_owned(),
            version: "v1".into(),
        });
    }
    if !obj.contains_key("info") || !obj.contains_key("item") {
        return Err(unexpected("expected a JSON object with `info` and `item`"));
    }
    if let Some(schema) = obj
        .get("info")
        .and_then(|i| i.get("schema"))
        .and_then(|s| s.as_str())
    {
        let version = regex::Regex::new(r"v\d+(\.\d+)*")
            .ok()
            .and_then(|re| re.find(schema).map(|m| m.as_str().to_owned()))
            .unwrap_or_else(|| schema.to_owned());
        if !(version.starts_with("v2.0") || version.starts_with("v2.1")) {
            return Err(ImportError::UnsupportedVersion {
                path: path.to_owned(),
                version,
            });
        }
    }
    serde_json::from_str(text).map_err(|e| unexpected(&e.to_string()))
}

fn parse_environment(text: &str, path: &Path) -> Result<Environment, ImportError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| ImportError::Unexpected {
            path: path.to_owned(),
            expected: "environment",
            reason: format!("not JSON ({e})"),
        })?;
    if value.get("item").is_some() {
        return Err(ImportError::Unexpected {
            path: path.to_owned(),
            expected: "environment",
            reason: "it looks like a collection (it has `item`)".into(),
        });
    }
    serde_json::from_str(text).map_err(|e| ImportError::Unexpected {
        path: path.to_owned(),
        expected: "environment",
        reason: format!("{e} (expected an object with `name` and `values`)"),
    })
}

/// A lower-case, `-`-separated file name for a collection name.
fn file_stem(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-');
    if out.is_empty() {
        "collection".into()
    } else {
        out.chars()
            .take(80)
            .collect::<String>()
            .trim_end_matches('-')
            .to_owned()
    }
}

/// The name of the env file written beside the scenario.
pub const ENV_FILE: &str = "env.yaml";

/// A variable of the scenario's `vars`, with comments above it.
struct VarDef {
    comments: Vec<Comment>,
    value: Node,
    /// The template or JSON it came from, to tell a conflicting second definition.
    origin: String,
}

/// An environment value.
struct EnvVar {
    name: String,
    value: serde_json::Value,
    secret: bool,
}

/// A warning whose line is known once the file is written.
struct Pending {
    tag: usize,
    place: String,
    text: String,
    script_line: bool,
}

/// What a folder or the collection hands down to its requests.
#[derive(Clone)]
struct Inherited<'c> {
    /// The nearest auth that is not `inherit` (it may be `noauth`).
    auth: Option<&'c Auth>,
    follow_redirects: Option<bool>,
    max_redirects: Option<u32>,
    /// Test-script actions of the collection and folders, run before the request's own.
    tests: Vec<Action>,
    folders: Vec<String>,
}

struct Importer<'c> {
    collection: &'c Collection,
    environment: Option<&'c Environment>,
    file_name: String,
    conv: Converter,
    vars: IndexMap<String, VarDef>,
    secrets: Vec<String>,
    env_vars: Vec<EnvVar>,
    /// Variables the scripts set (captures and pre-request `vars`).
    set_by_scripts: BTreeSet<String>,
    /// Variables captured by the steps so far.
    captured: BTreeSet<String>,
    pending: Vec<Pending>,
    notes: Vec<String>,
    next_tag: usize,
    steps: Vec<YItem>,
    step_count: usize,
    /// `defaults.follow_redirects`: the collection's setting, else Postman's default (yes).
    defaults_follow: bool,
}

impl<'c> Importer<'c> {
    fn new(collection: &'c Collection, environment: Option<&'c Environment>) -> Self {
        Importer {
            collection,
            environment,
            file_name: format!("{}.yaml", file_stem(&collection.info.name)),
            conv: Converter::default(),
            vars: IndexMap::new(),
            secrets: Vec::new(),
            env_vars: Vec::new(),
            set_by_scripts: BTreeSet::new(),
            captured: BTreeSet::new(),
            pending: Vec::new(),
            notes: Vec::new(),
            next_tag: 0,
            steps: Vec::new(),
            step_count: 0,
            defaults_follow: true,
        }
    }

    /// A comment that is listed as a warning.
    fn warn(&mut self, place: &str, text: &str, script_line: bool) -> Comment {
        let tag = self.next_tag;
        self.next_tag += 1;
        self.pending.push(Pending {
            tag,
            place: place.to_owned(),
            text: text.to_owned(),
            script_line,
        });
        Comment::tagged(format!("postman (not translated): {text}"), tag)
    }

    fn run(mut self, options: &ImportOptions) -> Imported {
        let c = self.collection;
        self.environment_values();
        self.collection_variables();
        let mut inherited = Inherited {
            auth: c.auth.as_ref().filter(|a| a.kind != "inherit"),
            follow_redirects: None,
            max_redirects: None,
            tests: Vec::new(),
            folders: Vec::new(),
        };
        let mut top_comments = Vec::new();
        self.behaviour(
            c.protocol_profile_behavior.as_ref(),
            &mut inherited,
            "collection",
            &mut top_comments,
        );
        self.defaults_follow = inherited.follow_redirects.unwrap_or(true);
        self.level_scripts(&c.event, "collection", &mut inherited, &mut top_comments);
        self.steps
            .extend(top_comments.into_iter().map(YItem::Comment));
        for item in &c.item {
            self.item(item, &inherited);
        }
        self.finish(options)
    }

    /// Environment values: kept for env.yaml, except those with placeholders (they become
    /// templates in `vars`).
    fn environment_values(&mut self) {
        let Some(env) = self.environment else {
            return;
        };
        for v in &env.values {
            if !v.enabled || v.key.is_empty() {
                continue;
            }
            let secret = v.kind.as_deref() == Some("secret");
            if secret && !self.secrets.contains(&v.key) {
                self.secrets.push(v.key.clone());
            }
            let value = v
                .value
                .clone()
                .unwrap_or(serde_json::Value::String(String::new()));
            self.env_vars.push(EnvVar {
                name: v.key.clone(),
                value,
                secret,
            });
        }
        let env_name = env.name.clone();
        let templated: Vec<(String, String)> = self
            .env_vars
            .iter()
            .filter_map(|v| match &v.value {
                serde_json::Value::String(s) if s.contains("{{") => {
                    Some((v.name.clone(), s.clone()))
                }
                _ => None,
            })
            .collect();
        for (i, (name, text)) in templated.into_iter().enumerate() {
            let template = self.conv.text(&text);
            let comments = if i == 0 {
                vec![Comment::new(format!(
                    "from the environment \"{env_name}\" (values that use other variables are templates here)"
                ))]
            } else {
                Vec::new()
            };
            self.vars.insert(
                name.clone(),
                VarDef {
                    comments,
                    value: Node::Str(template.clone()),
                    origin: template,
                },
            );
            self.env_vars.retain(|v| v.name != name);
        }
    }

    fn collection_variables(&mut self) {
        let mut first = true;
        for v in &self.collection.variable {
            let Some(name) = v.name() else { continue };
            // Disabled, or also in the environment (whose value wins in Postman too).
            if v.disabled || self.vars.contains_key(name) {
                continue;
            }
            let value = v
                .value
                .clone()
                .unwrap_or(serde_json::Value::String(String::new()));
            let node = self.value_node(&value);
            if v.kind.as_deref() == Some("secret") && !self.secrets.iter().any(|s| s == name) {
                self.secrets.push(name.to_owned());
            }
            let comments = if first {
                vec![Comment::new("collection variables")]
            } else {
                Vec::new()
            };
            first = false;
            self.vars.insert(
                name.to_owned(),
                VarDef {
                    comments,
                    value: node,
                    origin: value.to_string(),
                },
            );
        }
    }

    /// A Postman value (strings are Postman text) as a YAML node.
    fn value_node(&mut self, value: &serde_json::Value) -> Node {
        let conv = &mut self.conv;
        Node::from_json(value, &mut |s| conv.text(s))
    }

    /// A JSON body (strings are Postman text, and stay strings) as a YAML node.
    fn json_node(&mut self, value: &serde_json::Value) -> Node {
        let conv = &mut self.conv;
        Node::from_json(value, &mut |s| conv.json_string(s))
    }

    /// `protocolProfileBehavior` of the collection, a folder or a request.
    fn behaviour(
        &mut self,
        ppb: Option<&serde_json::Map<String, serde_json::Value>>,
        inherited: &mut Inherited<'c>,
        place: &str,
        comments: &mut Vec<Comment>,
    ) {
        let Some(ppb) = ppb else { return };
        for (key, value) in ppb {
            match (key.as_str(), value) {
                ("followRedirects", serde_json::Value::Bool(b)) => {
                    inherited.follow_redirects = Some(*b)
                }
                ("maxRedirects", v) if v.as_u64().is_some() => {
                    inherited.max_redirects = v.as_u64().and_then(|n| u32::try_from(n).ok())
                }
                // Sending a body with GET is what stepwise does anyway.
                ("disableBodyPruning", _) => {}
                // Postman's defaults: nothing to translate.
                ("strictSSL", serde_json::Value::Bool(true))
                | ("followOriginalHttpMethod", serde_json::Value::Bool(false))
                | ("disableCookies", serde_json::Value::Bool(false)) => {}
                ("strictSSL", serde_json::Value::Bool(false)) => {
                    let c = self.warn(
                        place,
                        "protocolProfileBehavior.strictSSL: false (run with `--insecure` instead)",
                        false,
                    );
                    comments.push(c);
                }
                (key, value) => {
                    let c = self.warn(
                        place,
                        &format!("protocolProfileBehavior.{key}: {value}"),
                        false,
                    );
                    comments.push(c);
                }
            }
        }
    }

    /// Scripts of the collection or a folder: pre-request `vars` once, test actions handed
    /// down to every request below.
    fn level_scripts(
        &mut self,
        events: &[collection::Event],
        place: &str,
        inherited: &mut Inherited<'c>,
        comments: &mut Vec<Comment>,
    ) {
        for (phase, source) in scripts(events) {
            let t = script::translate(&source, phase, &mut self.conv);
            for line in &t.untranslated {
                let c = self.warn(place, line, true);
                comments.push(c);
            }
            match phase {
                Phase::PreRequest => {
                    for a in t.actions {
                        if let Some(c) = self.var_action(&a, place) {
                            comments.push(c);
                        }
                    }
                }
                Phase::Test => inherited.tests.extend(t.actions),
            }
        }
    }

    fn item(&mut self, item: &'c Item, inherited: &Inherited<'c>) {
        let name = item.name.clone().unwrap_or_default();
        if let Some(children) = &item.item {
            let mut inner = inherited.clone();
            inner.folders.push(if name.is_empty() {
                "(folder)".into()
            } else {
                name.clone()
            });
            if let Some(a) = &item.auth {
                if a.kind != "inherit" {
                    inner.auth = Some(a);
                }
            }
            let place = format!("folder `{}`", inner.folders.join(" / "));
            let mut comments = Vec::new();
            self.behaviour(
                item.protocol_profile_behavior.as_ref(),
                &mut inner,
                &place,
                &mut comments,
            );
            self.level_scripts(&item.event, &place, &mut inner, &mut comments);
            if !self.steps.is_empty() {
                self.steps.push(YItem::Blank);
            }
            self.steps.push(YItem::Comment(Comment::new(format!(
                "folder: {}",
                inner.folders.join(" / ")
            ))));
            self.steps.extend(comments.into_iter().map(YItem::Comment));
            for child in children {
                self.item(child, &inner);
            }
            return;
        }
        let request = match &item.request {
            Some(RequestOrUrl::Request(r)) => Some(&**r),
            Some(RequestOrUrl::Url(_)) | None => None,
        };
        let url_only = match &item.request {
            Some(RequestOrUrl::Url(u)) => Some(u.as_str()),
            _ => None,
        };
        let step = self.step(item, request, url_only, inherited);
        if !matches!(self.steps.last(), None | Some(YItem::Comment(_))) {
            self.steps.push(YItem::Blank);
        }
        self.steps.push(YItem::Value(step));
        self.step_count += 1;
    }

    /// A request as a step.
    fn step(
        &mut self,
        item: &'c Item,
        request: Option<&'c Request>,
        url_only: Option<&str>,
        inherited: &Inherited<'c>,
    ) -> Node {
        let method = request
            .and_then(|r| r.method.clone())
            .filter(|m| !m.trim().is_empty())
            .unwrap_or_else(|| "GET".into())
            .trim()
            .to_uppercase();
        let (url, query) = match (request.and_then(|r| r.url.as_ref()), url_only) {
            (Some(u), _) => self.url(u),
            (None, Some(text)) => self.url(&Url::Text(text.to_owned())),
            (None, None) => (String::new(), Vec::new()),
        };
        let name = match item.name.as_deref().map(str::trim) {
            Some(n) if !n.is_empty() => n.to_owned(),
            _ => format!("{method} {url}"),
        };
        let mut before: Vec<Comment> = Vec::new();
        if url.is_empty() {
            before.push(self.warn(&name, "a request without a URL", false));
        }

        // Pre-request script: variables.
        for (phase, source) in scripts(&item.event) {
            if phase != Phase::PreRequest {
                continue;
            }
            let t = script::translate(&source, phase, &mut self.conv);
            for a in &t.actions {
                if let Some(c) = self.var_action(a, &name) {
                    before.push(c);
                }
            }
            for line in &t.untranslated {
                let c = self.warn(&name, line, true);
                before.push(c);
            }
        }

        // The request.
        let mut own = inherited.clone();
        self.behaviour(
            item.protocol_profile_behavior.as_ref(),
            &mut own,
            &name,
            &mut before,
        );
        let mut req: Vec<(String, Node)> = vec![("method".into(), Node::str(&method))];
        req.push(("url".into(), Node::Str(url)));
        let mut query = query;
        let mut headers: Vec<(String, String)> = match request.and_then(|r| r.header.as_ref()) {
            Some(h) => self.headers(h),
            None => Vec::new(),
        };
        let auth = match request.and_then(|r| r.auth.as_ref()) {
            Some(a) if a.kind != "inherit" => Some(a),
            _ => own.auth,
        };
        let auth_node = match auth {
            Some(a) => self.auth(a, &name, &mut headers, &mut query, &mut before),
            None => None,
        };
        let body = match request.and_then(|r| r.body.as_ref()) {
            Some(b) if !b.disabled => self.body(b, &name, &mut headers, &mut before),
            _ => None,
        };
        if !query.is_empty() {
            req.push(("query".into(), query_node(query)));
        }
        if !headers.is_empty() {
            req.push((
                "headers".into(),
                Node::map(headers.into_iter().map(|(k, v)| (k, Node::Str(v)))),
            ));
        }
        if let Some(a) = auth_node {
            req.push(("auth".into(), a));
        }
        if let Some((key, node)) = body {
            req.push((key.into(), node));
        }
        if let Some(follow) = own.follow_redirects.filter(|f| *f != self.defaults_follow) {
            req.push(("follow_redirects".into(), Node::Bool(follow)));
        }
        if let Some(max) = own.max_redirects {
            req.push(("max_redirects".into(), Node::Int(i64::from(max))));
        }

        // Test scripts: captures and assertions.
        let mut actions = own.tests.clone();
        let mut after: Vec<Comment> = Vec::new();
        for (phase, source) in scripts(&item.event) {
            if phase != Phase::Test {
                continue;
            }
            let t = script::translate(&source, phase, &mut self.conv);
            actions.extend(t.actions);
            for line in &t.untranslated {
                let c = self.warn(&name, line, true);
                after.push(c);
            }
        }
        let checks = self.checks(&actions, &name, &mut after);

        let mut entries = vec![Entry::Pair("name".into(), Node::Str(name))];
        entries.extend(before.into_iter().map(Entry::Comment));
        entries.push(Entry::Pair("request".into(), Node::map(req)));
        entries.extend(checks);
        entries.extend(after.into_iter().map(Entry::Comment));
        Node::Map(entries)
    }

    /// A pre-request `set` as a scenario variable; a comment when it cannot be one.
    fn var_action(&mut self, action: &Action, place: &str) -> Option<Comment> {
        let ActionKind::Var(name, val) = &action.kind else {
            return Some(self.warn(place, &action.source, true));
        };
        let (node, origin, refs) = match val {
            Val::Json(v) => (
                Node::from_json(v, &mut |s| escape_literal(s)),
                v.to_string(),
                BTreeSet::new(),
            ),
            Val::Template(t, refs) => (Node::Str(t.clone()), t.clone(), refs.clone()),
        };
        // `vars` are evaluated before the first step: they cannot read a capture.
        if let Some(captured) = refs.iter().find(|r| self.captured.contains(*r)) {
            let text = format!(
                "{} (`{captured}` is captured by a step, and `vars` are set before the first step)",
                action.source
            );
            return Some(self.warn(place, &text, true));
        }
        if let Some(existing) = self.vars.get(name) {
            if existing.origin != origin && self.set_by_scripts.contains(name) {
                let text = format!(
                    "{} (`{name}` is set to another value before; a scenario variable has one value)",
                    action.source
                );
                return Some(self.warn(place, &text, true));
            }
        }
        if self.env_vars.iter().any(|e| &e.name == name) {
            self.env_vars.retain(|e| &e.name != name);
            self.notes.push(format!(
                "`{name}` is set by the pre-request script of {place}, so its environment value is left out of {ENV_FILE}"
            ));
        }
        self.set_by_scripts.insert(name.clone());
        let comment = Comment::new(format!(
            "set by the pre-request script of {}",
            describe_place(place)
        ));
        match self.vars.get_mut(name) {
            Some(def) => {
                def.value = node;
                def.origin = origin;
                def.comments.push(comment);
            }
            None => {
                self.vars.insert(
                    name.clone(),
                    VarDef {
                        comments: vec![comment],
                        value: node,
                        origin,
                    },
                );
            }
        }
        None
    }

    /// A URL as a template, and its query parameters.
    fn url(&mut self, url: &Url) -> (String, Vec<(String, Option<String>)>) {
        let (mut base, query, vars) = match url {
            Url::Text(t) => (t.clone(), None, &[][..]),
            Url::Object(o) => {
                let raw = match &o.raw {
                    Some(r) if !r.trim().is_empty() => r.clone(),
                    _ => build_raw(o),
                };
                (raw, o.query.as_ref(), &o.variable[..])
            }
        };
        base = base.trim().to_owned();
        let mut params = Vec::new();
        if let Some(query) = query {
            if let Some(q) = base.find('?') {
                base.truncate(q);
            }
            for p in query.iter().filter(|p| !p.disabled) {
                if p.key().is_empty() && p.value.is_none() {
                    continue;
                }
                params.push((
                    self.conv.text(&form_decode(p.key())),
                    p.value_text().map(|v| self.conv.text(&form_decode(&v))),
                ));
            }
        }
        if let Some(h) = base.find('#') {
            base.truncate(h);
        }
        // Path variables: `/:id` takes the variable's value.
        for v in vars {
            let (Some(key), Some(value)) =
                (v.name(), v.value.as_ref().and_then(collection::value_text))
            else {
                continue;
            };
            base = replace_path_variable(&base, key, &value);
        }
        if !base.contains("://") && !base.starts_with("{{") && !base.is_empty() {
            self.notes.push(format!(
                "`{base}` has no scheme; Postman sends it with http://, and so does the scenario"
            ));
            base = format!("http://{base}");
        }
        (self.conv.text(&base), params)
    }

    fn headers(&mut self, headers: &Headers) -> Vec<(String, String)> {
        let pairs: Vec<(String, String)> = match headers {
            Headers::List(list) => list
                .iter()
                .filter(|p| !p.disabled && !p.key().trim().is_empty())
                .map(|p| {
                    (
                        p.key().trim().to_owned(),
                        p.value_text().unwrap_or_default(),
                    )
                })
                .collect(),
            Headers::Text(text) => text
                .lines()
                .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with("//"))
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                .collect(),
        };
        let mut out: Vec<(String, String)> = Vec::new();
        for (k, v) in pairs {
            let v = self.conv.text(&v);
            if let Some(existing) = out.iter_mut().find(|(ek, _)| ek.eq_ignore_ascii_case(&k)) {
                self.notes.push(format!(
                    "header `{k}` is given twice in one request; the last value is kept"
                ));
                existing.1 = v;
            } else {
                out.push((k, v));
            }
        }
        out
    }

    /// `auth:` for a request (or headers / query parameters for an API key).
    fn auth(
        &mut self,
        auth: &Auth,
        place: &str,
        headers: &mut Vec<(String, String)>,
        query: &mut Vec<(String, Option<String>)>,
        comments: &mut Vec<Comment>,
    ) -> Option<Node> {
        let param = |p: &Option<collection::AuthParams>, key: &str| {
            p.as_ref().and_then(|p| p.get(key)).unwrap_or_default()
        };
        match auth.kind.as_str() {
            "noauth" | "" => None,
            "bearer" => {
                let token = param(&auth.bearer, "token");
                Some(Node::map([("bearer", Node::Str(self.conv.text(&token)))]))
            }
            "basic" => {
                let user = param(&auth.basic, "username");
                let pass = param(&auth.basic, "password");
                Some(Node::map([(
                    "basic",
                    Node::map([
                        ("username", Node::Str(self.conv.text(&user))),
                        ("password", Node::Str(self.conv.text(&pass))),
                    ]),
                )]))
            }
            "apikey" => {
                let key = param(&auth.apikey, "key");
                let value = self.conv.text(&param(&auth.apikey, "value"));
                let key = if key.is_empty() {
                    "X-API-Key".to_owned()
                } else {
                    key
                };
                if param(&auth.apikey, "in") == "query" {
                    query.push((self.conv.text(&key), Some(value)));
                } else if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(&key)) {
                    headers.push((key, value));
                }
                None
            }
            "oauth2" => {
                let token = param(&auth.oauth2, "accessToken");
                if token.is_empty() || param(&auth.oauth2, "addTokenTo") == "queryParams" {
                    comments.push(self.warn(
                        place,
                        "auth type oauth2 (get the token in a step of its own, capture it, and use `auth: {bearer: ...}`)",
                        false,
                    ));
                    return None;
                }
                let prefix = param(&auth.oauth2, "headerPrefix");
                let token = self.conv.text(&token);
                if prefix.is_empty() || prefix.eq_ignore_ascii_case("bearer") {
                    Some(Node::map([("bearer", Node::Str(token))]))
                } else {
                    headers.push(("Authorization".into(), format!("{prefix} {token}")));
                    None
                }
            }
            other => {
                comments.push(self.warn(place, &format!("auth type {other}"), false));
                None
            }
        }
    }

    /// The body as (`json` | `form` | `multipart` | `body`, node); may add or drop a
    /// `Content-Type` header.
    fn body(
        &mut self,
        body: &Body,
        place: &str,
        headers: &mut Vec<(String, String)>,
        comments: &mut Vec<Comment>,
    ) -> Option<(&'static str, Node)> {
        let content_type = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            .map(|(_, v)| v.trim().to_ascii_lowercase());
        let drop_content_type = |headers: &mut Vec<(String, String)>,
                                 when: &dyn Fn(&str) -> bool| {
            headers.retain(|(k, v)| {
                !(k.eq_ignore_ascii_case("content-type") && when(&v.trim().to_ascii_lowercase()))
            });
        };
        let set_content_type = |headers: &mut Vec<(String, String)>, value: &str| {
            if !headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            {
                headers.push(("Content-Type".into(), value.into()));
            }
        };
        match body.mode.as_deref().unwrap_or("raw") {
            "raw" => {
                let raw = body.raw.clone().unwrap_or_default();
                if raw.is_empty() {
                    return None;
                }
                let language = body
                    .options
                    .as_ref()
                    .and_then(|o| o.raw.as_ref())
                    .and_then(|r| r.language.clone())
                    .unwrap_or_else(|| "text".into());
                let json_like = language == "json"
                    || content_type.as_deref().is_some_and(|c| c.contains("json"));
                if json_like {
                    let parsed = serde_json::from_str::<serde_json::Value>(&raw);
                    match parsed.as_ref().map(json_as_text) {
                        Ok(None) => {
                            let Ok(value) = parsed else { return None };
                            drop_content_type(headers, &|v| v == "application/json");
                            let node = self.json_node(&value);
                            return Some(("json", node));
                        }
                        found => {
                            let why = match found {
                                Ok(Some(why)) => why,
                                _ if raw.contains("{{") => {
                                    "its `{{...}}` placeholders are not all inside strings"
                                }
                                _ => "it is not valid JSON",
                            };
                            self.notes.push(format!(
                                "{}: the raw JSON body is sent as text with `Content-Type: application/json`, because {why}",
                                describe_place(place)
                            ));
                            comments.push(Comment::new(format!(
                                "postman: the JSON body is sent as text, because {why}"
                            )));
                            set_content_type(headers, "application/json");
                        }
                    }
                } else {
                    let ct = match language.as_str() {
                        "javascript" => "application/javascript",
                        "html" => "text/html",
                        "xml" => "application/xml",
                        "json" => "application/json",
                        _ => "text/plain",
                    };
                    set_content_type(headers, ct);
                }
                Some(("body", Node::Str(self.conv.text(&raw))))
            }
            "urlencoded" => {
                let mut form: Vec<(String, Option<String>)> = Vec::new();
                for p in body
                    .urlencoded
                    .iter()
                    .filter(|p| !p.disabled && !p.key().is_empty())
                {
                    let value = p.value_text().unwrap_or_default();
                    form.push((self.conv.text(p.key()), Some(self.conv.text(&value))));
                }
                if form.is_empty() {
                    return None;
                }
                drop_content_type(headers, &|v| v == "application/x-www-form-urlencoded");
                Some(("form", query_node(form)))
            }
            "formdata" => {
                let mut fields: Vec<(String, Node)> = Vec::new();
                let mut files: Vec<(String, Node)> = Vec::new();
                for p in body
                    .formdata
                    .iter()
                    .filter(|p| !p.disabled && !p.key().is_empty())
                {
                    let key = p.key().to_owned();
                    let taken = fields.iter().chain(&files).any(|(k, _)| *k == key);
                    if taken {
                        comments.push(self.warn(
                            place,
                            &format!("form-data part `{key}` given again (a multipart body here has one part per name)"),
                            false,
                        ));
                        continue;
                    }
                    if p.kind.as_deref() == Some("file") {
                        let srcs: Vec<String> = match &p.src {
                            Some(serde_json::Value::String(s)) if !s.is_empty() => vec![s.clone()],
                            Some(serde_json::Value::Array(items)) => items
                                .iter()
                                .filter_map(|v| v.as_str().map(str::to_owned))
                                .collect(),
                            _ => Vec::new(),
                        };
                        let Some(src) = srcs.first() else {
                            comments.push(self.warn(
                                place,
                                &format!("form-data file `{key}` without a file chosen"),
                                false,
                            ));
                            continue;
                        };
                        if srcs.len() > 1 {
                            comments.push(self.warn(
                                place,
                                &format!(
                                    "form-data `{key}` holds {} files; only the first is sent",
                                    srcs.len()
                                ),
                                false,
                            ));
                        }
                        self.notes.push(format!(
                            "{}: the file `{src}` of form-data `{key}` is read relative to the scenario file; copy it there or fix the path",
                            describe_place(place)
                        ));
                        let path = Node::Str(escape_literal(src));
                        let node = match &p.content_type {
                            Some(ct) if !ct.is_empty() => Node::map([
                                ("path", path),
                                ("content_type", Node::Str(self.conv.text(ct))),
                            ]),
                            _ => path,
                        };
                        files.push((key, node));
                    } else {
                        let value = p.value_text().unwrap_or_default();
                        fields.push((key, Node::Str(self.conv.text(&value))));
                    }
                }
                if fields.is_empty() && files.is_empty() {
                    return None;
                }
                let had = headers.len();
                drop_content_type(headers, &|v| v.starts_with("multipart/form-data"));
                if headers.len() != had {
                    self.notes.push(format!(
                        "{}: the `Content-Type: multipart/form-data` header is left out; stepwise sets it with the boundary",
                        describe_place(place)
                    ));
                }
                let mut parts = Vec::new();
                if !fields.is_empty() {
                    parts.push(("fields", Node::map(fields)));
                }
                if !files.is_empty() {
                    parts.push(("files", Node::map(files)));
                }
                Some(("multipart", Node::map(parts)))
            }
            "file" => match body.file.as_ref().and_then(|f| f.src.clone()) {
                Some(src) if !src.is_empty() => {
                    self.notes.push(format!(
                        "{}: the body file `{src}` is read relative to the scenario file; copy it there or fix the path",
                        describe_place(place)
                    ));
                    Some((
                        "body",
                        Node::map([("file", Node::Str(escape_literal(&src)))]),
                    ))
                }
                _ => match body.file.as_ref().and_then(|f| f.content.clone()) {
                    Some(content) => Some(("body", Node::Str(self.conv.text(&content)))),
                    None => {
                        comments.push(self.warn(place, "binary body without a file chosen", false));
                        None
                    }
                },
            },
            "graphql" => {
                let g = body.graphql.as_ref()?;
                let mut parts = vec![(
                    "query".to_owned(),
                    Node::Str(self.conv.text(g.query.as_deref().unwrap_or(""))),
                )];
                if let Some(vars) = g.variables.as_deref().filter(|v| !v.trim().is_empty()) {
                    match serde_json::from_str::<serde_json::Value>(vars) {
                        Ok(v) => {
                            let node = self.json_node(&v);
                            parts.push(("variables".into(), node));
                        }
                        Err(_) => comments.push(self.warn(
                            place,
                            "GraphQL variables that are not valid JSON",
                            false,
                        )),
                    }
                }
                drop_content_type(headers, &|v| v == "application/json");
                Some(("json", Node::map(parts)))
            }
            other => {
                comments.push(self.warn(place, &format!("body mode {other}"), false));
                None
            }
        }
    }

    /// `capture` and `expect` from the test scripts' actions.
    fn checks(&mut self, actions: &[Action], place: &str, after: &mut Vec<Comment>) -> Vec<Entry> {
        let mut capture: IndexMap<String, Node> = IndexMap::new();
        let mut status: Option<Vec<StatusPattern>> = None;
        let mut headers: IndexMap<String, IndexMap<&'static str, Op>> = IndexMap::new();
        let mut jsonpath: IndexMap<String, IndexMap<&'static str, Op>> = IndexMap::new();
        let mut body: IndexMap<&'static str, Op> = IndexMap::new();
        let mut duration: Option<f64> = None;
        let mut that: Vec<String> = Vec::new();
        for action in actions {
            let ok = match &action.kind {
                ActionKind::Capture(name, spec) => {
                    self.set_by_scripts.insert(name.clone());
                    self.captured.insert(name.clone());
                    capture.insert(name.clone(), capture_node(spec));
                    true
                }
                ActionKind::Status(list) => match &status {
                    Some(existing) => existing == list,
                    None => {
                        status = Some(list.clone());
                        true
                    }
                },
                ActionKind::Header(name, op) => {
                    let key = headers
                        .keys()
                        .find(|k| k.eq_ignore_ascii_case(name))
                        .cloned()
                        .unwrap_or_else(|| name.clone());
                    merge_op(headers.entry(key).or_default(), op)
                }
                ActionKind::JsonPath(path, op) => {
                    merge_op(jsonpath.entry(path.clone()).or_default(), op)
                }
                ActionKind::Body(op) => merge_op(&mut body, op),
                ActionKind::DurationMs(ms) => {
                    duration = Some(duration.map_or(*ms, |d| d.min(*ms)));
                    true
                }
                ActionKind::That(t) => {
                    if !that.contains(t) {
                        that.push(t.clone());
                    }
                    true
                }
                ActionKind::Var(..) => false,
            };
            if !ok {
                // A second check of the same kind on the same value (two `include`s, say) goes
                // to `that`; a contradiction is reported.
                let condition = match &action.kind {
                    ActionKind::JsonPath(path, op) => script::jsonpath_to_jinja(path)
                        .and_then(|subject| script::op_condition(&subject, op)),
                    ActionKind::Header(name, op) => script::op_condition(
                        &format!(
                            "response.headers[{}]",
                            serde_json::Value::String(name.to_ascii_lowercase())
                        ),
                        op,
                    ),
                    ActionKind::Body(op) => script::op_condition("response.body", op),
                    _ => None,
                };
                match condition {
                    Some(c) if !matches!(action.kind, ActionKind::Status(_)) => {
                        if !that.contains(&c) {
                            that.push(c);
                        }
                    }
                    _ => {
                        let text = format!("{} (it contradicts an earlier check)", action.source);
                        after.push(self.warn(place, &text, true));
                    }
                }
            }
        }
        let mut out = Vec::new();
        if !capture.is_empty() {
            out.push(Entry::Pair("capture".into(), Node::map(capture)));
        }
        let mut expect: Vec<(String, Node)> = Vec::new();
        if let Some(list) = status {
            let node = |p: &StatusPattern| match p {
                StatusPattern::Exact(n) => Node::Int(i64::from(*n)),
                StatusPattern::Class(c) => Node::str(format!("{c}xx")),
            };
            expect.push((
                "status".into(),
                match list.as_slice() {
                    [one] => node(one),
                    many => Node::seq(many.iter().map(node)),
                },
            ));
        }
        if !headers.is_empty() {
            expect.push((
                "headers".into(),
                Node::map(
                    headers
                        .iter()
                        .map(|(k, ops)| (escape_literal(k), predicate(ops))),
                ),
            ));
        }
        if !jsonpath.is_empty() {
            expect.push((
                "jsonpath".into(),
                Node::map(jsonpath.iter().map(|(k, ops)| (k.clone(), predicate(ops)))),
            ));
        }
        if !body.is_empty() {
            expect.push(("body".into(), predicate(&body)));
        }
        if let Some(ms) = duration {
            expect.push((
                "duration".into(),
                Node::str(format!("{}ms", js::format_number(ms))),
            ));
        }
        if !that.is_empty() {
            expect.push(("that".into(), Node::seq(that.into_iter().map(Node::Str))));
        }
        if !expect.is_empty() {
            out.push(Entry::Pair("expect".into(), Node::map(expect)));
        }
        out
    }

    fn finish(mut self, options: &ImportOptions) -> Imported {
        let c = self.collection;
        // Unknown dynamic variables: a stand-in variable each, first in `vars` so that every
        // other variable may use it.
        let mut stand_ins = IndexMap::new();
        for dynamic in self.conv.unknown_dynamic.clone() {
            let name = placeholders::unknown_dynamic_var(&dynamic);
            let comment = self.warn(
                "vars",
                &format!("{{{{${dynamic}}}}} has no stepwise equivalent; `{name}` stands in for it with random text: edit it here"),
                false,
            );
            stand_ins.insert(
                name,
                VarDef {
                    comments: vec![comment],
                    value: Node::str("{{ random_string(12) }}"),
                    origin: String::new(),
                },
            );
        }
        stand_ins.extend(std::mem::take(&mut self.vars));
        self.vars = stand_ins;
        // Environment values the scripts set and that are empty are placeholders only.
        let mut left_out = Vec::new();
        let set_by_scripts = self.set_by_scripts.clone();
        self.env_vars.retain(|v| {
            let empty = matches!(&v.value, serde_json::Value::String(s) if s.is_empty())
                || v.value.is_null();
            let drop = empty && set_by_scripts.contains(&v.name);
            if drop {
                left_out.push(v.name.clone());
            }
            !drop
        });
        let env_names: Vec<String> = self.env_vars.iter().map(|v| v.name.clone()).collect();
        let defined: HashSet<&str> = self
            .vars
            .keys()
            .map(String::as_str)
            .chain(self.set_by_scripts.iter().map(String::as_str))
            .chain(env_names.iter().map(String::as_str))
            .collect();
        let undefined: Vec<String> = self
            .conv
            .referenced
            .iter()
            .filter(|r| !defined.contains(r.as_str()))
            .cloned()
            .collect();

        // The header.
        let mut header = Vec::new();
        if let Some(schema) = &options.schema {
            header.push(Comment::new(format!(
                "yaml-language-server: $schema={schema}"
            )));
        }
        header.push(Comment::new(format!(
            "Imported from the Postman collection \"{}\" by `stepwise import postman`.",
            c.info.name
        )));
        if !env_names.is_empty() {
            header.push(Comment::new(format!(
                "Variables from {ENV_FILE}: {}",
                env_names.join(", ")
            )));
            header.push(Comment::new(format!(
                "Run: stepwise run --env {ENV_FILE} {}",
                self.file_name
            )));
        }
        if !undefined.is_empty() {
            header.push(Comment::new(format!(
                "Variables from outside (--var NAME=VALUE or --env FILE): {}",
                undefined.join(", ")
            )));
        }

        // The scenario.
        let mut top: Vec<Entry> = vec![Entry::Pair(
            "name".into(),
            Node::str(if c.info.name.trim().is_empty() {
                "Imported collection".to_owned()
            } else {
                c.info.name.clone()
            }),
        )];
        if let Some(d) = c.info.description.as_ref().and_then(|d| d.text()) {
            top.push(Entry::Pair(
                "description".into(),
                Node::str(d.trim_end().to_owned() + "\n"),
            ));
        }
        if !self.vars.is_empty() {
            let mut entries = Vec::new();
            for (name, def) in std::mem::take(&mut self.vars) {
                entries.extend(def.comments.into_iter().map(Entry::Comment));
                entries.push(Entry::Pair(name, def.value));
            }
            top.push(Entry::Blank);
            top.push(Entry::Pair("vars".into(), Node::Map(entries)));
        }
        if !self.secrets.is_empty() {
            top.push(Entry::Pair(
                "secrets".into(),
                Node::seq(self.secrets.iter().map(|s| Node::str(s.clone()))),
            ));
        }
        top.push(Entry::Blank);
        top.push(Entry::Comment(Comment::new(
            "Postman follows redirects unless a request says otherwise; stepwise does not by default.",
        )));
        top.push(Entry::Pair(
            "defaults".into(),
            Node::map([("follow_redirects", Node::Bool(self.defaults_follow))]),
        ));
        top.push(Entry::Blank);
        top.push(Entry::Pair(
            "steps".into(),
            Node::Seq(std::mem::take(&mut self.steps)),
        ));
        let written = yaml_writer::write(&header, &Node::Map(top));
        let mut warnings: Vec<Warning> = self
            .pending
            .iter()
            .map(|p| Warning {
                file: self.file_name.clone(),
                line: written
                    .tagged_lines
                    .iter()
                    .find(|(t, _)| *t == p.tag)
                    .map_or(0, |(_, l)| *l),
                place: p.place.clone(),
                text: p.text.clone(),
                script_line: p.script_line,
            })
            .collect();
        warnings.sort_by_key(|w| w.line);

        let env = self.environment.map(|e| {
            let mut header = vec![Comment::new(format!(
                "Variables of the Postman environment \"{}\", for `stepwise run --env {ENV_FILE} {}`.",
                e.name, self.file_name
            ))];
            let secret_names: Vec<&str> = self
                .env_vars
                .iter()
                .filter(|v| v.secret)
                .map(|v| v.name.as_str())
                .collect();
            if !secret_names.is_empty() {
                header.push(Comment::new(format!(
                    "It holds secret values ({}): keep it out of version control.",
                    secret_names.join(", ")
                )));
            }
            let mut entries = Vec::new();
            for v in &self.env_vars {
                if v.secret {
                    entries.push(Entry::Comment(Comment::new(
                        "secret: masked in stepwise's output",
                    )));
                }
                let node = match &v.value {
                    serde_json::Value::String(s) => Node::str(s.clone()),
                    other => Node::from_json(other, &mut |s| s.to_owned()),
                };
                entries.push(Entry::Pair(v.name.clone(), node));
            }
            if !left_out.is_empty() {
                entries.push(Entry::Comment(Comment::new(format!(
                    "left out (empty, and set by the collection's scripts): {}",
                    left_out.join(", ")
                ))));
            }
            GeneratedFile {
                file_name: ENV_FILE.into(),
                text: yaml_writer::write(&header, &Node::Map(entries)).text,
            }
        });
        Imported {
            name: c.info.name.clone(),
            scenario: GeneratedFile {
                file_name: self.file_name.clone(),
                text: written.text,
            },
            env,
            steps: self.step_count,
            warnings,
            notes: self.notes,
            env_names,
            undefined,
        }
    }
}

/// The enabled scripts of some events, with their phase.
fn scripts(events: &[collection::Event]) -> Vec<(Phase, String)> {
    events
        .iter()
        .filter(|e| !e.disabled)
        .filter_map(|e| {
            let phase = match e.listen.as_str() {
                "prerequest" => Phase::PreRequest,
                "test" => Phase::Test,
                _ => return None,
            };
            let source = e.script.as_ref()?.exec.as_ref()?.source();
            (!source.trim().is_empty()).then_some((phase, source))
        })
        .collect()
}

/// `Step 1` → `"Step 1"`, `collection` → `the collection`, folder `x` → the folder `x`.
fn describe_place(place: &str) -> String {
    if place.starts_with("folder `") || place == "collection" {
        format!("the {place}")
    } else {
        format!("\"{place}\"")
    }
}

/// Adds an operator to a predicate; false when it contradicts one already there.
fn merge_op(ops: &mut IndexMap<&'static str, Op>, op: &Op) -> bool {
    match ops.get(op.key()) {
        Some(existing) => existing == op,
        None => {
            ops.insert(op.key(), op.clone());
            true
        }
    }
}

fn val_node(v: &Val) -> Node {
    match v {
        Val::Json(j) => Node::from_json(j, &mut |s| escape_literal(s)),
        Val::Template(t, _) => Node::Str(t.clone()),
    }
}

/// A predicate: a plain value for a lone `equals` (unless the value is a mapping), else a
/// mapping of operators.
fn predicate(ops: &IndexMap<&'static str, Op>) -> Node {
    if let (1, Some(Op::Equals(v))) = (ops.len(), ops.get("equals")) {
        let node = val_node(v);
        if !matches!(node, Node::Map(_)) {
            return node;
        }
    }
    Node::map(ops.iter().map(|(k, op)| {
        let node = match op {
            Op::Equals(v)
            | Op::NotEquals(v)
            | Op::Contains(v)
            | Op::Gt(v)
            | Op::Ge(v)
            | Op::Lt(v)
            | Op::Le(v)
            | Op::Length(v)
            | Op::OneOf(v) => val_node(v),
            Op::Exists(b) => Node::Bool(*b),
            Op::Matches(re) => Node::Str(escape_literal(re)),
            Op::Type(t) => Node::str(*t),
        };
        (*k, node)
    }))
}

fn capture_node(spec: &CaptureSpec) -> Node {
    let (key, value) = match &spec.source {
        CaptureSource::JsonPath(p) if spec.regex.is_none() => {
            return Node::Str(escape_literal(p));
        }
        CaptureSource::JsonPath(p) => ("jsonpath", Node::Str(escape_literal(p))),
        CaptureSource::Header(h) => ("header", Node::Str(escape_literal(h))),
        CaptureSource::Cookie(c) => ("cookie", Node::Str(escape_literal(c))),
        CaptureSource::Status => ("status", Node::Bool(true)),
        CaptureSource::Body => ("body", Node::Bool(true)),
    };
    let mut pairs = vec![(key, value)];
    if let Some(re) = &spec.regex {
        pairs.push(("regex", Node::str(re.clone())));
    }
    Node::map(pairs)
}

/// Query or form parameters as a mapping; a repeated name becomes a list.
fn query_node(params: Vec<(String, Option<String>)>) -> Node {
    let mut grouped: IndexMap<String, Vec<Option<String>>> = IndexMap::new();
    for (k, v) in params {
        grouped.entry(k).or_default().push(v);
    }
    let value = |v: Option<String>| v.map_or(Node::Null, Node::Str);
    Node::map(grouped.into_iter().map(|(k, mut vs)| {
        let node = if vs.len() == 1 {
            value(vs.remove(0))
        } else {
            Node::seq(vs.into_iter().map(value))
        };
        (k, node)
    }))
}

/// Percent-decodes query text as Postman stores it (`+` is a space).
fn form_decode(text: &str) -> String {
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|s| s.into_owned())
        .unwrap_or(spaced)
}

/// A URL from `protocol`, `host`, `port` and `path` when `raw` is missing.
fn build_raw(o: &collection::UrlObject) -> String {
    let mut raw = String::new();
    if let Some(p) = &o.protocol {
        raw.push_str(p);
        raw.push_str("://");
    }
    if let Some(h) = &o.host {
        raw.push_str(&h.joined("."));
    }
    if let Some(port) = o.port.as_ref().and_then(collection::value_text) {
        raw.push(':');
        raw.push_str(&port);
    }
    match &o.path {
        Some(collection::PathParts::Text(t)) => {
            if !t.starts_with('/') {
                raw.push('/');
            }
            raw.push_str(t);
        }
        Some(collection::PathParts::List(parts)) => {
            for part in parts {
                raw.push('/');
                match part {
                    collection::PathSegment::Text(t) => raw.push_str(t),
                    collection::PathSegment::Object { value } => {
                        raw.push_str(value.as_deref().unwrap_or(""))
                    }
                }
            }
        }
        None => {}
    }
    raw
}

/// Replaces the path segment `:key` by `value`.
fn replace_path_variable(url: &str, key: &str, value: &str) -> String {
    let needle = format!("/:{key}");
    let mut out = String::new();
    let mut rest = url;
    while let Some(at) = rest.find(&needle) {
        let after = &rest[at + needle.len()..];
        let ends = after.is_empty() || after.starts_with(['/', '?', '#', '.', ';']);
        out.push_str(&rest[..at]);
        if ends {
            out.push('/');
            out.push_str(value);
        } else {
            out.push_str(&needle);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Why a parsed JSON body must be sent as text rather than as `json:`, if it must: object
/// keys are not templates in stepwise, and a YAML integer holds 64 bits.
fn json_as_text(v: &serde_json::Value) -> Option<&'static str> {
    match v {
        serde_json::Value::Object(map) => map.iter().find_map(|(k, v)| {
            if k.contains("{{") || k.contains("{%") || k.contains("{#") {
                Some("an object key holds `{{...}}`")
            } else {
                json_as_text(v)
            }
        }),
        serde_json::Value::Array(items) => items.iter().find_map(json_as_text),
        serde_json::Value::Number(n) if n.is_u64() && n.as_i64().is_none() => {
            Some("it holds a number too large for 64 bits")
        }
        _ => None,
    }
}

/// Params as written by Postman (used by tests).
#[cfg(test)]
fn param(key: &str, value: &str) -> collection::Param {
    collection::Param {
        key: Some(key.into()),
        value: Some(value.into()),
        disabled: false,
        kind: None,
        src: None,
        content_type: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_stems() {
        assert_eq!(
            file_stem("Configure Device Authorization Grant Flow"),
            "configure-device-authorization-grant-flow"
        );
        assert_eq!(file_stem("  ***  "), "collection");
    }

    #[test]
    fn path_variables_and_query_decoding() {
        assert_eq!(
            replace_path_variable("{{b}}/users/:id/x", "id", "{{u}}"),
            "{{b}}/users/{{u}}/x"
        );
        assert_eq!(
            replace_path_variable("{{b}}/users/:idx", "id", "1"),
            "{{b}}/users/:idx"
        );
        assert_eq!(form_decode("openid+profile%20x"), "openid profile x");
        assert_eq!(param("a", "b").value_text().as_deref(), Some("b"));
    }
}
