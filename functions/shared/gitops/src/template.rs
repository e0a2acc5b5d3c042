//! Image Updater's git branch-name and commit-message templates: a small Go
//! `text/template` subset, parsed once and rendered without I/O.
//!
//! Image Updater renders two user-supplied Go templates: the write-back
//! branch name (`git-branch: main:image-updater-{{.SHA256}}`) and the commit
//! message (`git.commit-message-template`). [`Template::parse`] reads either
//! once; [`render_branch`] and [`render_commit_message`] execute it against
//! the data Image Updater exposes, and [`commit_message`] adds Image
//! Updater's fallback message on error.
//!
//! # Why hand-written
//!
//! The one Go-template crate, `gtmpl` 0.7.1, was tried here first: it renders
//! the default template, `range`, `if`, trim markers and `$`, but it never
//! returns on an unterminated action (`{{ .`), a denial of service for a
//! template that comes from an Application's annotation; it prints
//! `<no value>` for an unknown field where Go (and so Image Updater) fails;
//! its line numbers are off; and it is an edition-2018 crate pulling in
//! `thiserror` 1, `syn` 1 and `lazy_static`. The subset users write is
//! small, so this module parses and runs it itself (about 1,500 lines), with
//! limits on nesting, steps and output so no template can hang or exhaust
//! memory.
//!
//! # The subset
//!
//! - text, `{{ pipeline }}`, `{{/* comments */}}`, trim markers `{{- ` and
//!   ` -}}` (trimming all adjacent spaces, tabs, CRs and newlines, as Go);
//! - `.Field` and chains `.A.B` (on a map, `.key` is the value or
//!   `<no value>`), `.`, `$` and `$.Field`, variables `$x := …`, `$x = …`,
//!   `range $i, $e := …`;
//! - `if`/`else if`/`else`, `with`/`else with`/`else`, `range`/`else`, `end`;
//!   empty strings, lists and maps, `false` and `0` are false;
//! - string (`"…"`, `` `…` ``), integer and boolean literals, `( … )`,
//!   pipelines `a | f`;
//! - functions `index`, `len`, `eq`, `ne`, `not`, `and`, `or`.
//!
//! Values print as Go's `fmt` `%v` does (`[a b]`, `map[k:v]`, `{f1 f2}`).
//! An unknown field is an error naming the valid ones, as Go's struct
//! lookup is; syntax errors carry the line and column.

use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// Image Updater's default commit message template.
pub const DEFAULT_COMMIT_TEMPLATE: &str = "build: automatic update of {{ .AppName }}\n\n{{ range .AppChanges -}}\nupdates image {{ .Image }} tag '{{ .OldTag }}' to '{{ .NewTag }}'\n{{ end -}}\n";

/// The longest branch name [`render_branch`] returns, in bytes.
pub const MAX_BRANCH_LEN: usize = 255;

/// Deepest nesting of controls and parentheses a template may have.
const MAX_DEPTH: usize = 100;
/// Most nodes and range iterations one execution may take.
const MAX_STEPS: usize = 1_000_000;
/// Longest output one execution may produce, in bytes.
const MAX_OUTPUT: usize = 1 << 20;

/// One image update, as the templates see it (Image Updater's `ChangeEntry`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeEntry {
    /// The image's repository path without registry, e.g. `foo/bar`:
    /// `.Name` in branch templates, `.Image` in commit messages.
    pub name: String,
    /// The image's alias (`.Alias`, branch templates only); may be empty.
    pub alias: String,
    /// The tag before the update (`.OldTag`).
    pub old_tag: String,
    /// The tag after the update (`.NewTag`).
    pub new_tag: String,
    /// The change's labels (`.Labels`, commit messages only); may be empty.
    pub labels: BTreeMap<String, String>,
}

/// Where in the template text an error is: 1-based line and column, the
/// column counted in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl Position {
    fn at(src: &str, offset: usize) -> Self {
        let before = src.get(..offset).unwrap_or(src);
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Self { line, column }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// Why a template could not be parsed or executed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The text is not a valid template (parse time).
    #[error("template syntax error at {at}: {message}")]
    Syntax {
        /// Where: the start of the offending action, or of the unclosed one.
        at: Position,
        /// What is wrong.
        message: String,
    },
    /// A `.Field` that the value does not have (execution time).
    #[error(
        "template error at {at}: can't evaluate field {field} in {receiver}; valid fields: {}",
        .valid.join(", ")
    )]
    UnknownField {
        /// Where the field is used.
        at: Position,
        /// The field asked for.
        field: String,
        /// What it was asked of, e.g. `.AppChanges element`.
        receiver: &'static str,
        /// The fields that value has.
        valid: Vec<&'static str>,
    },
    /// Any other failure while executing (wrong argument types, limits).
    #[error("template error at {at}: {message}")]
    Execution {
        /// Where: the action or argument that failed.
        at: Position,
        /// What went wrong.
        message: String,
    },
}

/// A parsed template, ready to render any number of times.
#[derive(Debug, Clone)]
pub struct Template {
    source: String,
    nodes: Vec<Node>,
}

impl Template {
    /// Parses Go template text.
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        let items = lex(text)?;
        let mut parser = Parser {
            src: text,
            items: items.into_iter(),
            vars: vec!["$".to_string()],
            depth: 0,
        };
        let (nodes, stop) = parser.list()?;
        match stop {
            Stop::Eof => Ok(Self {
                source: text.to_string(),
                nodes,
            }),
            Stop::End { at } => Err(syntax(text, at, "unexpected {{end}}")),
            Stop::Else { at, .. } => Err(syntax(text, at, "unexpected {{else}}")),
        }
    }

    /// The text the template was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    fn execute(&self, data: &Value) -> Result<String, TemplateError> {
        let mut exec = Exec {
            src: &self.source,
            vars: vec![("$".to_string(), data.clone())],
            out: String::new(),
            steps: 0,
        };
        exec.walk(data, &self.nodes)?;
        Ok(exec.out)
    }
}

