//! A reader for the small part of JavaScript that Postman scripts are written in: tokens,
//! statements (with the lines they span) and expressions. It does not run anything; what it
//! cannot read becomes [`StmtKind::Other`], which the translator reports as not translated.

/// A token and the (0-based) script line it starts on.
#[derive(Debug, Clone, PartialEq)]
struct Token {
    tok: Tok,
    line: usize,
    /// A line break sits between this token and the previous one.
    newline_before: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    Regex(String, String),
    /// A template literal with `${...}` in it (not supported).
    Interpolated,
    Punct(&'static str),
}

/// A statement and the lines it spans (0-based, inclusive).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Stmt {
    pub kind: StmtKind,
    pub first_line: usize,
    pub last_line: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum StmtKind {
    /// `var`/`let`/`const` with one or more declarators.
    Decl(Vec<(String, Option<Expr>)>),
    /// `target = value`.
    Assign(Expr, Expr),
    Expr(Expr),
    /// Anything else (`if`, loops, `try`, syntax this reader does not know).
    Other,
}

/// An expression.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Expr {
    Num(f64),
    Str(String),
    Regex {
        pattern: String,
        flags: String,
    },
    Bool(bool),
    Null,
    Undefined,
    Ident(String),
    Member(Box<Expr>, String),
    Index(Box<Expr>, Box<Expr>),
    Call(Box<Expr>, Vec<Expr>),
    New(String, Vec<Expr>),
    Array(Vec<Expr>),
    Object(Vec<(String, Expr)>),
    Unary(&'static str, Box<Expr>),
    Binary(&'static str, Box<Expr>, Box<Expr>),
    /// A function or arrow function: its body as statements (an expression body is one
    /// expression statement).
    Func(Vec<Stmt>),
}

/// Parses a script into statements; `None` when it cannot even be split into tokens (an
/// unterminated string, say).
pub(super) fn parse_script(source: &str) -> Option<Vec<Stmt>> {
    let tokens = tokenize(source)?;
    Some(statements(&tokens))
}

const PUNCTS: &[&str] = &[
    "===", "!==", "...", "**=", "<<=", ">>=", ">>>", "=>", "==", "!=", "<=", ">=", "&&", "||",
    "??", "?.", "++", "--", "+=", "-=", "*=", "/=", "%=", "**", "<<", ">>", "{", "}", "(", ")",
    "[", "]", ";", ",", "<", ">", "+", "-", "*", "/", "%", "&", "|", "^", "!", "~", "?", ":", "=",
    ".",
];

fn tokenize(source: &str) -> Option<Vec<Token>> {
    let chars: Vec<char> = source.chars().collect();
    let mut out: Vec<Token> = Vec::new();
    let mut i = 0;
    let mut line = 0;
    let mut newline = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            newline = true;
            i += 1;
            continue;
        }
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        // Comments.
        if c == '/' && chars.get(i + 1) == Some(&'/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if c == '/' && chars.get(i + 1) == Some(&'*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                if chars[i] == '\n' {
                    line += 1;
                    newline = true;
                }
                i += 1;
            }
            i += 2;
            continue;
        }
        let start_line = line;
        let tok = if c == '"' || c == '\'' {
            let (s, next) = string_literal(&chars, i, c)?;
            i = next;
            Tok::Str(s)
        } else if c == '`' {
            let mut j = i + 1;
            let mut text = String::new();
            let mut interpolated = false;
            while j < chars.len() && chars[j] != '`' {
                if chars[j] == '\\' {
                    let (ch, next) = escape(&chars, j)?;
                    text.push_str(&ch);
                    j = next;
                    continue;
                }
                if chars[j] == '$' && chars.get(j + 1) == Some(&'{') {
                    interpolated = true;
                }
                if chars[j] == '\n' {
                    line += 1;
                }
                text.push(chars[j]);
                j += 1;
            }
            if j >= chars.len() {
                return None;
            }
            i = j + 1;
            if interpolated {
                Tok::Interpolated
            } else {
                Tok::Str(text)
            }
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let mut j = i;
            if c == '0' && matches!(chars.get(i + 1), Some('x') | Some('X')) {
                j += 2;
                while j < chars.len() && chars[j].is_ascii_hexdigit() {
                    j += 1;
                }
                let text: String = chars[i + 2..j].iter().collect();
                i = j;
                Tok::Num(i64::from_str_radix(&text, 16).ok()? as f64)
            } else {
                while j < chars.len()
                    && (chars[j].is_ascii_digit() || chars[j] == '.' || chars[j] == '_')
                {
                    j += 1;
                }
                if j < chars.len() && matches!(chars[j], 'e' | 'E') {
                    j += 1;
                    if j < chars.len() && matches!(chars[j], '+' | '-') {
                        j += 1;
                    }
                    while j < chars.len() && chars[j].is_ascii_digit() {
                        j += 1;
                    }
                }
                let text: String = chars[i..j].iter().filter(|c| **c != '_').collect();
                i = j;
                Tok::Num(text.parse().ok()?)
            }
        } else if c.is_alphabetic() || c == '_' || c == '$' {
            let mut j = i;
            while j < chars.len()
                && (chars[j].is_alphanumeric() || chars[j] == '_' || chars[j] == '$')
            {
                j += 1;
            }
            let word: String = chars[i..j].iter().collect();
            i = j;
            Tok::Ident(word)
        } else if c == '/' && regex_allowed(out.last()) {
            let mut j = i + 1;
            let mut in_class = false;
            let mut pattern = String::new();
            loop {
                let ch = *chars.get(j)?;
                if ch == '\n' {
                    return None;
                }
                if ch == '\\' {
                    pattern.push(ch);
                    pattern.push(*chars.get(j + 1)?);
                    j += 2;
                    continue;
                }
                if ch == '[' {
                    in_class = true;
                } else if ch == ']' {
                    in_class = false;
                } else if ch == '/' && !in_class {
                    break;
                }
                pattern.push(ch);
                j += 1;
            }
            j += 1;
            let mut flags = String::new();
            while j < chars.len() && chars[j].is_ascii_alphabetic() {
                flags.push(chars[j]);
                j += 1;
            }
            i = j;
            Tok::Regex(pattern, flags)
        } else {
            let rest: String = chars[i..(i + 4).min(chars.len())].iter().collect();
            let p = PUNCTS.iter().find(|p| rest.starts_with(**p))?;
            i += p.chars().count();
            Tok::Punct(p)
        };
        out.push(Token {
            tok,
            line: start_line,
            newline_before: newline,
        });
        newline = false;
    }
    Some(out)
}

