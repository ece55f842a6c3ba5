//! A YAML document as a tree of nodes that remember where they sit in the source.
//!
//! `saphyr-parser` (maintained, YAML 1.2) produces events with source markers; this module
//! builds them into [`Node`]s and resolves plain scalars with the YAML 1.2 core schema. The
//! serde [`Deserializer`](de) in `de.rs` turns a node tree into the plain scenario model
//! while attaching a [`Span`] to every error and to every [`Spanned`] value.

mod de;
mod span;

pub use de::{from_node, DeError};
pub use span::{Pos, Span, Spanned};

use indexmap::IndexMap;
use saphyr_parser::{Event, Parser, ScalarStyle};
use std::collections::HashMap;

/// A node of a parsed YAML document.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Where the node sits in the source.
    pub span: Span,
    /// What the node holds.
    pub kind: NodeKind,
}

/// The content of a [`Node`], after YAML 1.2 core-schema resolution.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// Up to 24 bytes inline: most keys and scalar values of a scenario are short, and the
    /// whole tree of a file is held while it is read (docs/performance.md).
    Str(compact_str::CompactString),
    Seq(Vec<Node>),
    /// Keys keep their own nodes so that errors can point at a key.
    Map(Vec<(Node, Node)>),
}

impl NodeKind {
    /// A short name of the node's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            NodeKind::Null => "null",
            NodeKind::Bool(_) => "a boolean",
            NodeKind::Int(_) => "an integer",
            NodeKind::Float(_) => "a number",
            NodeKind::Str(_) => "a string",
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a mapping",
        }
    }
}

/// Why a YAML document could not be read.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    pub message: String,
    pub span: Span,
}

/// Aliases may expand a document; past this many nodes the document is refused, so that a
/// "billion laughs" file cannot exhaust memory.
const MAX_NODES: usize = 1_000_000;
/// Nesting deeper than this is refused instead of overflowing the stack later.
const MAX_DEPTH: usize = 256;

/// Parses a YAML source holding exactly one document. An empty document yields `None`.
pub fn parse(source: &str) -> Result<Option<Node>, ParseError> {
    parse_document(source, None)
}

/// Parses like [`parse`], but hands each item of the root mapping's `steps` sequence to
/// `item` as soon as it is built, rather than keeping it in the tree; that sequence is left
/// empty in the tree returned. So the tree of every step is never held at once.
///
/// Why: a long scenario's tree took as much memory as the model built from it, and memory
/// freed from the tree was largely not reused by the model, so a 10,000-step file's peak
/// held both (docs/performance.md). A `steps` sequence that carries an anchor (which a
/// later alias could repeat) is kept in the tree as [`parse`] would.
pub fn parse_streaming_steps(
    source: &str,
    item: &mut dyn FnMut(Node),
) -> Result<Option<Node>, ParseError> {
    parse_document(source, Some(item))
}

fn parse_document(
    source: &str,
    steps: Option<&mut dyn FnMut(Node)>,
) -> Result<Option<Node>, ParseError> {
    let mut builder = Builder {
        anchors: HashMap::new(),
        nodes: 0,
        steps,
    };
    let mut parser = Parser::new_from_str(source);
    let mut documents = 0usize;
    let mut root: Option<Node> = None;
    while let Some((event, span)) = next(&mut parser)? {
        match event {
            Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(ParseError {
                        message: "a scenario file holds one YAML document, found a second one"
                            .into(),
                        span,
                    });
                }
            }
            other => {
                let node = builder.node(&mut parser, other, span, 0)?;
                root = Some(node);
            }
        }
    }
    Ok(root.filter(|n| !matches!(n.kind, NodeKind::Null)))
}

type Ev<'a> = (Event<'a>, Span);

fn next<'a>(
    parser: &mut Parser<'a, saphyr_parser::StrInput<'a>>,
) -> Result<Option<Ev<'a>>, ParseError> {
    match parser.next_event() {
        None => Ok(None),
        Some(Ok((event, span))) => Ok(Some((event, Span::from_saphyr(&span)))),
        Some(Err(e)) => {
            let m = e.marker();
            let pos = span::Pos::new(m.line(), m.col());
            Err(ParseError {
                message: format!("invalid YAML: {}", e.info()),
                span: Span {
                    start: pos,
                    end: pos,
                },
            })
        }
    }
}

struct Builder<'s> {
    anchors: HashMap<usize, Node>,
    nodes: usize,
    /// Where the items of the root's `steps` go, when they are streamed.
    steps: Option<&'s mut dyn FnMut(Node)>,
}