impl FromStr for Template {
    type Err = TemplateError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// The lowercase hex SHA-256 over `"<name>-<old>-<new>,"` for each change,
/// concatenated: the branch template's `.SHA256`.
pub fn sha256_of_changes(changes: &[ChangeEntry]) -> String {
    let mut hasher = Sha256::new();
    for c in changes {
        hasher.update(format!("{}-{}-{},", c.name, c.old_tag, c.new_tag).as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// Renders a branch-name template with `.Images` (each `{Name, Alias,
/// OldTag, NewTag}`), `.SHA256`, `.TargetKey`, `.AppNamespace` and
/// `.AppName`, cut to [`MAX_BRANCH_LEN`] bytes (backing off to a character
/// boundary). Image Updater uses no branch on error; so should the caller.
pub fn render_branch(
    template: &Template,
    changes: &[ChangeEntry],
    target_key: &str,
    app_namespace: &str,
    app_name: &str,
) -> Result<String, TemplateError> {
    let images = changes
        .iter()
        .map(|c| {
            Value::record(
                ".Images element",
                vec![
                    ("Name", Value::str(&c.name)),
                    ("Alias", Value::str(&c.alias)),
                    ("OldTag", Value::str(&c.old_tag)),
                    ("NewTag", Value::str(&c.new_tag)),
                ],
            )
        })
        .collect();
    let data = Value::record(
        "branch template data",
        vec![
            ("Images", Value::List(Rc::new(images))),
            ("SHA256", Value::str(&sha256_of_changes(changes))),
            ("TargetKey", Value::str(target_key)),
            ("AppNamespace", Value::str(app_namespace)),
            ("AppName", Value::str(app_name)),
        ],
    );
    let mut branch = template.execute(&data)?;
    if branch.len() > MAX_BRANCH_LEN {
        let mut end = MAX_BRANCH_LEN;
        while !branch.is_char_boundary(end) {
            end -= 1;
        }
        branch.truncate(end);
    }
    Ok(branch)
}

/// Renders a commit-message template with `.AppName` and `.AppChanges`
/// (each `{Image, OldTag, NewTag, Labels}`, `.Image` being the change's
/// `name`).
pub fn render_commit_message(
    template: &Template,
    app_name: &str,
    changes: &[ChangeEntry],
) -> Result<String, TemplateError> {
    let app_changes = changes
        .iter()
        .map(|c| {
            Value::record(
                ".AppChanges element",
                vec![
                    ("Image", Value::str(&c.name)),
                    ("OldTag", Value::str(&c.old_tag)),
                    ("NewTag", Value::str(&c.new_tag)),
                    ("Labels", Value::Map(Rc::new(c.labels.clone()))),
                ],
            )
        })
        .collect();
    let data = Value::record(
        "commit message template data",
        vec![
            ("AppName", Value::str(app_name)),
            ("AppChanges", Value::List(Rc::new(app_changes))),
        ],
    );
    template.execute(&data)
}

/// Image Updater's message when the commit template fails:
/// `build: update of application <app>`.
pub fn fallback_commit_message(app_name: &str) -> String {
    format!("build: update of application {app_name}")
}

/// A commit message and, when the template failed and the fallback was
/// used, why (for the caller to log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitMessage {
    /// The message to commit with.
    pub message: String,
    /// The template's parse or execution error, if the fallback was used.
    pub error: Option<TemplateError>,
}

/// The commit message as Image Updater makes it: `template` (or
/// [`DEFAULT_COMMIT_TEMPLATE`] when `None`) rendered, or
/// [`fallback_commit_message`] with the error when it fails to parse or
/// execute.
pub fn commit_message(
    template: Option<&str>,
    app_name: &str,
    changes: &[ChangeEntry],
) -> CommitMessage {
    let text = template.unwrap_or(DEFAULT_COMMIT_TEMPLATE);
    match Template::parse(text).and_then(|t| render_commit_message(&t, app_name, changes)) {
        Ok(message) => CommitMessage {
            message,
            error: None,
        },
        Err(error) => CommitMessage {
            message: fallback_commit_message(app_name),
            error: Some(error),
        },
    }
}

fn syntax(src: &str, at: usize, message: impl Into<String>) -> TemplateError {
    TemplateError::Syntax {
        at: Position::at(src, at),
        message: message.into(),
    }
}

/// `{{kw}}`, for messages.
fn tag(kw: &str) -> String {
    format!("{{{{{kw}}}}}")
}

// ---------------------------------------------------------------- lexer

const SPACE_CHARS: [char; 4] = [' ', '\t', '\r', '\n'];

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Dot,
    /// `.A.B`: one or more field names.
    Field(Vec<String>),
    /// `$name.A.B` (`$` alone is the root).
    Var(String, Vec<String>),
    Ident(String),
    Str(String),
    Int(i64),
    LParen,
    RParen,
    Pipe,
    Comma,
    Declare,
    Assign,
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Dot => f.write_str("."),
            Tok::Field(names) => write!(f, ".{}", names.join(".")),
            Tok::Var(name, fields) if fields.is_empty() => f.write_str(name),
            Tok::Var(name, fields) => write!(f, "{name}.{}", fields.join(".")),
            Tok::Ident(name) => f.write_str(name),
            Tok::Str(s) => write!(f, "{s:?}"),
            Tok::Int(i) => write!(f, "{i}"),
            Tok::LParen => f.write_str("\"(\""),
            Tok::RParen => f.write_str("\")\""),
            Tok::Pipe => f.write_str("\"|\""),
            Tok::Comma => f.write_str("\",\""),
            Tok::Declare => f.write_str("\":=\""),
            Tok::Assign => f.write_str("\"=\""),
        }
    }
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    at: usize,
    /// Whether whitespace precedes the token inside its action.
    spaced: bool,
}

#[derive(Debug)]
enum Item {
    Text(String),
    Action { at: usize, tokens: Vec<Token> },
}

/// The right delimiter at `p`, if any: where it ends and whether it trims.
fn right_delim(b: &[u8], p: usize) -> Option<(usize, bool)> {
    let rest = b.get(p..)?;
    if rest.len() >= 4 && is_space(rest[0]) && rest[1] == b'-' && rest[2..].starts_with(b"}}") {
        Some((p + 4, true))
    } else if rest.starts_with(b"}}") {
        Some((p + 2, false))
    } else {
        None
    }
}

/// Whether an identifier, field, variable or dot may end at `p`.
fn at_terminator(src: &str, p: usize) -> bool {
    match src.get(p..).and_then(|s| s.chars().next()) {
        None => true,
        Some(c) if c.is_ascii() && is_space(c as u8) => true,
        Some('.' | ',' | '|' | ':' | ')' | '(') => true,
        Some(_) => src[p..].starts_with("}}"),
    }
}

fn lex(src: &str) -> Result<Vec<Item>, TemplateError> {
    let b = src.as_bytes();
    let mut items = Vec::new();
    let mut pos = 0;
    while pos < src.len() {
        let Some(rel) = src[pos..].find("{{") else {
            items.push(Item::Text(src[pos..].to_string()));
            break;
        };
        let open = pos + rel;
        let mut text = &src[pos..open];
        let mut p = open + 2;
        if b.get(p) == Some(&b'-') && b.get(p + 1).is_some_and(|c| is_space(*c)) {
            text = text.trim_end_matches(SPACE_CHARS);
            p += 2;
        }
        if !text.is_empty() {
            items.push(Item::Text(text.to_string()));
        }
        let (close, trim) = if src[p..].starts_with("/*") {
            let Some(rel) = src[p + 2..].find("*/") else {
                return Err(syntax(src, open, "unclosed comment"));
            };
            right_delim(b, p + 2 + rel + 2)
                .ok_or_else(|| syntax(src, open, "comment ends before closing delimiter"))?
        } else {
            let (tokens, close, trim) = lex_action(src, open, p)?;
            items.push(Item::Action { at: open, tokens });
            (close, trim)
        };
        pos = close;
        if trim {
            pos = src.len() - src[pos..].trim_start_matches(SPACE_CHARS).len();
        }
    }
    Ok(items)
}

/// The tokens of the action opened at `open`, from `start` to its right
/// delimiter; returns them, where the delimiter ends and whether it trims.
fn lex_action(
    src: &str,
    open: usize,
    start: usize,
) -> Result<(Vec<Token>, usize, bool), TemplateError> {
    let b = src.as_bytes();
    let mut p = start;
    let mut spaced = false;
    let mut tokens = Vec::new();
    loop {
        if let Some((close, trim)) = right_delim(b, p) {
            return Ok((tokens, close, trim));
        }
        let Some(c) = src[p..].chars().next() else {
            return Err(syntax(
                src,
                open,
                "unclosed action: no closing }} before the end of the template",
            ));
        };
        let at = p;
        let next = src[p + c.len_utf8()..].chars().next();
        let tok = match c {
            ' ' | '\t' | '\r' | '\n' => {
                spaced = true;
                p += 1;
                continue;
            }
            '"' => {
                let (s, end) = lex_quoted(src, p)?;
                p = end;
                Tok::Str(s)
            }
            '`' => {
                let Some(rel) = src[p + 1..].find('`') else {
                    return Err(syntax(src, at, "unterminated raw quoted string"));
                };
                let s = src[p + 1..p + 1 + rel].to_string();
                p += rel + 2;
                Tok::Str(s)
            }
            '.' if next.is_some_and(|n| n.is_ascii_digit()) => {
                return Err(syntax(src, at, "only integer numbers are supported"));
            }
            '.' if next.is_some_and(is_ident_start) => {
                let names = lex_chain(src, &mut p);
                check_terminator(src, p)?;
                Tok::Field(names)
            }
            '.' => {
                p += 1;
                check_terminator(src, p)?;
                Tok::Dot
            }
            '$' => {
                p += 1;
                let len = src[p..]
                    .find(|c: char| !is_alnum(c))
                    .unwrap_or(src.len() - p);
                let name = format!("${}", &src[p..p + len]);
                p += len;
                let fields = lex_chain(src, &mut p);
                check_terminator(src, p)?;
                Tok::Var(name, fields)
            }
            '(' | ')' | '|' | ',' | '=' => {
                p += 1;
                match c {
                    '(' => Tok::LParen,
                    ')' => Tok::RParen,
                    '|' => Tok::Pipe,
                    ',' => Tok::Comma,
                    _ => Tok::Assign,
                }
            }
            ':' if next == Some('=') => {
                p += 2;
                Tok::Declare
            }
            ':' => return Err(syntax(src, at, "expected :=")),
            '-' | '+' | '0'..='9'
                if c.is_ascii_digit() || next.is_some_and(|n| n.is_ascii_digit()) =>
            {
                let digits = src[p + 1..]
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(src.len() - p - 1);
                let text = &src[p..p + 1 + digits];
                p += 1 + digits;
                if src[p..]
                    .chars()
                    .next()
                    .is_some_and(|c| is_alnum(c) || c == '.')
                {
                    return Err(syntax(
                        src,
                        at,
                        "bad number syntax: only decimal integers are supported",
                    ));
                }
                let n = text
                    .parse::<i64>()
                    .map_err(|_| syntax(src, at, format!("number {text} is out of range")))?;
                Tok::Int(n)
            }
            c if is_ident_start(c) => {
                let len = src[p..]
                    .find(|c: char| !is_alnum(c))
                    .unwrap_or(src.len() - p);
                let name = src[p..p + len].to_string();
                p += len;
                check_terminator(src, p)?;
                Tok::Ident(name)
            }
            other => {
                return Err(syntax(
                    src,
                    at,
                    format!("unrecognized character in action: {other:?}"),
                ));
            }
        };
        tokens.push(Token { tok, at, spaced });
        spaced = false;
    }
}

