//! Writes YAML text for generated files (imported scenarios, env files): block style, two
//! spaces of indentation, strings quoted only when a plain scalar would read back as something
//! else, and comments anywhere in a mapping or a list. Comments may carry a tag so that the
//! caller learns the line they landed on (for warnings that point into the written file).

/// A YAML node to write.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Item>),
    Map(Vec<Entry>),
}

/// One line of a list: a value, a comment or a blank line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Item {
    Value(Node),
    Comment(Comment),
    Blank,
}

/// One line of a mapping: a key and its value, a comment or a blank line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Entry {
    Pair(String, Node),
    Comment(Comment),
    Blank,
}

/// A `# comment` line; `tag` asks [`write`] to report the line it was written on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Comment {
    pub text: String,
    pub tag: Option<usize>,
}

impl Comment {
    pub(crate) fn new(text: impl Into<String>) -> Self {
        Comment {
            text: text.into(),
            tag: None,
        }
    }

    pub(crate) fn tagged(text: impl Into<String>, tag: usize) -> Self {
        Comment {
            text: text.into(),
            tag: Some(tag),
        }
    }
}

impl Node {
    pub(crate) fn str(s: impl Into<String>) -> Node {
        Node::Str(s.into())
    }

    /// A mapping of plain pairs.
    pub(crate) fn map<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Node)>) -> Node {
        Node::Map(
            pairs
                .into_iter()
                .map(|(k, v)| Entry::Pair(k.into(), v))
                .collect(),
        )
    }

    /// A list of plain values.
    pub(crate) fn seq(items: impl IntoIterator<Item = Node>) -> Node {
        Node::Seq(items.into_iter().map(Item::Value).collect())
    }

    /// A JSON value as YAML (key order kept).
    pub(crate) fn from_json(
        value: &serde_json::Value,
        text: &mut dyn FnMut(&str) -> String,
    ) -> Node {
        use serde_json::Value as J;
        match value {
            J::Null => Node::Null,
            J::Bool(b) => Node::Bool(*b),
            J::Number(n) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => Node::Int(i),
                (None, Some(f)) => Node::Float(f),
                (None, None) => Node::Str(n.to_string()),
            },
            J::String(s) => Node::Str(text(s)),
            J::Array(items) => Node::Seq(
                items
                    .iter()
                    .map(|v| Item::Value(Node::from_json(v, text)))
                    .collect(),
            ),
            J::Object(map) => Node::Map(
                map.iter()
                    .map(|(k, v)| Entry::Pair(k.clone(), Node::from_json(v, text)))
                    .collect(),
            ),
        }
    }

    fn is_block(&self) -> bool {
        match self {
            Node::Seq(items) => items.iter().any(|i| !matches!(i, Item::Blank)),
            Node::Map(entries) => entries.iter().any(|e| !matches!(e, Entry::Blank)),
            _ => false,
        }
    }
}

/// YAML text and the (1-based) line of each tagged comment.
#[derive(Debug, Default)]
pub(crate) struct Written {
    pub text: String,
    pub tagged_lines: Vec<(usize, usize)>,
}

/// Writes a document: `header` comment lines, then the node (normally a mapping).
pub(crate) fn write(header: &[Comment], node: &Node) -> Written {
    let mut w = Writer::default();
    for c in header {
        w.comment(0, c);
    }
    match node {
        Node::Map(entries) => w.map(0, entries),
        Node::Seq(items) => w.seq(0, items),
        scalar => {
            let text = inline_scalar(scalar);
            w.line(text);
        }
    }
    Written {
        text: w.out,
        tagged_lines: w.tagged,
    }
}

#[derive(Default)]
struct Writer {
    out: String,
    line_no: usize,
    tagged: Vec<(usize, usize)>,
}

impl Writer {
    fn line(&mut self, text: String) {
        self.out.push_str(text.trim_end_matches(' '));
        self.out.push('\n');
        self.line_no += 1;
    }

    fn comment(&mut self, indent: usize, c: &Comment) {
        let pad = " ".repeat(indent);
        let mut first = true;
        for part in c.text.split('\n') {
            let part = part.trim_end_matches('\r');
            self.line(if part.is_empty() {
                format!("{pad}#")
            } else {
                format!("{pad}# {part}")
            });
            if first {
                if let Some(tag) = c.tag {
                    self.tagged.push((tag, self.line_no));
                }
                first = false;
            }
        }
    }