impl Builder<'_> {
    fn node<'a>(
        &mut self,
        parser: &mut Parser<'a, saphyr_parser::StrInput<'a>>,
        event: Event<'a>,
        span: Span,
        depth: usize,
    ) -> Result<Node, ParseError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(ParseError {
                message: format!(
                    "document too large: more than {MAX_NODES} values (after aliases)"
                ),
                span,
            });
        }
        if depth > MAX_DEPTH {
            return Err(ParseError {
                message: format!("document nested deeper than {MAX_DEPTH} levels"),
                span,
            });
        }
        match event {
            Event::Scalar(value, style, anchor, tag) => {
                let kind = if tag.is_some() || style != ScalarStyle::Plain {
                    match tag.as_deref().map(|t| t.suffix.as_str()) {
                        Some("int") | Some("float") | Some("bool") | Some("null") => {
                            resolve_plain(&value)
                        }
                        _ => NodeKind::Str(value.as_ref().into()),
                    }
                } else {
                    resolve_plain(&value)
                };
                let node = Node { span, kind };
                self.remember(anchor, &node);
                Ok(node)
            }
            Event::SequenceStart(anchor, _) => {
                let mut items = Vec::new();
                let end = loop {
                    let (ev, sp) = self.expect_event(parser, span)?;
                    if let Event::SequenceEnd = ev {
                        break sp;
                    }
                    items.push(self.node(parser, ev, sp, depth + 1)?);
                };
                // Kept until the scenario is built: without the room a growing vector keeps
                // (a mapping of one key took four), the tree of a long file is half the size.
                items.shrink_to_fit();
                let node = Node {
                    span: Span {
                        start: span.start,
                        end: end.end,
                    },
                    kind: NodeKind::Seq(items),
                };
                self.remember(anchor, &node);
                Ok(node)
            }
            Event::MappingStart(anchor, _) => {
                let mut entries: Vec<(Node, Node)> = Vec::new();
                // A set, not a scan of `entries`: a scan is quadratic, and an 8 MiB file
                // holds hundreds of thousands of keys (hours of comparisons).
                let mut seen: std::collections::HashSet<compact_str::CompactString> =
                    std::collections::HashSet::new();
                let end = loop {
                    let (ev, sp) = self.expect_event(parser, span)?;
                    if let Event::MappingEnd = ev {
                        break sp;
                    }
                    let key = self.node(parser, ev, sp, depth + 1)?;
                    let (vev, vsp) = self.expect_event(parser, span)?;
                    let streamed = depth == 0
                        && self.steps.is_some()
                        && matches!(&key.kind, NodeKind::Str(k) if k == "steps")
                        && matches!(vev, Event::SequenceStart(0, _));
                    let value = if streamed {
                        self.streamed_sequence(parser, vsp, depth + 1)?
                    } else {
                        self.node(parser, vev, vsp, depth + 1)?
                    };
                    if let NodeKind::Str(k) = &key.kind {
                        if !seen.insert(k.clone()) {
                            return Err(ParseError {
                                message: format!("duplicate key `{k}` in this mapping"),
                                span: key.span,
                            });
                        }
                    }
                    entries.push((key, value));
                };
                entries.shrink_to_fit();
                let node = Node {
                    span: Span {
                        start: span.start,
                        end: end.end,
                    },
                    kind: NodeKind::Map(entries),
                };
                self.remember(anchor, &node);
                Ok(node)
            }
            Event::Alias(id) => match self.anchors.get(&id) {
                Some(node) => {
                    self.nodes += count(node);
                    if self.nodes > MAX_NODES {
                        return Err(ParseError {
                            message: format!(
                                "document too large: more than {MAX_NODES} values (after aliases)"
                            ),
                            span,
                        });
                    }
                    Ok(Node {
                        span,
                        kind: node.kind.clone(),
                    })
                }
                None => Err(ParseError {
                    message: "alias refers to an unknown anchor".into(),
                    span,
                }),
            },
            _ => Err(ParseError {
                message: "unexpected YAML structure".into(),
                span,
            }),
        }
    }

    /// A sequence (its start event already read) whose items go to `self.steps`; returns
    /// it empty, with its span.
    fn streamed_sequence<'a>(
        &mut self,
        parser: &mut Parser<'a, saphyr_parser::StrInput<'a>>,
        span: Span,
        depth: usize,
    ) -> Result<Node, ParseError> {
        self.nodes += 1;
        let end = loop {
            let (ev, sp) = self.expect_event(parser, span)?;
            if let Event::SequenceEnd = ev {
                break sp;
            }
            let item = self.node(parser, ev, sp, depth + 1)?;
            if let Some(sink) = self.steps.as_mut() {
                sink(item);
            }
        };
        Ok(Node {
            span: Span {
                start: span.start,
                end: end.end,
            },
            kind: NodeKind::Seq(Vec::new()),
        })
    }

    fn expect_event<'a>(
        &mut self,
        parser: &mut Parser<'a, saphyr_parser::StrInput<'a>>,
        open: Span,
    ) -> Result<Ev<'a>, ParseError> {
        next(parser)?.ok_or(ParseError {
            message: "unexpected end of the document".into(),
            span: open,
        })
    }

    fn remember(&mut self, anchor: usize, node: &Node) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
    }
}