fn check_terminator(src: &str, p: usize) -> Result<(), TemplateError> {
    if at_terminator(src, p) {
        Ok(())
    } else {
        let c = src[p..].chars().next().unwrap_or(' ');
        Err(syntax(src, p, format!("bad character {c:?}")))
    }
}

/// `.A.B…` from `p` (at a dot or not): the names, advancing `p`.
fn lex_chain(src: &str, p: &mut usize) -> Vec<String> {
    let mut names = Vec::new();
    while src[*p..].starts_with('.') && src[*p + 1..].chars().next().is_some_and(is_ident_start) {
        let start = *p + 1;
        let len = src[start..]
            .find(|c: char| !is_alnum(c))
            .unwrap_or(src.len() - start);
        names.push(src[start..start + len].to_string());
        *p = start + len;
    }
    names
}

/// A double-quoted string at `start` with Go's escapes: its value and where
/// it ends.
fn lex_quoted(src: &str, start: usize) -> Result<(String, usize), TemplateError> {
    let unterminated = || syntax(src, start, "unterminated quoted string");
    let mut out = String::new();
    let mut chars = src[start + 1..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, start + 1 + i + 1)),
            '\n' => return Err(unterminated()),
            '\\' => {
                let (_, e) = chars.next().ok_or_else(unterminated)?;
                let simple = match e {
                    'a' => Some('\u{7}'),
                    'b' => Some('\u{8}'),
                    'f' => Some('\u{c}'),
                    'n' => Some('\n'),
                    'r' => Some('\r'),
                    't' => Some('\t'),
                    'v' => Some('\u{b}'),
                    '\\' => Some('\\'),
                    '"' => Some('"'),
                    _ => None,
                };
                if let Some(s) = simple {
                    out.push(s);
                    continue;
                }
                let (digits, radix) = match e {
                    'x' => (2, 16),
                    'u' => (4, 16),
                    'U' => (8, 16),
                    '0'..='7' => (2, 8),
                    _ => {
                        return Err(syntax(
                            src,
                            start + 1 + i,
                            format!("unknown escape sequence \\{e}"),
                        ));
                    }
                };
                let mut code = if radix == 8 { e.to_digit(8) } else { Some(0) };
                for _ in 0..digits {
                    let d = chars.next().and_then(|(_, d)| d.to_digit(radix));
                    code = code.zip(d).map(|(c, d)| c * radix + d);
                }
                // \x and octal escapes are bytes: only ASCII keeps the text
                // valid UTF-8.
                let code = if matches!(e, 'u' | 'U') {
                    code
                } else {
                    code.filter(|c| *c < 0x80)
                };
                let ch = code.and_then(char::from_u32).ok_or_else(|| {
                    syntax(src, start + 1 + i, "invalid or unsupported escape sequence")
                })?;
                out.push(ch);
            }
            c => out.push(c),
        }
    }
    Err(unterminated())
}

// ---------------------------------------------------------------- parser

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Control {
    If,
    With,
    Range,
}

impl Control {
    fn keyword(self) -> &'static str {
        match self {
            Control::If => "if",
            Control::With => "with",
            Control::Range => "range",
        }
    }
}

#[derive(Debug, Clone)]
enum Node {
    Text(String),
    Action {
        at: usize,
        pipe: Pipeline,
    },
    Control {
        kind: Control,
        at: usize,
        pipe: Pipeline,
        body: Vec<Node>,
        otherwise: Vec<Node>,
    },
}

#[derive(Debug, Clone)]
struct Pipeline {
    decl: Vec<String>,
    assign: bool,
    cmds: Vec<Command>,
}

#[derive(Debug, Clone)]
struct Command {
    args: Vec<Operand>,
}

#[derive(Debug, Clone)]
struct Operand {
    at: usize,
    term: Term,
}

#[derive(Debug, Clone)]
enum Term {
    Dot,
    Field(Vec<String>),
    Var(String, Vec<String>),
    Str(String),
    Int(i64),
    Bool(bool),
    Func(Func),
    Paren(Box<Pipeline>, Vec<String>),
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Term::Dot => f.write_str("."),
            Term::Field(names) => write!(f, ".{}", names.join(".")),
            Term::Var(name, fields) if fields.is_empty() => f.write_str(name),
            Term::Var(name, fields) => write!(f, "{name}.{}", fields.join(".")),
            Term::Str(s) => write!(f, "{s:?}"),
            Term::Int(i) => write!(f, "{i}"),
            Term::Bool(b) => write!(f, "{b}"),
            Term::Func(func) => f.write_str(func.name()),
            Term::Paren(..) => f.write_str("(…)"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Func {
    And,
    Eq,
    Index,
    Len,
    Ne,
    Not,
    Or,
}

const FUNCS: [(&str, Func); 7] = [
    ("and", Func::And),
    ("eq", Func::Eq),
    ("index", Func::Index),
    ("len", Func::Len),
    ("ne", Func::Ne),
    ("not", Func::Not),
    ("or", Func::Or),
];

impl Func {
    fn name(self) -> &'static str {
        FUNCS
            .iter()
            .find(|(_, f)| *f == self)
            .map_or("?", |(n, _)| n)
    }
}

/// What ended a list of nodes.
enum Stop {
    Eof,
    End { at: usize },
    Else { at: usize, rest: Vec<Token> },
}

struct Parser<'s> {
    src: &'s str,
    items: std::vec::IntoIter<Item>,
    /// Variables in scope, innermost last.
    vars: Vec<String>,
    depth: usize,
}

/// Tokens of one action being parsed.
struct Cursor<'a> {
    toks: &'a [Token],
    i: usize,
    /// Where errors at the end of the action point: the action's start.
    end_at: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<&'a Token> {
        self.toks.get(self.i)
    }

    fn next(&mut self) -> Option<&'a Token> {
        let t = self.toks.get(self.i);
        self.i += 1;
        t
    }

    fn at(&self) -> usize {
        self.peek().map_or(self.end_at, |t| t.at)
    }
}