    fn map(&mut self, indent: usize, entries: &[Entry]) {
        let pad = " ".repeat(indent);
        for e in entries {
            match e {
                Entry::Blank => self.line(String::new()),
                Entry::Comment(c) => self.comment(indent, c),
                Entry::Pair(k, v) => {
                    let key = format!("{pad}{}:", scalar_text(k));
                    self.value_after(indent, key, v);
                }
            }
        }
    }

    /// Writes `v` after `lead` (a `key:` or `-`), on the same line when it is a scalar.
    fn value_after(&mut self, indent: usize, lead: String, v: &Node) {
        match v {
            Node::Map(entries) if v.is_block() => {
                self.line(lead);
                self.map(indent + 2, entries);
            }
            Node::Map(_) => self.line(format!("{lead} {{}}")),
            Node::Seq(items) if v.is_block() => {
                self.line(lead);
                self.seq(indent + 2, items);
            }
            Node::Seq(_) => self.line(format!("{lead} []")),
            Node::Str(s) => match block_scalar(s) {
                Some((indicator, lines)) => {
                    self.line(format!("{lead} {indicator}"));
                    let pad = " ".repeat(indent + 2);
                    for l in lines {
                        self.line(if l.is_empty() {
                            String::new()
                        } else {
                            format!("{pad}{l}")
                        });
                    }
                }
                None => self.line(format!("{lead} {}", scalar_text(s))),
            },
            scalar => self.line(format!("{lead} {}", inline_scalar(scalar))),
        }
    }

    fn seq(&mut self, indent: usize, items: &[Item]) {
        let pad = " ".repeat(indent);
        for item in items {
            match item {
                Item::Blank => self.line(String::new()),
                Item::Comment(c) => self.comment(indent, c),
                Item::Value(Node::Map(entries)) if !entries.is_empty() => {
                    // `- key: value` for the first pair; comments before it go above the dash.
                    let first = entries.iter().position(|e| matches!(e, Entry::Pair(..)));
                    let Some(first) = first else {
                        self.map(indent, entries);
                        self.line(format!("{pad}- {{}}"));
                        continue;
                    };
                    for e in &entries[..first] {
                        if let Entry::Comment(c) = e {
                            self.comment(indent, c);
                        }
                    }
                    if let Entry::Pair(k, v) = &entries[first] {
                        let lead = format!("{pad}- {}:", scalar_text(k));
                        self.value_after(indent + 2, lead, v);
                    }
                    self.map(indent + 2, &entries[first + 1..]);
                }
                Item::Value(v) => self.value_after(indent, format!("{pad}-"), v),
            }
        }
    }
}

fn inline_scalar(node: &Node) -> String {
    match node {
        Node::Null => "null".into(),
        Node::Bool(b) => b.to_string(),
        Node::Int(i) => i.to_string(),
        Node::Float(f) => float_text(*f),
        Node::Str(s) => scalar_text(s),
        Node::Seq(_) => "[]".into(),
        Node::Map(_) => "{}".into(),
    }
}

/// A float that reads back as a float (`1.0`, not `1`).
fn float_text(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    let text = format!("{f:?}");
    if text.contains(['.', 'e', 'E']) {
        text
    } else {
        format!("{text}.0")
    }
}

/// A string as a plain scalar when it reads back as the same string, else double-quoted.
pub(crate) fn scalar_text(s: &str) -> String {
    if plain_ok(s) {
        s.to_owned()
    } else {
        double_quoted(s)
    }
}

fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if matches!(
                c,
                '\u{85}' | '\u{a0}' | '\u{2028}' | '\u{2029}' | '\u{feff}'
            ) =>
            {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether `s` may be written as a plain scalar: conservative, so that no YAML reader takes it
/// for a number, a boolean, null, or structure.
fn plain_ok(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "null", "Null", "NULL", "~", "true", "True", "TRUE", "false", "False", "FALSE", "yes",
        "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N",
        ".inf", ".nan",
    ];
    let Some(first) = s.chars().next() else {
        return false;
    };
    if WORDS.contains(&s) || looks_numeric(s) {
        return false;
    }
    if first.is_whitespace() || s.ends_with(char::is_whitespace) {
        return false;
    }
    if matches!(
        first,
        '-' | '?'
            | ':'
            | ','
            | '['
            | ']'
            | '{'
            | '}'
            | '#'
            | '&'
            | '*'
            | '!'
            | '|'
            | '>'
            | '\''
            | '"'
            | '%'
            | '@'
            | '`'
    ) {
        return false;
    }
    if s.contains(": ") || s.ends_with(':') || s.contains(" #") {
        return false;
    }
    !s.chars().any(|c| {
        c.is_control()
            || matches!(
                c,
                '{' | '}'
                    | '['
                    | ']'
                    | ','
                    | '#'
                    | '\u{85}'
                    | '\u{a0}'
                    | '\u{2028}'
                    | '\u{2029}'
                    | '\u{feff}'
            )
    })
}