fn count(node: &Node) -> usize {
    match &node.kind {
        NodeKind::Seq(items) => 1 + items.iter().map(count).sum::<usize>(),
        NodeKind::Map(entries) => {
            1 + entries
                .iter()
                .map(|(k, v)| count(k) + count(v))
                .sum::<usize>()
        }
        _ => 1,
    }
}

/// YAML 1.2 core schema resolution of a plain scalar.
fn resolve_plain(s: &str) -> NodeKind {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return NodeKind::Null,
        "true" | "True" | "TRUE" => return NodeKind::Bool(true),
        "false" | "False" | "FALSE" => return NodeKind::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return NodeKind::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return NodeKind::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return NodeKind::Float(f64::NAN),
        _ => {}
    }
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(i) = s.parse::<i64>() {
            return NodeKind::Int(i);
        }
    }
    if let Some(hex) = s.strip_prefix("0x") {
        if let Ok(i) = i64::from_str_radix(hex, 16) {
            return NodeKind::Int(i);
        }
    }
    if let Some(oct) = s.strip_prefix("0o") {
        if let Ok(i) = i64::from_str_radix(oct, 8) {
            return NodeKind::Int(i);
        }
    }
    if looks_like_float(s) {
        if let Ok(f) = s.parse::<f64>() {
            return NodeKind::Float(f);
        }
    }
    NodeKind::Str(s.into())
}

fn looks_like_float(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let mut seen_digit = false;
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.peek() {
        if c.is_ascii_digit() {
            seen_digit = true;
            chars.next();
        } else {
            break;
        }
    }
    if chars.peek() == Some(&'.') {
        chars.next();
        while let Some(c) = chars.peek() {
            if c.is_ascii_digit() {
                seen_digit = true;
                chars.next();
            } else {
                break;
            }
        }
    }
    if !seen_digit {
        return false;
    }
    match chars.next() {
        None => true,
        Some('e') | Some('E') => {
            let rest: String = chars.collect();
            let rest = rest.strip_prefix(['+', '-']).unwrap_or(&rest);
            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit())
        }
        _ => false,
    }
}

/// Converts a node into a JSON value (keys of any type become strings).
pub fn to_json(node: &Node) -> serde_json::Value {
    use serde_json::Value;
    match &node.kind {
        NodeKind::Null => Value::Null,
        NodeKind::Bool(b) => Value::Bool(*b),
        NodeKind::Int(i) => Value::from(*i),
        NodeKind::Float(f) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        NodeKind::Str(s) => Value::String(s.to_string()),
        NodeKind::Seq(items) => Value::Array(items.iter().map(to_json).collect()),
        NodeKind::Map(entries) => {
            let mut map = serde_json::Map::new();
            for (k, v) in entries {
                map.insert(scalar_text(k), to_json(v));
            }
            Value::Object(map)
        }
    }
}

/// The text of a scalar node (used for mapping keys).
pub fn scalar_text(node: &Node) -> String {
    match &node.kind {
        NodeKind::Null => "null".into(),
        NodeKind::Bool(b) => b.to_string(),
        NodeKind::Int(i) => i.to_string(),
        NodeKind::Float(f) => f.to_string(),
        NodeKind::Str(s) => s.to_string(),
        NodeKind::Seq(_) | NodeKind::Map(_) => to_json(node).to_string(),
    }
}

/// An ordered map of string keys, as found in scenario files.
pub type Mapping<V> = IndexMap<String, V>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_core_schema() {
        let node = parse("a: 1\nb: 1.5\nc: true\nd: ~\ne: '1'\nf: hello\ng: 1e3\n")
            .unwrap()
            .unwrap();
        let json = to_json(&node);
        assert_eq!(
            json,
            serde_json::json!({"a":1,"b":1.5,"c":true,"d":null,"e":"1","f":"hello","g":1000.0})
        );
    }

    #[test]
    fn spans_are_one_based_lines() {
        let node = parse("name: x\nsteps:\n  - a\n").unwrap().unwrap();
        let NodeKind::Map(entries) = node.kind else {
            panic!()
        };
        assert_eq!(entries[1].0.span.start.line, 2);
        let NodeKind::Seq(items) = &entries[1].1.kind else {
            panic!()
        };
        assert_eq!(items[0].span.start.line, 3);
        assert_eq!(items[0].span.start.col, 4);
    }

    #[test]
    fn rejects_duplicate_keys_and_second_document() {
        assert!(parse("a: 1\na: 2\n").is_err());
        assert!(parse("a: 1\n---\nb: 2\n").is_err());
        assert!(parse("").unwrap().is_none());
    }

    #[test]
    fn resolves_aliases() {
        let node = parse("a: &x [1, 2]\nb: *x\n").unwrap().unwrap();
        assert_eq!(to_json(&node), serde_json::json!({"a":[1,2],"b":[1,2]}));
    }
}