impl Parser<'_> {
    fn err(&self, at: usize, message: impl Into<String>) -> TemplateError {
        syntax(self.src, at, message)
    }

    fn enter(&mut self, at: usize) -> Result<(), TemplateError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err(
                at,
                format!("nesting deeper than {MAX_DEPTH} levels is not supported"),
            ));
        }
        Ok(())
    }

    fn list(&mut self) -> Result<(Vec<Node>, Stop), TemplateError> {
        let mut nodes = Vec::new();
        while let Some(item) = self.items.next() {
            let (at, tokens) = match item {
                Item::Text(t) => {
                    nodes.push(Node::Text(t));
                    continue;
                }
                Item::Action { at, tokens } => (at, tokens),
            };
            let keyword = match tokens.first().map(|t| &t.tok) {
                Some(Tok::Ident(k)) => k.as_str(),
                _ => "",
            };
            match keyword {
                "end" => {
                    if let Some(extra) = tokens.get(1) {
                        return Err(self.err(extra.at, format!("unexpected {} in end", extra.tok)));
                    }
                    return Ok((nodes, Stop::End { at }));
                }
                "else" => {
                    let rest = tokens.get(1..).map(<[Token]>::to_vec).unwrap_or_default();
                    return Ok((nodes, Stop::Else { at, rest }));
                }
                "if" | "with" | "range" => {
                    let kind = match keyword {
                        "if" => Control::If,
                        "with" => Control::With,
                        _ => Control::Range,
                    };
                    let rest = tokens.get(1..).unwrap_or_default();
                    nodes.push(self.control(kind, at, rest)?);
                }
                "define" | "template" | "block" | "break" | "continue" => {
                    return Err(self.err(at, format!("{} is not supported", tag(keyword))));
                }
                _ => {
                    let mut cur = Cursor {
                        toks: &tokens,
                        i: 0,
                        end_at: at,
                    };
                    let pipe = self.pipeline(&mut cur, "command", false)?;
                    nodes.push(Node::Action { at, pipe });
                }
            }
        }
        Ok((nodes, Stop::Eof))
    }

    fn control(
        &mut self,
        kind: Control,
        at: usize,
        tokens: &[Token],
    ) -> Result<Node, TemplateError> {
        self.enter(at)?;
        let mark = self.vars.len();
        let mut cur = Cursor {
            toks: tokens,
            i: 0,
            end_at: at,
        };
        let pipe = self.pipeline(&mut cur, kind.keyword(), false)?;
        let missing_end = |p: &Self| {
            p.err(
                at,
                format!(
                    "{} has no matching {{{{end}}}} before the end of the template",
                    tag(kind.keyword())
                ),
            )
        };
        let (body, stop) = self.list()?;
        let otherwise = match stop {
            Stop::Eof => return Err(missing_end(self)),
            Stop::End { .. } => Vec::new(),
            Stop::Else { at: else_at, rest } => match rest.first().map(|t| &t.tok) {
                None => {
                    let (otherwise, stop) = self.list()?;
                    match stop {
                        Stop::End { .. } => otherwise,
                        Stop::Eof => return Err(missing_end(self)),
                        Stop::Else { at, .. } => {
                            return Err(self.err(at, "expected {{end}}; found a second {{else}}"));
                        }
                    }
                }
                Some(Tok::Ident(k)) if k == kind.keyword() && kind != Control::Range => {
                    vec![self.control(kind, else_at, rest.get(1..).unwrap_or_default())?]
                }
                Some(other) => {
                    return Err(self.err(
                        else_at,
                        format!("unexpected {other} after else in {}", tag(kind.keyword())),
                    ));
                }
            },
        };
        self.vars.truncate(mark);
        self.depth -= 1;
        Ok(Node::Control {
            kind,
            at,
            pipe,
            body,
            otherwise,
        })
    }

    /// `[decl] command ("|" command)*`, up to the end of the tokens or, in
    /// parentheses, a right paren (left for the caller).
    fn pipeline(
        &mut self,
        cur: &mut Cursor<'_>,
        context: &str,
        in_paren: bool,
    ) -> Result<Pipeline, TemplateError> {
        let mut decl = Vec::new();
        let mut assign = false;
        if let Some(Token {
            tok: Tok::Var(name, fields),
            at,
            ..
        }) = cur.peek()
            && fields.is_empty()
        {
            let tok = |i: usize| cur.toks.get(cur.i + i).map(|t| &t.tok);
            let second = match (tok(1), tok(2), tok(3)) {
                (Some(Tok::Declare | Tok::Assign), ..) => Some(None),
                (Some(Tok::Comma), Some(Tok::Var(n2, f2)), Some(Tok::Declare | Tok::Assign))
                    if f2.is_empty() =>
                {
                    Some(Some(n2.clone()))
                }
                _ => None,
            };
            if let Some(second) = second {
                if second.is_some() && context != "range" {
                    return Err(self.err(*at, format!("too many declarations in {context}")));
                }
                decl.push(name.clone());
                cur.i += if second.is_some() { 3 } else { 1 };
                decl.extend(second);
                assign = cur.next().is_some_and(|t| t.tok == Tok::Assign);
                for v in &decl {
                    if v == "$" {
                        return Err(self.err(*at, "cannot assign to $"));
                    }
                    if assign && !self.vars.contains(v) {
                        return Err(self.err(*at, format!("undefined variable {v:?}")));
                    }
                }
            }
        }
        let mut cmds = Vec::new();
        loop {
            let at = cur.at();
            let mut args = Vec::new();
            while let Some(t) = cur.peek() {
                match t.tok {
                    Tok::Pipe => break,
                    Tok::RParen if in_paren => break,
                    _ => args.push(self.operand(cur)?),
                }
            }
            if args.is_empty() {
                return Err(self.err(at, format!("missing value for {context}")));
            }
            if !cmds.is_empty() && !matches!(args[0].term, Term::Func(_)) {
                return Err(self.err(
                    args[0].at,
                    format!("non executable command in pipeline: {}", args[0].term),
                ));
            }
            cmds.push(Command { args });
            match cur.peek().map(|t| &t.tok) {
                Some(Tok::Pipe) => {
                    cur.next();
                }
                _ => break,
            }
        }
        if !assign {
            self.vars.extend(decl.iter().cloned());
        }
        Ok(Pipeline { decl, assign, cmds })
    }

    fn operand(&mut self, cur: &mut Cursor<'_>) -> Result<Operand, TemplateError> {
        let at = cur.at();
        let Some(t) = cur.next() else {
            return Err(self.err(at, "missing operand"));
        };
        let term = match &t.tok {
            Tok::Dot => Term::Dot,
            Tok::Field(names) => Term::Field(names.clone()),
            Tok::Var(name, fields) => {
                if !self.vars.contains(name) {
                    return Err(self.err(at, format!("undefined variable {name:?}")));
                }
                Term::Var(name.clone(), fields.clone())
            }
            Tok::Str(s) => Term::Str(s.clone()),
            Tok::Int(i) => Term::Int(*i),
            Tok::Ident(k) if k == "true" || k == "false" => Term::Bool(k == "true"),
            Tok::Ident(k)
                if matches!(
                    k.as_str(),
                    "if" | "else"
                        | "end"
                        | "range"
                        | "with"
                        | "nil"
                        | "define"
                        | "template"
                        | "block"
                        | "break"
                        | "continue"
                ) =>
            {
                return Err(self.err(at, format!("unexpected {k} in command")));
            }
            Tok::Ident(name) => {
                let Some((_, f)) = FUNCS.iter().find(|(n, _)| n == name) else {
                    let known: Vec<&str> = FUNCS.iter().map(|(n, _)| *n).collect();
                    return Err(self.err(
                        at,
                        format!(
                            "function {name:?} not defined (supported: {})",
                            known.join(", ")
                        ),
                    ));
                };
                Term::Func(*f)
            }
            Tok::LParen => {
                self.enter(at)?;
                let pipe = self.pipeline(cur, "parenthesized pipeline", true)?;
                if cur.next().map(|t| &t.tok) != Some(&Tok::RParen) {
                    return Err(self.err(at, "unclosed left paren"));
                }
                self.depth -= 1;
                let mut fields = Vec::new();
                if let Some(Token {
                    tok: Tok::Field(names),
                    spaced: false,
                    ..
                }) = cur.peek()
                {
                    fields.clone_from(names);
                    cur.next();
                }
                Term::Paren(Box::new(pipe), fields)
            }
            other => return Err(self.err(at, format!("unexpected {other} in operand"))),
        };
        if let Some(next) = cur.peek()
            && !next.spaced
            && matches!(next.tok, Tok::Field(_))
        {
            return Err(self.err(
                next.at,
                format!("unexpected {} after term {term}", next.tok),
            ));
        }
        Ok(Operand { at, term })
    }
}

// ---------------------------------------------------------------- values

#[derive(Debug, Clone)]
enum Value {
    /// Go's invalid value: a missing map key read as a field.
    Missing,
    Bool(bool),
    Int(i64),
    Str(Rc<str>),
    List(Rc<Vec<Value>>),
    Map(Rc<BTreeMap<String, String>>),
    Record(Rc<Record>),
}

/// A Go struct: named fields in declaration order.
#[derive(Debug)]
struct Record {
    what: &'static str,
    fields: Vec<(&'static str, Value)>,
}

impl Value {
    fn str(s: &str) -> Self {
        Value::Str(Rc::from(s))
    }

    fn record(what: &'static str, fields: Vec<(&'static str, Value)>) -> Self {
        Value::Record(Rc::new(Record { what, fields }))
    }

    fn type_name(&self) -> &'static str {
        match self {
            Value::Missing => "missing value",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Map(_) => "map",
            Value::Record(r) => r.what,
        }
    }

    /// Go's `isTrue`.
    fn is_true(&self) -> bool {
        match self {
            Value::Missing => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Str(s) => !s.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.is_empty(),
            Value::Record(_) => true,
        }
    }
}