/// Whether a `/` after `prev` starts a regular expression (rather than dividing).
fn regex_allowed(prev: Option<&Token>) -> bool {
    match prev.map(|t| &t.tok) {
        None => true,
        Some(Tok::Punct(p)) => !matches!(*p, ")" | "]"),
        Some(Tok::Ident(w)) => matches!(w.as_str(), "return" | "typeof" | "case" | "in" | "of"),
        Some(_) => false,
    }
}

fn string_literal(chars: &[char], start: usize, quote: char) -> Option<(String, usize)> {
    let mut s = String::new();
    let mut j = start + 1;
    loop {
        let c = *chars.get(j)?;
        if c == quote {
            return Some((s, j + 1));
        }
        if c == '\n' {
            return None;
        }
        if c == '\\' {
            let (text, next) = escape(chars, j)?;
            s.push_str(&text);
            j = next;
            continue;
        }
        s.push(c);
        j += 1;
    }
}

/// The escape sequence at `chars[at]` (a backslash): its text and the index after it.
fn escape(chars: &[char], at: usize) -> Option<(String, usize)> {
    let c = *chars.get(at + 1)?;
    let simple = |s: &str| Some((s.to_owned(), at + 2));
    match c {
        'n' => simple("\n"),
        't' => simple("\t"),
        'r' => simple("\r"),
        'b' => simple("\u{8}"),
        'f' => simple("\u{c}"),
        'v' => simple("\u{b}"),
        '0' => simple("\0"),
        '\n' => Some((String::new(), at + 2)),
        'x' => {
            let hex: String = chars.get(at + 2..at + 4)?.iter().collect();
            let ch = char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?;
            Some((ch.to_string(), at + 4))
        }
        'u' => {
            if chars.get(at + 2) == Some(&'{') {
                let end = (at + 3..chars.len()).find(|k| chars[*k] == '}')?;
                let hex: String = chars[at + 3..end].iter().collect();
                let ch = char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?;
                return Some((ch.to_string(), end + 1));
            }
            let hex: String = chars.get(at + 2..at + 6)?.iter().collect();
            let ch = char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?;
            Some((ch.to_string(), at + 6))
        }
        other => Some((other.to_string(), at + 2)),
    }
}

/// Tokens that continue an expression from the previous line (so no statement ends before
/// them).
fn continues(tok: &Tok) -> bool {
    match tok {
        Tok::Punct(p) => !matches!(*p, "{" | "!" | "~" | "++" | "--"),
        Tok::Ident(w) => matches!(
            w.as_str(),
            "else" | "catch" | "finally" | "instanceof" | "in"
        ),
        _ => false,
    }
}