/// Anything a YAML 1.1 or 1.2 reader might take for a number (quoted to be safe).
fn looks_numeric(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let Some(first) = body.chars().next() else {
        return false;
    };
    (first.is_ascii_digit() || first == '.')
        && body.chars().all(|c| {
            c.is_ascii_hexdigit()
                || matches!(c, '.' | '_' | ':' | 'x' | 'o' | 'e' | 'E' | '+' | '-')
        })
}

/// A multi-line string as a literal block scalar (`|`, `|-`, `|+`) and its lines, when that
/// reads back exactly.
fn block_scalar(s: &str) -> Option<(&'static str, Vec<&str>)> {
    if !s.contains('\n') {
        return None;
    }
    let trouble = s.chars().any(|c| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}')
    });
    if trouble || s.starts_with([' ', '\t', '\n']) {
        return None;
    }
    let body = s.trim_end_matches('\n');
    let trailing = s.len() - body.len();
    let indicator = match trailing {
        0 => "|-",
        1 => "|",
        _ => "|+",
    };
    // Lines of only spaces would be taken for indentation; a line that starts with a tab is
    // fine, but a line of blanks at the end is not kept by `|` / `|-`.
    if body
        .split('\n')
        .any(|l| !l.is_empty() && l.trim().is_empty())
    {
        return None;
    }
    let mut lines: Vec<&str> = body.split('\n').collect();
    if trailing > 1 {
        lines.extend(std::iter::repeat_n("", trailing - 1));
    }
    Some((indicator, lines))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_back(text: &str) -> serde_json::Value {
        let node = crate::yaml::parse(text)
            .unwrap_or_else(|e| panic!("{}\n{text}", e.message))
            .unwrap_or_else(|| panic!("empty: {text}"));
        crate::yaml::to_json(&node)
    }

    #[test]
    fn strings_read_back_as_the_same_strings() {
        let samples = [
            "plain",
            "",
            " lead",
            "trail ",
            "true",
            "yes",
            "null",
            "~",
            "12",
            "1.5",
            "1e3",
            "0x1F",
            "-",
            "- x",
            "a: b",
            "a:b",
            "https://api.pingone.com/v1",
            "{{ base }}/echo",
            "$.id",
            "$['a-b'][0]",
            "# not a comment",
            "a #b",
            "it's",
            "say \"hi\"",
            "back\\slash",
            "tab\there",
            "line\nbreak",
            "ends with newline\n",
            "two\n\n",
            "\nleading newline",
            "caf\u{e9}",
            "@at",
            "%pct",
            "?q",
            "*star",
            "&amp",
            "!bang",
            "|pipe",
            ">gt",
            "`tick",
            "x,y",
            "2024-01-02",
            "12:30",
        ];
        for s in samples {
            let node = Node::map([("k", Node::str(s))]);
            let text = write(&[], &node).text;
            assert_eq!(read_back(&text), serde_json::json!({ "k": s }), "{text}");
        }
    }

    #[test]
    fn nested_values_and_comments() {
        let node = Node::Map(vec![
            Entry::Comment(Comment::tagged("first", 7)),
            Entry::Pair("name".into(), Node::str("x")),
            Entry::Blank,
            Entry::Pair(
                "steps".into(),
                Node::Seq(vec![
                    Item::Comment(Comment::new("a folder")),
                    Item::Value(Node::Map(vec![
                        Entry::Pair("name".into(), Node::str("one")),
                        Entry::Comment(Comment::tagged("inside", 9)),
                        Entry::Pair("n".into(), Node::Int(1)),
                        Entry::Pair("f".into(), Node::Float(2.0)),
                        Entry::Pair("e".into(), Node::Map(vec![])),
                        Entry::Pair("l".into(), Node::seq([Node::Null, Node::Bool(true)])),
                        Entry::Pair("ll".into(), Node::seq([Node::seq([Node::Int(1)])])),
                    ])),
                ]),
            ),
        ]);
        let w = write(&[Comment::new("header")], &node);
        assert_eq!(
            read_back(&w.text),
            serde_json::json!({"name": "x", "steps": [{"name": "one", "n": 1, "f": 2.0, "e": {}, "l": [null, true], "ll": [[1]]}]})
        );
        assert_eq!(w.tagged_lines, vec![(7, 2), (9, 8)], "{}", w.text);
    }
}