/// Go's `fmt` `%v`; a missing value prints as `<no value>`.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn join<T>(
            f: &mut fmt::Formatter<'_>,
            items: impl Iterator<Item = T>,
            mut each: impl FnMut(&mut fmt::Formatter<'_>, T) -> fmt::Result,
        ) -> fmt::Result {
            for (i, item) in items.enumerate() {
                if i > 0 {
                    f.write_str(" ")?;
                }
                each(f, item)?;
            }
            Ok(())
        }
        match self {
            Value::Missing => f.write_str("<no value>"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Str(s) => f.write_str(s),
            Value::List(l) => {
                f.write_str("[")?;
                join(f, l.iter(), |f, v| write!(f, "{v}"))?;
                f.write_str("]")
            }
            Value::Map(m) => {
                f.write_str("map[")?;
                join(f, m.iter(), |f, (k, v)| write!(f, "{k}:{v}"))?;
                f.write_str("]")
            }
            Value::Record(r) => {
                f.write_str("{")?;
                join(f, r.fields.iter(), |f, (_, v)| write!(f, "{v}"))?;
                f.write_str("}")
            }
        }
    }
}

// ---------------------------------------------------------------- execution

struct Exec<'t> {
    src: &'t str,
    vars: Vec<(String, Value)>,
    out: String,
    steps: usize,
}

impl Exec<'_> {
    fn err(&self, at: usize, message: impl Into<String>) -> TemplateError {
        TemplateError::Execution {
            at: Position::at(self.src, at),
            message: message.into(),
        }
    }

    fn step(&mut self, at: usize) -> Result<(), TemplateError> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return Err(self.err(at, format!("execution stopped after {MAX_STEPS} steps")));
        }
        Ok(())
    }

    fn write(&mut self, at: usize, text: &str) -> Result<(), TemplateError> {
        if self.out.len() + text.len() > MAX_OUTPUT {
            return Err(self.err(at, format!("output exceeds {MAX_OUTPUT} bytes")));
        }
        self.out.push_str(text);
        Ok(())
    }

    fn walk(&mut self, dot: &Value, nodes: &[Node]) -> Result<(), TemplateError> {
        for node in nodes {
            match node {
                Node::Text(text) => {
                    self.step(0)?;
                    self.write(0, text)?;
                }
                Node::Action { at, pipe } => {
                    self.step(*at)?;
                    let value = self.pipeline(dot, pipe)?;
                    if pipe.decl.is_empty() {
                        self.write(*at, &value.to_string())?;
                    }
                }
                Node::Control {
                    kind,
                    at,
                    pipe,
                    body,
                    otherwise,
                } => {
                    self.step(*at)?;
                    let mark = self.vars.len();
                    let value = self.pipeline(dot, pipe)?;
                    match kind {
                        Control::If | Control::With => {
                            if !value.is_true() {
                                self.walk(dot, otherwise)?;
                            } else if *kind == Control::With {
                                self.walk(&value, body)?;
                            } else {
                                self.walk(dot, body)?;
                            }
                        }
                        Control::Range => self.range(*at, dot, pipe, &value, body, otherwise)?,
                    }
                    self.vars.truncate(mark);
                }
            }
        }
        Ok(())
    }

    fn range(
        &mut self,
        at: usize,
        dot: &Value,
        pipe: &Pipeline,
        value: &Value,
        body: &[Node],
        otherwise: &[Node],
    ) -> Result<(), TemplateError> {
        let entries: Vec<(Value, Value)> = match value {
            Value::List(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| (Value::Int(i64::try_from(i).unwrap_or(i64::MAX)), v.clone()))
                .collect(),
            Value::Map(m) => m
                .iter()
                .map(|(k, v)| (Value::str(k), Value::str(v)))
                .collect(),
            Value::Missing => Vec::new(),
            other => {
                return Err(self.err(at, format!("range can't iterate over {other}")));
            }
        };
        if entries.is_empty() {
            return self.walk(dot, otherwise);
        }
        let mark = self.vars.len();
        for (key, elem) in entries {
            self.step(at)?;
            match (pipe.decl.as_slice(), pipe.assign) {
                ([], _) => {}
                ([v], true) => self.set_var(at, v, elem.clone())?,
                ([k, v, ..], true) => {
                    self.set_var(at, k, key)?;
                    self.set_var(at, v, elem.clone())?;
                }
                (decl, false) => {
                    // The declared variables are the topmost; the element is
                    // the last, the key the one before.
                    if let Some(slot) = mark.checked_sub(1).and_then(|i| self.vars.get_mut(i)) {
                        slot.1 = elem.clone();
                    }
                    if decl.len() == 2
                        && let Some(slot) = mark.checked_sub(2).and_then(|i| self.vars.get_mut(i))
                    {
                        slot.1 = key;
                    }
                }
            }
            self.walk(&elem, body)?;
            self.vars.truncate(mark);
        }
        Ok(())
    }

    fn set_var(&mut self, at: usize, name: &str, value: Value) -> Result<(), TemplateError> {
        match self.vars.iter_mut().rev().find(|(n, _)| n == name) {
            Some(slot) => {
                slot.1 = value;
                Ok(())
            }
            None => Err(self.err(at, format!("undefined variable {name:?}"))),
        }
    }

    fn pipeline(&mut self, dot: &Value, pipe: &Pipeline) -> Result<Value, TemplateError> {
        let mut value = None;
        for cmd in &pipe.cmds {
            value = Some(self.command(dot, cmd, value)?);
        }
        let value = value.unwrap_or(Value::Missing);
        for name in &pipe.decl {
            if pipe.assign {
                let at = pipe
                    .cmds
                    .first()
                    .and_then(|c| c.args.first())
                    .map_or(0, |a| a.at);
                self.set_var(at, name, value.clone())?;
            } else {
                self.vars.push((name.clone(), value.clone()));
            }
        }
        Ok(value)
    }

    fn command(
        &mut self,
        dot: &Value,
        cmd: &Command,
        last: Option<Value>,
    ) -> Result<Value, TemplateError> {
        let Some((first, args)) = cmd.args.split_first() else {
            return Ok(Value::Missing);
        };
        if let Term::Func(f) = first.term {
            return self.call(dot, f, first.at, args, last);
        }
        if !args.is_empty() || last.is_some() {
            let message = match first.term {
                Term::Field(_) | Term::Var(..) | Term::Paren(..) => {
                    format!(
                        "{} has arguments but cannot be invoked as function",
                        first.term
                    )
                }
                _ => format!("can't give argument to non-function {}", first.term),
            };
            return Err(self.err(first.at, message));
        }
        self.operand(dot, first)
    }

    fn operand(&mut self, dot: &Value, op: &Operand) -> Result<Value, TemplateError> {
        match &op.term {
            Term::Dot => Ok(dot.clone()),
            Term::Field(names) => self.chain(op.at, dot.clone(), names),
            Term::Var(name, fields) => {
                let Some((_, value)) = self.vars.iter().rev().find(|(n, _)| n == name) else {
                    return Err(self.err(op.at, format!("undefined variable {name:?}")));
                };
                let value = value.clone();
                self.chain(op.at, value, fields)
            }
            Term::Str(s) => Ok(Value::str(s)),
            Term::Int(i) => Ok(Value::Int(*i)),
            Term::Bool(b) => Ok(Value::Bool(*b)),
            Term::Func(f) => self.call(dot, *f, op.at, &[], None),
            Term::Paren(pipe, fields) => {
                let value = self.pipeline(dot, pipe)?;
                self.chain(op.at, value, fields)
            }
        }
    }

    fn chain(&self, at: usize, mut value: Value, names: &[String]) -> Result<Value, TemplateError> {
        for name in names {
            value = match &value {
                Value::Record(r) => match r.fields.iter().find(|(n, _)| n == name) {
                    Some((_, v)) => v.clone(),
                    None => {
                        return Err(TemplateError::UnknownField {
                            at: Position::at(self.src, at),
                            field: name.clone(),
                            receiver: r.what,
                            valid: r.fields.iter().map(|(n, _)| *n).collect(),
                        });
                    }
                },
                Value::Map(m) => m.get(name).map_or(Value::Missing, |v| Value::str(v)),
                other => {
                    return Err(self.err(
                        at,
                        format!("can't evaluate field {name} in type {}", other.type_name()),
                    ));
                }
            };
        }
        Ok(value)
    }

    fn call(
        &mut self,
        dot: &Value,
        f: Func,
        at: usize,
        args: &[Operand],
        last: Option<Value>,
    ) -> Result<Value, TemplateError> {
        if matches!(f, Func::And | Func::Or) {
            if args.is_empty() && last.is_none() {
                return Err(self.err(
                    at,
                    format!(
                        "wrong number of args for {}: want at least 1 got 0",
                        f.name()
                    ),
                ));
            }
            // Short-circuits as Go does: the first false (and) or true (or)
            // argument, else the last.
            let want = f == Func::Or;
            let mut result = Value::Missing;
            for arg in args {
                result = self.operand(dot, arg)?;
                if result.is_true() == want {
                    return Ok(result);
                }
            }
            return Ok(last.unwrap_or(result));
        }
        let mut values = Vec::with_capacity(args.len() + 1);
        for arg in args {
            values.push(self.operand(dot, arg)?);
        }
        values.extend(last);
        builtin(f, &values).map_err(|m| self.err(at, format!("error calling {}: {m}", f.name())))
    }
}