/// Tokens after which an expression must go on.
fn expects_more(tok: &Tok) -> bool {
    match tok {
        Tok::Punct(p) => !matches!(*p, ")" | "]" | "}" | "++" | "--"),
        Tok::Ident(w) => matches!(
            w.as_str(),
            "var"
                | "let"
                | "const"
                | "return"
                | "typeof"
                | "new"
                | "instanceof"
                | "in"
                | "function"
        ),
        _ => false,
    }
}

/// Splits tokens into statements at `;` and at line breaks that end a statement.
fn statements(tokens: &[Token]) -> Vec<Stmt> {
    let mut out = Vec::new();
    let mut depth: i32 = 0;
    let mut start = 0;
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        if depth == 0
            && i > start
            && t.newline_before
            && !expects_more(&tokens[i - 1].tok)
            && !continues(&t.tok)
        {
            out.push(statement(&tokens[start..i]));
            start = i;
        }
        match &t.tok {
            Tok::Punct("(" | "[" | "{") => depth += 1,
            Tok::Punct(")" | "]" | "}") => depth -= 1,
            Tok::Punct(";") if depth == 0 => {
                if i > start {
                    out.push(statement(&tokens[start..i]));
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < tokens.len() {
        out.push(statement(&tokens[start..]));
    }
    out
}

fn statement(tokens: &[Token]) -> Stmt {
    let first_line = tokens.first().map_or(0, |t| t.line);
    let last_line = tokens.last().map_or(0, |t| t.line);
    let kind = Parser {
        toks: tokens,
        pos: 0,
    }
    .statement()
    .unwrap_or(StmtKind::Other);
    Stmt {
        kind,
        first_line,
        last_line,
    }
}

struct Parser<'a> {
    toks: &'a [Token],
    pos: usize,
}

type P<T> = Option<T>;

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.tok)
    }

    fn peek_at(&self, k: usize) -> Option<&Tok> {
        self.toks.get(self.pos + k).map(|t| &t.tok)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos)?.tok.clone();
        self.pos += 1;
        Some(t)
    }

    fn eat(&mut self, p: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Punct(q)) if *q == p) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn require(&mut self, p: &str) -> P<()> {
        self.eat(p).then_some(())
    }

    fn at_end(&self) -> bool {
        self.pos >= self.toks.len()
    }

    fn statement(mut self) -> P<StmtKind> {
        let kind = match self.peek()? {
            Tok::Ident(w) if matches!(w.as_str(), "var" | "let" | "const") => {
                self.pos += 1;
                let mut decls = Vec::new();
                loop {
                    let Some(Tok::Ident(name)) = self.next() else {
                        return None;
                    };
                    let value = if self.eat("=") {
                        Some(self.expr(0)?)
                    } else {
                        None
                    };
                    decls.push((name, value));
                    if !self.eat(",") {
                        break;
                    }
                }
                StmtKind::Decl(decls)
            }
            Tok::Ident(w)
                if matches!(
                    w.as_str(),
                    "if" | "for"
                        | "while"
                        | "do"
                        | "try"
                        | "switch"
                        | "return"
                        | "throw"
                        | "function"
                        | "class"
                        | "async"
                ) =>
            {
                return None
            }
            _ => {
                let target = self.expr(0)?;
                if self.eat("=") {
                    StmtKind::Assign(target, self.expr(0)?)
                } else {
                    StmtKind::Expr(target)
                }
            }
        };
        self.at_end().then_some(kind)
    }

    fn expr(&mut self, min_prec: u8) -> P<Expr> {
        let mut left = self.unary()?;
        loop {
            let Some(Tok::Punct(op)) = self.peek() else {
                match self.peek() {
                    Some(Tok::Ident(w)) if w == "instanceof" || w == "in" => return None,
                    _ => break,
                }
            };
            let op: &'static str = op;
            let prec = match op {
                "||" | "??" => 1,
                "&&" => 2,
                "==" | "!=" | "===" | "!==" => 3,
                "<" | ">" | "<=" | ">=" => 4,
                "+" | "-" => 5,
                "*" | "/" | "%" => 6,
                "?" => return None,
                _ => break,
            };
            if prec <= min_prec {
                break;
            }
            self.pos += 1;
            let right = self.expr(prec)?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
        Some(left)
    }

    fn unary(&mut self) -> P<Expr> {
        match self.peek()? {
            Tok::Punct(p @ ("!" | "-" | "+")) => {
                let p: &'static str = p;
                self.pos += 1;
                Some(Expr::Unary(p, Box::new(self.unary()?)))
            }
            Tok::Ident(w) if w == "typeof" => {
                self.pos += 1;
                Some(Expr::Unary("typeof", Box::new(self.unary()?)))
            }
            _ => {
                let e = self.primary()?;
                self.postfix(e)
            }
        }
    }

    fn postfix(&mut self, mut e: Expr) -> P<Expr> {
        loop {
            if self.eat(".") || self.eat("?.") {
                match self.next()? {
                    Tok::Ident(name) => e = Expr::Member(Box::new(e), name),
                    Tok::Punct("[") => {
                        // `a?.[b]`
                        let index = self.expr(0)?;
                        self.require("]")?;
                        e = Expr::Index(Box::new(e), Box::new(index));
                    }
                    Tok::Punct("(") => {
                        let args = self.args()?;
                        e = Expr::Call(Box::new(e), args);
                    }
                    _ => return None,
                }
            } else if self.eat("[") {
                let index = self.expr(0)?;
                self.require("]")?;
                e = Expr::Index(Box::new(e), Box::new(index));
            } else if self.eat("(") {
                let args = self.args()?;
                e = Expr::Call(Box::new(e), args);
            } else {
                return Some(e);
            }
        }
    }

    /// Call arguments after `(`, through `)`.
    fn args(&mut self) -> P<Vec<Expr>> {
        let mut args = Vec::new();
        if self.eat(")") {
            return Some(args);
        }
        loop {
            args.push(self.expr(0)?);
            if self.eat(")") {
                return Some(args);
            }
            self.require(",")?;
            if self.eat(")") {
                return Some(args);
            }
        }
    }

    fn primary(&mut self) -> P<Expr> {
        match self.next()? {
            Tok::Num(n) => Some(Expr::Num(n)),
            Tok::Str(s) => Some(Expr::Str(s)),
            Tok::Regex(pattern, flags) => Some(Expr::Regex { pattern, flags }),
            Tok::Interpolated => None,
            Tok::Ident(w) => match w.as_str() {
                "true" => Some(Expr::Bool(true)),
                "false" => Some(Expr::Bool(false)),
                "null" => Some(Expr::Null),
                "undefined" => Some(Expr::Undefined),
                "function" => {
                    if matches!(self.peek(), Some(Tok::Ident(_))) {
                        self.pos += 1;
                    }
                    self.require("(")?;
                    self.skip_params()?;
                    self.require("{")?;
                    self.block()
                }
                "new" => {
                    let Some(Tok::Ident(name)) = self.next() else {
                        return None;
                    };
                    let args = if self.eat("(") {
                        self.args()?
                    } else {
                        Vec::new()
                    };
                    Some(Expr::New(name, args))
                }
                "async" | "await" | "yield" | "delete" | "void" | "class" => None,
                _ => {
                    if self.eat("=>") {
                        return self.arrow_body();
                    }
                    Some(Expr::Ident(w))
                }
            },
            Tok::Punct("(") => {
                if self.is_arrow_params() {
                    self.skip_params()?;
                    self.require("=>")?;
                    return self.arrow_body();
                }
                let e = self.expr(0)?;
                self.require(")")?;
                Some(e)
            }
            Tok::Punct("[") => {
                let mut items = Vec::new();
                if self.eat("]") {
                    return Some(Expr::Array(items));
                }
                loop {
                    items.push(self.expr(0)?);
                    if self.eat("]") {
                        return Some(Expr::Array(items));
                    }
                    self.require(",")?;
                    if self.eat("]") {
                        return Some(Expr::Array(items));
                    }
                }
            }
            Tok::Punct("{") => {
                let mut pairs = Vec::new();
                if self.eat("}") {
                    return Some(Expr::Object(pairs));
                }
                loop {
                    let key = match self.next()? {
                        Tok::Ident(k) | Tok::Str(k) => k,
                        Tok::Num(n) => format_number(n),
                        _ => return None,
                    };
                    self.require(":")?;
                    pairs.push((key, self.expr(0)?));
                    if self.eat("}") {
                        return Some(Expr::Object(pairs));
                    }
                    self.require(",")?;
                    if self.eat("}") {
                        return Some(Expr::Object(pairs));
                    }
                }
            }
            _ => None,
        }
    }

    /// After `(`: whether the matching `)` is followed by `=>`.
    fn is_arrow_params(&self) -> bool {
        let mut depth = 1;
        let mut k = 0;
        while let Some(t) = self.peek_at(k) {
            match t {
                Tok::Punct("(") => depth += 1,
                Tok::Punct(")") => {
                    depth -= 1;
                    if depth == 0 {
                        return matches!(self.peek_at(k + 1), Some(Tok::Punct("=>")));
                    }
                }
                _ => {}
            }
            k += 1;
        }
        false
    }

    /// Skips a parameter list after `(`, through `)`. Parameters are not used.
    fn skip_params(&mut self) -> P<()> {
        let mut depth = 1;
        while depth > 0 {
            match self.next()? {
                Tok::Punct("(") => depth += 1,
                Tok::Punct(")") => depth -= 1,
                _ => {}
            }
        }
        Some(())
    }

    fn arrow_body(&mut self) -> P<Expr> {
        if matches!(self.peek(), Some(Tok::Punct("{"))) {
            self.pos += 1;
            return self.block();
        }
        let start = self.pos;
        let e = self.expr(0)?;
        let (first, last) = self.lines(start, self.pos);
        Some(Expr::Func(vec![Stmt {
            kind: StmtKind::Expr(e),
            first_line: first,
            last_line: last,
        }]))
    }

    /// A function body after `{`, through `}`.
    fn block(&mut self) -> P<Expr> {
        let start = self.pos;
        let mut depth = 1;
        while depth > 0 {
            match self.next()? {
                Tok::Punct("(" | "[" | "{") => depth += 1,
                Tok::Punct(")" | "]" | "}") => depth -= 1,
                _ => {}
            }
        }
        Some(Expr::Func(statements(&self.toks[start..self.pos - 1])))
    }

    fn lines(&self, start: usize, end: usize) -> (usize, usize) {
        let first = self.toks.get(start).map_or(0, |t| t.line);
        let last = self
            .toks
            .get(end.saturating_sub(1))
            .map_or(first, |t| t.line);
        (first, last)
    }
}