fn want_args(values: &[Value], n: usize) -> Result<(), String> {
    if values.len() == n {
        Ok(())
    } else {
        Err(format!(
            "wrong number of args: want {n} got {}",
            values.len()
        ))
    }
}

fn builtin(f: Func, values: &[Value]) -> Result<Value, String> {
    match f {
        Func::Index => {
            let Some((item, indices)) = values.split_first() else {
                return Err("wrong number of args: want at least 1 got 0".to_string());
            };
            let mut item = item.clone();
            for index in indices {
                item = match (&item, index) {
                    (Value::Map(m), Value::Str(k)) => {
                        Value::str(m.get(&**k).map_or("", String::as_str))
                    }
                    (Value::Map(_), other) => {
                        return Err(format!(
                            "value has type {}; should be string",
                            other.type_name()
                        ));
                    }
                    (Value::List(l), Value::Int(i)) => usize::try_from(*i)
                        .ok()
                        .and_then(|i| l.get(i))
                        .cloned()
                        .ok_or_else(|| format!("index out of range: {i}"))?,
                    (Value::List(_), other) => {
                        return Err(format!(
                            "cannot index slice/array with type {}",
                            other.type_name()
                        ));
                    }
                    (other, _) => {
                        return Err(format!("can't index item of type {}", other.type_name()));
                    }
                };
            }
            Ok(item)
        }
        Func::Len => {
            want_args(values, 1)?;
            let n = match &values[0] {
                Value::Str(s) => s.len(),
                Value::List(l) => l.len(),
                Value::Map(m) => m.len(),
                other => return Err(format!("len of type {}", other.type_name())),
            };
            Ok(Value::Int(i64::try_from(n).unwrap_or(i64::MAX)))
        }
        Func::Not => {
            want_args(values, 1)?;
            Ok(Value::Bool(!values[0].is_true()))
        }
        Func::Eq => {
            let Some((first, rest)) = values.split_first().filter(|(_, r)| !r.is_empty()) else {
                return Err("missing argument for comparison".to_string());
            };
            for other in rest {
                if equal(first, other)? {
                    return Ok(Value::Bool(true));
                }
            }
            Ok(Value::Bool(false))
        }
        Func::Ne => {
            want_args(values, 2)?;
            Ok(Value::Bool(!equal(&values[0], &values[1])?))
        }
        // Handled in `call` for short-circuiting.
        Func::And | Func::Or => Ok(values.last().cloned().unwrap_or(Value::Missing)),
    }
}

/// Go's `eq` on two values.
fn equal(a: &Value, b: &Value) -> Result<bool, String> {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => Ok(x == y),
        (Value::Int(x), Value::Int(y)) => Ok(x == y),
        (Value::Bool(x), Value::Bool(y)) => Ok(x == y),
        (Value::Missing, Value::Missing) => Ok(true),
        (Value::Missing, _) | (_, Value::Missing) => Ok(false),
        (Value::List(_) | Value::Map(_) | Value::Record(_), _)
        | (_, Value::List(_) | Value::Map(_) | Value::Record(_)) => Err(format!(
            "non-comparable types {} and {}",
            a.type_name(),
            b.type_name()
        )),
        _ => Err("incompatible types for comparison".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(name: &str, old: &str, new: &str) -> ChangeEntry {
        ChangeEntry {
            name: name.into(),
            old_tag: old.into(),
            new_tag: new.into(),
            ..ChangeEntry::default()
        }
    }

    fn two() -> Vec<ChangeEntry> {
        vec![
            change("foo/bar", "1.0", "1.1"),
            change("bar/baz", "2.0", "2.1"),
        ]
    }

    fn branch(text: &str, changes: &[ChangeEntry]) -> Result<String, TemplateError> {
        render_branch(&Template::parse(text)?, changes, "key", "argocd", "app")
    }

    fn commit(text: &str, changes: &[ChangeEntry]) -> Result<String, TemplateError> {
        render_commit_message(&Template::parse(text)?, "foobar", changes)
    }

    fn syntax_at(text: &str) -> (Position, String) {
        match Template::parse(text) {
            Err(TemplateError::Syntax { at, message }) => (at, message),
            other => panic!("{text:?}: expected a syntax error, got {other:?}"),
        }
    }

    #[test]
    fn branch_ranges_over_images() {
        assert_eq!(
            branch(
                "image-updater{{range .Images}}-{{.Name}}-{{.NewTag}}{{end}}",
                &two()
            )
            .unwrap(),
            "image-updater-foo/bar-1.1-bar/baz-2.1"
        );
    }

    #[test]
    fn branch_sha256() {
        let changes = [change("foo/bar", "1.0", "1.1")];
        let want = "0fcc2782543e4bb067c174c21bf44eb947f3e55c0d62c403e359c1c209cbd041";
        assert_eq!(sha256_of_changes(&changes), want);
        assert_eq!(
            hex::encode(Sha256::digest(b"foo/bar-1.0-1.1,")),
            want,
            "the hash is over <name>-<old>-<new>,"
        );
        assert_eq!(
            branch("image-updater-{{.SHA256}}", &changes).unwrap(),
            format!("image-updater-{want}")
        );
        let both = hex::encode(Sha256::digest(b"foo/bar-1.0-1.1,bar/baz-2.0-2.1,"));
        assert_eq!(sha256_of_changes(&two()), both);
    }

    #[test]
    fn branch_other_fields() {
        let mut changes = two();
        changes[0].alias = "web".into();
        assert_eq!(
            branch(
                "{{.AppNamespace}}/{{.AppName}}/{{.TargetKey}}{{range .Images}}/{{.Alias}}:{{.OldTag}}{{end}}",
                &changes
            )
            .unwrap(),
            "argocd/app/key/web:1.0/:2.0"
        );
    }

    #[test]
    fn branch_truncated_to_255_bytes() {
        let long = "x".repeat(300);
        assert_eq!(branch(&long, &[]).unwrap(), "x".repeat(255));
        assert_eq!(branch(&"x".repeat(255), &[]).unwrap().len(), 255);
        // 254 ASCII bytes then a 2-byte character: cut before it.
        let text = format!("{}é{}", "y".repeat(254), "z".repeat(10));
        assert_eq!(branch(&text, &[]).unwrap(), "y".repeat(254));
        let rendered = branch("{{range .Images}}{{$.SHA256}}{{$.SHA256}}{{end}}", &two()).unwrap();
        assert_eq!(rendered.len(), MAX_BRANCH_LEN);
    }

    #[test]
    fn default_commit_message() {
        let want = "build: automatic update of foobar\n\nupdates image foo/bar tag '1.0' to '1.1'\nupdates image bar/baz tag '2.0' to '2.1'\n";
        assert_eq!(commit(DEFAULT_COMMIT_TEMPLATE, &two()).unwrap(), want);
        let msg = commit_message(None, "foobar", &two());
        assert_eq!(msg.message, want);
        assert_eq!(msg.error, None);
        assert_eq!(
            commit(DEFAULT_COMMIT_TEMPLATE, &[]).unwrap(),
            "build: automatic update of foobar\n\n"
        );
    }

    #[test]
    fn commit_message_falls_back_on_errors() {
        let msg = commit_message(Some("{{ .Nope }}"), "foobar", &two());
        assert_eq!(msg.message, "build: update of application foobar");
        assert!(matches!(
            msg.error,
            Some(TemplateError::UnknownField { .. })
        ));

        let msg = commit_message(Some("update {{ .AppName"), "foobar", &two());
        assert_eq!(msg.message, fallback_commit_message("foobar"));
        assert!(matches!(msg.error, Some(TemplateError::Syntax { .. })));

        let msg = commit_message(Some("custom {{ .AppName }}"), "foobar", &two());
        assert_eq!(msg.message, "custom foobar");
        assert_eq!(msg.error, None);
    }

    #[test]
    fn unknown_field_names_the_valid_ones() {
        let err = commit("{{ range .AppChanges }}{{ .Tag }}{{ end }}", &two()).unwrap_err();
        assert_eq!(
            err,
            TemplateError::UnknownField {
                at: Position {
                    line: 1,
                    column: 27
                },
                field: "Tag".into(),
                receiver: ".AppChanges element",
                valid: vec!["Image", "OldTag", "NewTag", "Labels"],
            }
        );
        assert_eq!(
            err.to_string(),
            "template error at line 1, column 27: can't evaluate field Tag in .AppChanges element; valid fields: Image, OldTag, NewTag, Labels"
        );
        let err = branch("{{ .appName }}", &[]).unwrap_err().to_string();
        assert!(
            err.contains("appName")
                && err.contains("Images, SHA256, TargetKey, AppNamespace, AppName"),
            "{err}"
        );
        // As in Go, a field in a range over nothing is never looked up.
        assert_eq!(
            commit("{{ range .AppChanges }}{{ .Tag }}{{ end }}", &[]).unwrap(),
            ""
        );
    }

    #[test]
    fn unclosed_action_and_missing_end() {
        let (at, message) = syntax_at("ok\nbranch-{{ .SHA256 ");
        assert_eq!(at, Position { line: 2, column: 8 });
        assert!(message.contains("unclosed action"), "{message}");
        assert!(syntax_at("{{").1.contains("unclosed action"));
        assert!(syntax_at("{{ . }").1.contains("unrecognized character"));

        let (at, message) = syntax_at("a\n  {{ range .AppChanges }}\n{{ .Image }}\n");
        assert_eq!(at, Position { line: 2, column: 3 });
        assert_eq!(
            message,
            "{{range}} has no matching {{end}} before the end of the template"
        );
        let (at, message) = syntax_at("{{ if .AppName }}a{{ else }}b");
        assert_eq!(at, Position { line: 1, column: 1 });
        assert!(
            message.contains("{{if}} has no matching {{end}}"),
            "{message}"
        );

        let (at, message) = syntax_at("x {{ end }}");
        assert_eq!(
            (at, message.as_str()),
            (Position { line: 1, column: 3 }, "unexpected {{end}}")
        );
        assert_eq!(syntax_at("{{ else }}").1, "unexpected {{else}}");
        assert!(
            syntax_at("{{if .A}}{{else}}{{else}}{{end}}")
                .1
                .contains("second {{else}}")
        );
        assert!(syntax_at("{{ end .X }}").1.contains("unexpected .X in end"));
    }

    #[test]
    fn trim_markers_trim_all_whitespace() {
        assert_eq!(
            commit("a \n\t\r\n {{- .AppName -}} \n\n b", &[]).unwrap(),
            "afoobarb"
        );
        assert_eq!(commit("a  {{- .AppName }}  b", &[]).unwrap(), "afoobar  b");
        assert_eq!(commit("a  {{ .AppName -}}  b", &[]).unwrap(), "a  foobarb");
        assert_eq!(
            commit(
                "{{ range .AppChanges -}}\n  - {{ .Image }}\n{{- end }}",
                &two()
            )
            .unwrap(),
            "- foo/bar- bar/baz"
        );
        // A dash not followed by a space is a negative number, not a marker.
        assert_eq!(commit("a {{-3}}", &[]).unwrap(), "a -3");
        assert_eq!(commit("{{ 3 -}}\n\n", &[]).unwrap(), "3");
    }

    #[test]
    fn comments() {
        assert_eq!(commit("a{{/* a comment {{ }} */}}b", &[]).unwrap(), "ab");
        assert_eq!(commit("a \n{{- /* c\nd */ -}}\n b", &[]).unwrap(), "ab");
        assert_eq!(syntax_at("x{{/* open").1, "unclosed comment");
        assert_eq!(
            syntax_at("{{/* c */ .AppName }}").1,
            "comment ends before closing delimiter"
        );
        assert!(
            syntax_at("{{ /* c */ }}")
                .1
                .contains("unrecognized character")
        );
    }

    #[test]
    fn root_variable_inside_range() {
        assert_eq!(
            commit(
                "{{ range .AppChanges }}{{ $.AppName }}:{{ .Image }};{{ end }}",
                &two()
            )
            .unwrap(),
            "foobar:foo/bar;foobar:bar/baz;"
        );
        assert_eq!(commit("{{ $ }}", &[]).unwrap(), "{foobar []}");
    }

    #[test]
    fn if_else_truthiness() {
        let t = "{{ if .AppChanges }}some{{ else }}none{{ end }}";
        assert_eq!(commit(t, &two()).unwrap(), "some");
        assert_eq!(commit(t, &[]).unwrap(), "none");
        let t = "{{ range .Images }}{{ if .Alias }}{{ .Alias }}{{ else if .OldTag }}old{{ else }}?{{ end }}{{ end }}";
        let mut changes = two();
        changes[0].alias = "web".into();
        changes[1].old_tag = String::new();
        assert_eq!(branch(t, &changes).unwrap(), "web?");
        changes[1].old_tag = "2.0".into();
        assert_eq!(branch(t, &changes).unwrap(), "webold");
        assert_eq!(
            commit(
                "{{ range .AppChanges }}{{ if .Labels }}l{{ else }}n{{ end }}{{ end }}",
                &two()
            )
            .unwrap(),
            "nn"
        );
        assert_eq!(
            commit("{{ if 0 }}a{{ else if true }}b{{ end }}", &[]).unwrap(),
            "b"
        );
        assert!(
            syntax_at("{{ range .A }}{{ else if .B }}{{ end }}")
                .1
                .contains("after else")
        );
    }

    #[test]
    fn labels_by_index_and_field() {
        let mut changes = two();
        changes[0].labels.insert("team".into(), "core".into());
        let t =
            r#"{{ range .AppChanges }}[{{ index .Labels "team" }}|{{ .Labels.team }}]{{ end }}"#;
        // Go: index of a missing key is the zero value, a missing key read as a
        // field is <no value>.
        assert_eq!(commit(t, &changes).unwrap(), "[core|core][|<no value>]");
        assert_eq!(
            commit("{{ range .AppChanges }}{{ .Labels }}{{ end }}", &changes).unwrap(),
            "map[team:core]map[]"
        );
        assert_eq!(
            commit(
                "{{ range $k, $v := (index .AppChanges 0).Labels }}{{ $k }}={{ $v }}{{ end }}",
                &changes
            )
            .unwrap(),
            "team=core"
        );
    }

    #[test]
    fn range_variables_and_else() {
        assert_eq!(
            commit(
                "{{ range $i, $c := .AppChanges }}{{ $i }}:{{ $c.Image }} {{ end }}",
                &two()
            )
            .unwrap(),
            "0:foo/bar 1:bar/baz "
        );
        assert_eq!(
            commit(
                "{{ range $c := .AppChanges }}{{ $c.NewTag }}{{ end }}",
                &two()
            )
            .unwrap(),
            "1.12.1"
        );
        assert_eq!(
            commit("{{ range .AppChanges }}x{{ else }}no changes{{ end }}", &[]).unwrap(),
            "no changes"
        );
        assert_eq!(
            commit(
                "{{ $n := 0 }}{{ range .AppChanges }}{{ $n = .Image }}{{ end }}{{ $n }}",
                &two()
            )
            .unwrap(),
            "bar/baz"
        );
        assert_eq!(
            syntax_at("{{ range .AppChanges }}{{ end }}{{ $c }}").1,
            "undefined variable \"$c\""
        );
        assert!(
            syntax_at("{{ if $a, $b := .X }}{{ end }}")
                .1
                .contains("too many declarations")
        );
        assert!(syntax_at("{{ $x = 1 }}").1.contains("undefined variable"));
        let err = commit("{{ range .AppName }}{{ end }}", &[]).unwrap_err();
        assert!(
            err.to_string().contains("range can't iterate over foobar"),
            "{err}"
        );
    }

    /// Outputs checked against Go's text/template with Image Updater's
    /// structs.
    #[test]
    fn matches_go_reference() {
        let mut c = two();
        c[0].labels.insert("team".into(), "core".into());
        let cases = [
            (
                "{{ $x := 1 }}{{ $x }}{{ if true }}{{ $x := 2 }}{{ $x }}{{ end }}{{ $x }}",
                "121",
            ),
            (
                "{{ with $x := .AppName }}{{ $x }}{{ . }}{{ end }}",
                "foobarfoobar",
            ),
            (
                r#"{{ range .AppChanges }}{{ eq .Labels.missing "x" }}{{ end }}"#,
                "falsefalse",
            ),
            (
                "{{ range .AppChanges }}{{ if .Labels.missing }}y{{ else }}n{{ end }}{{ end }}",
                "nn",
            ),
            (
                "{{ range .AppChanges }}{{ if .Labels }}l{{ else }}n{{ end }}{{ end }}",
                "ln",
            ),
            (
                "{{ $ }}",
                "{foobar [{foo/bar 1.0 1.1 map[team:core]} {bar/baz 2.0 2.1 map[]}]}",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(commit(text, &c).unwrap(), want, "{text}");
        }
        // The range's variables hold the whole value in its else branch.
        assert_eq!(
            commit(
                "{{ range $i, $c := .AppChanges }}{{ else }}{{ $c }}{{ end }}",
                &[]
            )
            .unwrap(),
            "[]"
        );
        for (text, want) in [
            ("{{ not }}", "wrong number of args: want 1 got 0"),
            ("{{ len 3 }}", "error calling len: len of type int"),
            (
                r#"{{ index .AppChanges "a" }}"#,
                "cannot index slice/array with type string",
            ),
        ] {
            let err = commit(text, &c).unwrap_err().to_string();
            assert!(err.contains(want), "{text}: {err}");
        }
    }

    #[test]
    fn with_sets_dot() {
        assert_eq!(
            commit(
                "{{ with index .AppChanges 1 }}{{ .Image }}{{ end }}",
                &two()
            )
            .unwrap(),
            "bar/baz"
        );
        assert_eq!(
            commit(
                "{{ with .AppChanges }}{{ len . }}{{ else }}none{{ end }}",
                &[]
            )
            .unwrap(),
            "none"
        );
    }

    #[test]
    fn functions_and_pipelines() {
        let c = two();
        assert_eq!(commit("{{ len .AppChanges }}", &c).unwrap(), "2");
        assert_eq!(commit("{{ .AppChanges | len }}", &c).unwrap(), "2");
        assert_eq!(commit("{{ .AppName | len | eq 6 }}", &c).unwrap(), "true");
        assert_eq!(
            commit(r#"{{ if eq .AppName "x" "foobar" }}y{{ end }}"#, &c).unwrap(),
            "y"
        );
        assert_eq!(
            commit(r#"{{ ne .AppName "foobar" }}"#, &c).unwrap(),
            "false"
        );
        assert_eq!(commit("{{ not .AppChanges }}", &c).unwrap(), "false");
        assert_eq!(
            commit(r#"{{ and .AppName "" "z" }}|{{ or "" .AppName }}"#, &c).unwrap(),
            "|foobar"
        );
        assert_eq!(
            commit(
                "{{ if and (eq (len .AppChanges) 2) (not false) }}ok{{ end }}",
                &c
            )
            .unwrap(),
            "ok"
        );
        // `and` short-circuits: the failing index is never evaluated.
        assert_eq!(
            commit("{{ and false (index .AppChanges 9) }}", &c).unwrap(),
            "false"
        );
        let err = commit("{{ index .AppChanges 9 }}", &c)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("error calling index: index out of range: 9"),
            "{err}"
        );
        let err = commit(r#"{{ eq .AppName 1 }}"#, &c)
            .unwrap_err()
            .to_string();
        assert!(err.contains("incompatible types"), "{err}");
        let (_, message) = syntax_at("{{ printf \"%s\" .AppName }}");
        assert!(
            message.starts_with("function \"printf\" not defined"),
            "{message}"
        );
        let err = commit("{{ .AppName 1 }}", &c).unwrap_err().to_string();
        assert!(err.contains("cannot be invoked as function"), "{err}");
        assert!(
            syntax_at("{{ .AppName | .AppName }}")
                .1
                .contains("non executable")
        );
    }

    #[test]
    fn literals() {
        assert_eq!(
            commit(r#"{{ "}} \"q\"\t\u00e9\x41" }}"#, &[]).unwrap(),
            "}} \"q\"\téA"
        );
        assert_eq!(commit("{{ `raw \\n }}` }}", &[]).unwrap(), "raw \\n }}");
        assert_eq!(syntax_at("{{ \"open }}").1, "unterminated quoted string");
        assert!(syntax_at("{{ \"\\q\" }}").1.contains("unknown escape"));
        assert!(syntax_at("{{ 1x }}").1.contains("bad number"));
        assert!(
            syntax_at("{{ 99999999999999999999 }}")
                .1
                .contains("out of range")
        );
    }

    #[test]
    fn values_print_like_go() {
        let mut c = two();
        c[1].labels.insert("b".into(), "2".into());
        c[1].labels.insert("a".into(), "1".into());
        assert_eq!(
            commit("{{ .AppChanges }}", &c).unwrap(),
            "[{foo/bar 1.0 1.1 map[]} {bar/baz 2.0 2.1 map[a:1 b:2]}]"
        );
        assert_eq!(
            branch("{{ .Images }}", &c[..1]).unwrap(),
            "[{foo/bar  1.0 1.1}]"
        );
    }

    #[test]
    fn other_syntax_errors() {
        assert!(syntax_at("{{ }}").1.contains("missing value"));
        assert!(
            syntax_at("{{ if }}{{ end }}")
                .1
                .contains("missing value for if")
        );
        assert!(
            syntax_at("{{ (.AppName }}")
                .1
                .contains("unclosed left paren")
        );
        assert!(syntax_at("{{ .AppName) }}").1.contains("unexpected"));
        assert!(
            syntax_at("{{ template \"x\" }}")
                .1
                .contains("not supported")
        );
        assert!(syntax_at("{{ .A# }}").1.contains("bad character"));
        assert!(syntax_at("{{ ..A }}").1.contains("after term"));
        let deep = format!("{}{}", "{{if .A}}".repeat(200), "{{end}}".repeat(200));
        assert!(syntax_at(&deep).1.contains("nesting"));
        let deep = format!("{{{{ {}1{} }}}}", "(".repeat(200), ")".repeat(200));
        assert!(syntax_at(&deep).1.contains("nesting"));
    }

    #[test]
    fn execution_is_bounded() {
        let changes: Vec<_> = (0..10)
            .map(|i| change(&format!("i{i}"), "1", "2"))
            .collect();
        let nested = format!(
            "{}x{}",
            "{{range $.AppChanges}}".repeat(8),
            "{{end}}".repeat(8)
        );
        let err = commit(&nested, &changes).unwrap_err().to_string();
        assert!(
            err.contains("output exceeds") || err.contains("steps"),
            "{err}"
        );
        let silent = format!(
            "{}{}",
            "{{range $.AppChanges}}".repeat(8),
            "{{end}}".repeat(8)
        );
        let err = commit(&silent, &changes).unwrap_err().to_string();
        assert!(err.contains("steps"), "{err}");
    }

    #[test]
    fn every_prefix_parses_or_fails_cleanly() {
        let texts = [
            DEFAULT_COMMIT_TEMPLATE,
            "{{- /* c */ -}}{{ range $i, $c := .AppChanges }}{{ if and (eq $i 0) (index $c.Labels \"é\") }}{{ $.AppName | len }}{{ else }}{{ with .Image }}{{ . }}{{ else with 1 }}{{ end }}{{ end }}{{ end }}`x`",
            "a{{ \"s\\u00e9\" }}{{ `r` }}{{-3}}{{ ( .AppName ) }}é",
        ];
        for text in texts {
            for end in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
                if let Ok(t) = Template::parse(&text[..end]) {
                    let _ = render_commit_message(&t, "app", &two());
                }
            }
        }
    }

    #[test]
    fn template_is_shareable() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Template>();
        assert_send_sync::<TemplateError>();
        let t: Template = "{{ .AppName }}".parse().unwrap();
        assert_eq!(t.source(), "{{ .AppName }}");
    }
}