/// A number as JavaScript prints it (`1`, not `1.0`).
pub(super) fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<(StmtKind, usize, usize)> {
        parse_script(src)
            .unwrap()
            .into_iter()
            .map(|s| (s.kind, s.first_line, s.last_line))
            .collect()
    }

    fn ident(s: &str) -> Box<Expr> {
        Box::new(Expr::Ident(s.into()))
    }

    #[test]
    fn statements_split_at_semicolons_and_line_ends() {
        let got = kinds("var a = 1; a = 2\nfoo.bar(\n  'x',\n  3)\n// comment\n\nb\n  .c()");
        assert_eq!(got.len(), 4, "{got:#?}");
        assert_eq!(
            got[0].0,
            StmtKind::Decl(vec![("a".into(), Some(Expr::Num(1.0)))])
        );
        assert_eq!(
            got[1].0,
            StmtKind::Assign(Expr::Ident("a".into()), Expr::Num(2.0))
        );
        assert_eq!((got[2].1, got[2].2), (1, 3));
        assert_eq!(
            got[3].0,
            StmtKind::Expr(Expr::Call(
                Box::new(Expr::Member(ident("b"), "c".into())),
                vec![]
            ))
        );
        assert_eq!((got[3].1, got[3].2), (6, 7));
    }

    #[test]
    fn functions_keep_their_statements() {
        let src = "pm.test(\"ok\", function () {\n    pm.response.to.have.status(200);\n});\npm.test('t', () => pm.expect(1).to.eql(1));";
        let got = kinds(src);
        assert_eq!(got.len(), 2);
        let StmtKind::Expr(Expr::Call(_, args)) = &got[0].0 else {
            panic!("{got:?}")
        };
        let Expr::Func(body) = &args[1] else {
            panic!("{args:?}")
        };
        assert_eq!(body.len(), 1);
        assert_eq!((body[0].first_line, body[0].last_line), (1, 1));
        let StmtKind::Expr(Expr::Call(_, args)) = &got[1].0 else {
            panic!("{got:?}")
        };
        assert!(matches!(&args[1], Expr::Func(b) if b.len() == 1 && b[0].first_line == 3));
    }

    #[test]
    fn regexes_strings_and_unknown_syntax() {
        let got = kinds(r#"x.match(/flowId=([^&]+)/i)[1]; y = "a\"b" + 'c\n'; if (a) { b() }"#);
        assert!(matches!(&got[0].0, StmtKind::Expr(Expr::Index(..))));
        let StmtKind::Assign(_, Expr::Binary("+", l, _)) = &got[1].0 else {
            panic!("{got:?}")
        };
        assert_eq!(**l, Expr::Str("a\"b".into()));
        assert_eq!(got[2].0, StmtKind::Other);
        assert!(parse_script("x = 'unterminated").is_none());
        assert_eq!(kinds("a ? b : c")[0].0, StmtKind::Other);
    }
}
