//! Owns the format-preserving YAML machinery the editors share: a node tree
//! with byte spans built from the parser events of `granit-parser` (through
//! `serde_saphyr::granit_parser`), scalar quoting rules, and byte-range edits
//! spliced into the original text.
//!
//! Nothing here re-serialises a document: every edit replaces or inserts a
//! byte range, so comments, blank lines, key order, indentation, quoting and
//! anchors outside the edited values stay as they were.

use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle, StructureStyle};
use std::collections::HashMap;

/// What a node is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    /// A scalar: its decoded value and its source style.
    Scalar {
        /// The value after escape processing.
        value: String,
        /// How it is written.
        style: ScalarStyle,
    },
    /// A mapping, entries in source order.
    Map(Vec<(Node, Node)>),
    /// A sequence, items in source order.
    Seq(Vec<Node>),
    /// An alias (`*name`).
    Alias(String),
}

/// One node of a parsed document with the byte range it occupies.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub kind: Kind,
    /// First byte of the node's content (after any anchor or tag).
    pub start: usize,
    /// One past the last byte of content. Block scalars end at their last
    /// non-blank character; block collections at the end of their last item.
    pub end: usize,
    /// Written in flow style (`{…}`, `[…]`), or inside such a collection.
    pub flow: bool,
    /// The anchor defined on this node, if any.
    pub anchor: Option<String>,
}

impl Node {
    /// The scalar value, if this is a scalar.
    pub fn scalar(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    /// The value of `key` in this mapping, with the key node.
    pub fn get(&self, key: &str) -> Option<(&Node, &Node)> {
        match &self.kind {
            Kind::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.scalar() == Some(key))
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    /// A word for what the node is, for messages.
    pub fn describe(&self) -> &'static str {
        match &self.kind {
            Kind::Scalar { .. } => "a scalar value",
            Kind::Map(_) => "a mapping",
            Kind::Seq(_) => "a list",
            Kind::Alias(_) => "an alias",
        }
    }

    /// Whether this is a null scalar (`~`, `null`, or nothing at all).
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, Kind::Scalar { value, style: ScalarStyle::Plain }
            if matches!(value.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }
}

/// A document that could not be parsed into one node tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ParseError {
    /// Not YAML.
    Syntax(String),
    /// More than one document.
    MultipleDocuments(usize),
}

/// Parses `text` into its single document's root node (`None` when the
/// document is empty or holds only comments).
pub(crate) fn parse(text: &str) -> Result<Option<Node>, ParseError> {
    let options = serde_saphyr::granit_parser::options! { emit_anchor_events: true };
    let mut events = Vec::new();
    for next in Parser::new_from_str_with_options(text, options) {
        let (event, span) = next.map_err(|e| ParseError::Syntax(e.to_string()))?;
        let range = span.byte_range().unwrap_or(0..0);
        match event {
            Event::Comment(..) | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
            other => events.push((other, range.start, range.end)),
        }
    }
    let documents = events
        .iter()
        .filter(|(e, ..)| matches!(e, Event::DocumentStart(..)))
        .count();
    if documents > 1 {
        return Err(ParseError::MultipleDocuments(documents));
    }
    let mut builder = Builder {
        text,
        events,
        pos: 0,
        anchors: HashMap::new(),
    };
    builder.skip_document_start();
    if builder.pos >= builder.events.len() {
        return Ok(None);
    }
    builder.node(false).map(Some)
}

struct Builder<'a> {
    text: &'a str,
    events: Vec<(Event<'a>, usize, usize)>,
    pos: usize,
    anchors: HashMap<usize, String>,
}

impl Builder<'_> {
    fn skip_document_start(&mut self) {
        while let Some((Event::DocumentStart(..), ..)) = self.events.get(self.pos) {
            self.pos += 1;
        }
    }

    fn syntax(&self, what: &str) -> ParseError {
        ParseError::Syntax(format!("unexpected parser event ({what})"))
    }

    /// The anchor event that follows a node event, if any.
    fn take_anchor(&mut self) -> Option<String> {
        if let Some((Event::Anchor(id, name), ..)) = self.events.get(self.pos) {
            let name = name.to_string();
            self.anchors.insert(*id, name.clone());
            self.pos += 1;
            Some(name)
        } else {
            None
        }
    }

    fn node(&mut self, in_flow: bool) -> Result<Node, ParseError> {
        let Some((event, start, end)) = self.events.get(self.pos).cloned() else {
            return Err(self.syntax("end of input inside a node"));
        };
        self.pos += 1;
        match event {
            Event::Scalar(value, style, ..) => {
                let anchor = self.take_anchor();
                let end = match style {
                    ScalarStyle::Literal | ScalarStyle::Folded => {
                        start + self.text[start..end].trim_end().len()
                    }
                    _ => end,
                };
                Ok(Node {
                    kind: Kind::Scalar {
                        value: value.into_owned(),
                        style,
                    },
                    start,
                    end,
                    flow: in_flow,
                    anchor,
                })
            }
            Event::Alias(id) => {
                let name = self.anchors.get(&id).cloned().unwrap_or_default();
                Ok(Node {
                    kind: Kind::Alias(name),
                    start,
                    end,
                    flow: in_flow,
                    anchor: None,
                })
            }
            Event::MappingStart(style, ..) => {
                let anchor = self.take_anchor();
                let flow = in_flow || style == StructureStyle::Flow;
                let mut entries = Vec::new();
                loop {
                    match self.events.get(self.pos) {
                        Some((Event::MappingEnd, _, close_end)) => {
                            let close_end = *close_end;
                            self.pos += 1;
                            let end = if style == StructureStyle::Flow {
                                close_end
                            } else {
                                entries.last().map_or(start, |(_, v): &(Node, Node)| v.end)
                            };
                            return Ok(Node {
                                kind: Kind::Map(entries),
                                start,
                                end,
                                flow,
                                anchor,
                            });
                        }
                        Some(_) => {
                            let key = self.node(flow)?;
                            let value = self.node(flow)?;
                            entries.push((key, value));
                        }
                        None => return Err(self.syntax("unterminated mapping")),
                    }
                }
            }
            Event::SequenceStart(style, ..) => {
                let anchor = self.take_anchor();
                let flow = in_flow || style == StructureStyle::Flow;
                let mut items = Vec::new();
                loop {
                    match self.events.get(self.pos) {
                        Some((Event::SequenceEnd, _, close_end)) => {
                            let close_end = *close_end;
                            self.pos += 1;
                            let end = if style == StructureStyle::Flow {
                                close_end
                            } else {
                                items.last().map_or(start, |v: &Node| v.end)
                            };
                            return Ok(Node {
                                kind: Kind::Seq(items),
                                start,
                                end,
                                flow,
                                anchor,
                            });
                        }
                        Some(_) => items.push(self.node(flow)?),
                        None => return Err(self.syntax("unterminated sequence")),
                    }
                }
            }
            _ => Err(self.syntax("expected a node")),
        }
    }
}

/// The line break the file uses (`\r\n` when it has any, else `\n`).
pub(crate) fn line_break(text: &str) -> &'static str {
    if text.contains("\r\n") { "\r\n" } else { "\n" }
}

/// Byte offset where the line holding `pos` starts.
pub(crate) fn line_start(text: &str, pos: usize) -> usize {
    text[..pos].rfind('\n').map_or(0, |i| i + 1)
}

/// Byte offset where the line holding `pos` ends (before `\r\n` or `\n`).
pub(crate) fn line_end(text: &str, pos: usize) -> usize {
    let end = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
    if end > pos && text[..end].ends_with('\r') {
        end - 1
    } else {
        end
    }
}

/// Offset just past the line break that ends the line holding `pos` (or the
/// end of the text).
pub(crate) fn next_line_start(text: &str, pos: usize) -> usize {
    text[pos..].find('\n').map_or(text.len(), |i| pos + i + 1)
}

/// Column (in bytes) of `pos` on its line.
pub(crate) fn column(text: &str, pos: usize) -> usize {
    pos - line_start(text, pos)
}

/// Where a value goes for the mapping key ending at `key_end` when the value
/// is empty (`key:`): just after the colon. `None` when no colon follows.
pub(crate) fn after_colon(text: &str, key_end: usize) -> Option<usize> {
    text[key_end..]
        .char_indices()
        .find(|(_, c)| !matches!(c, ' ' | '\t'))
        .filter(|(_, c)| *c == ':')
        .map(|(i, _)| key_end + i + 1)
}

/// Byte-range replacements applied to a text in one go.
#[derive(Debug, Default)]
pub(crate) struct Edits {
    edits: Vec<(usize, usize, String)>,
}

impl Edits {
    /// Replaces `start..end` with `with`.
    pub fn replace(&mut self, start: usize, end: usize, with: impl Into<String>) {
        self.edits.push((start, end, with.into()));
    }

    /// Inserts `with` at `at`.
    pub fn insert(&mut self, at: usize, with: impl Into<String>) {
        self.replace(at, at, with);
    }

    /// The text with all edits applied. Edits must not overlap; an
    /// insertion at the start of a replacement goes before it.
    pub fn apply(mut self, text: &str) -> String {
        self.edits.sort_by_key(|(start, end, _)| (*start, *end));
        let mut out = String::with_capacity(text.len() + 64);
        let mut at = 0;
        for (start, end, with) in self.edits {
            let start = start.max(at);
            out.push_str(&text[at..start]);
            out.push_str(&with);
            at = end.max(start);
        }
        out.push_str(&text[at..]);
        out
    }
}

// ---------------------------------------------------------------------------
// Scalars
// ---------------------------------------------------------------------------

/// The style go-yaml v3 (the library Image Updater marshals with) picks for a
/// string in block context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// Plain.
    Plain,
    /// `'single quoted'`.
    Single,
    /// `"double quoted"`.
    Double,
}

/// go-yaml v3's choice for a string value: double quotes when the plain
/// text would resolve to something else than a string (number, bool, null,
/// timestamp, YAML 1.1 bool, base-60 float), otherwise plain when libyaml's
/// scalar analysis allows a block plain scalar, otherwise single quotes when
/// allowed, else double quotes.
pub(crate) fn goyaml_style(value: &str) -> Style {
    if !resolves_to_string(value) {
        return Style::Double;
    }
    let analysis = analyze(value);
    if analysis.block_plain {
        Style::Plain
    } else if analysis.single {
        Style::Single
    } else {
        Style::Double
    }
}

/// Whether `value` may be written as a plain scalar anywhere (block or flow)
/// and reads back as this exact string under YAML 1.1 and 1.2 parsers
/// (go-yaml v2 as used by Helm, go-yaml v3, kyaml).
pub(crate) fn is_safe_plain(value: &str, in_flow: bool) -> bool {
    if goyaml_style(value) != Style::Plain {
        return false;
    }
    if value.chars().any(|c| c.is_control() || c == '\u{feff}') {
        return false;
    }
    // A leading `-`, `?` or `:` is plain for YAML 1.2 when no space follows,
    // but older parsers and humans misread it.
    if value.starts_with(['-', '?', ':']) {
        return false;
    }
    if in_flow && value.contains([',', '[', ']', '{', '}', ':', '?', '#']) {
        return false;
    }
    // `=` alone is the YAML 1.1 value key; `<<` the merge key.
    !matches!(value, "=" | "<<")
}

/// Renders `value` as go-yaml v3 would in block context.
pub(crate) fn render_goyaml(value: &str) -> String {
    match goyaml_style(value) {
        Style::Plain => value.to_string(),
        Style::Single => single_quoted(value),
        Style::Double => double_quoted(value),
    }
}

/// Renders `value` for an edit: plain when safe, otherwise quoted the way
/// go-yaml would (single quotes for text that only trips the plain syntax,
/// double quotes for text that would read as another type).
pub(crate) fn render_safe(value: &str, in_flow: bool) -> String {
    if is_safe_plain(value, in_flow) {
        value.to_string()
    } else if resolves_to_string(value) && !value.chars().any(char::is_control) {
        single_quoted(value)
    } else {
        double_quoted(value)
    }
}

/// Renders `value` keeping an existing scalar's quoting style; plain and
/// block scalars become plain (or quoted when plain would be misread).
pub(crate) fn render_like(value: &str, style: ScalarStyle, in_flow: bool) -> String {
    match style {
        ScalarStyle::SingleQuoted if !value.chars().any(char::is_control) => single_quoted(value),
        ScalarStyle::DoubleQuoted => double_quoted(value),
        _ => render_safe(value, in_flow),
    }
}

/// `'…'` with embedded quotes doubled.
pub(crate) fn single_quoted(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// `"…"` with libyaml's escapes.
pub(crate) fn double_quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{b}' => out.push_str("\\v"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\u{1b}' => out.push_str("\\e"),
            '\u{85}' => out.push_str("\\N"),
            '\u{a0}' => out.push_str("\\_"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            '\u{feff}' => out.push_str("\\uFEFF"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// go-yaml v3's `resolve` for an untagged plain scalar, plus the encoder's
/// extra checks: `true` when the plain text reads back as a string.
fn resolves_to_string(value: &str) -> bool {
    if is_old_bool(value) || is_base60_float(value) {
        return false;
    }
    let Some(first) = value.bytes().next() else {
        return false; // "" is null
    };
    match first {
        b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' => !matches!(
            value,
            "true" | "True" | "TRUE" | "false" | "False" | "FALSE" | "~" | "null" | "Null" | "NULL"
        ),
        b'.' => {
            !matches!(value, ".nan" | ".NaN" | ".NAN" | ".inf" | ".Inf" | ".INF")
                && !is_dot_float(value)
        }
        b'+' | b'-' | b'0'..=b'9' => {
            if matches!(
                value,
                "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
            ) {
                return false;
            }
            if first.is_ascii_digit() && is_timestamp(value) {
                return false;
            }
            let plain = value.replace('_', "");
            !(is_go_int(&plain) || is_yaml_float(&plain) || is_prefixed_int(&plain))
        }
        b'<' => value != "<<",
        _ => true,
    }
}

fn is_old_bool(value: &str) -> bool {
    matches!(
        value,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "on"
            | "On"
            | "ON"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "off"
            | "Off"
            | "OFF"
    )
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`
fn is_base60_float(value: &str) -> bool {
    if !value.contains(':') {
        return false;
    }
    let s = value.strip_prefix(['-', '+']).unwrap_or(value);
    let (body, fraction) = match s.split_once('.') {
        Some((body, fraction)) => (body, Some(fraction)),
        None => (s, None),
    };
    if fraction.is_some_and(|f| !f.bytes().all(|b| b.is_ascii_digit() || b == b'_')) {
        return false;
    }
    let mut parts = body.split(':');
    let Some(head) = parts.next() else {
        return false;
    };
    if !head.bytes().next().is_some_and(|b| b.is_ascii_digit())
        || !head.bytes().all(|b| b.is_ascii_digit() || b == b'_')
    {
        return false;
    }
    let mut any = false;
    for part in parts {
        any = true;
        let ok = match part.as_bytes() {
            [d] => d.is_ascii_digit(),
            [a, b] => (b'0'..=b'5').contains(a) && b.is_ascii_digit(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    any
}

/// Go's `strconv.ParseInt(s, 0, 64)` syntax (ignoring range: digits that
/// overflow still match the float pattern).
fn is_go_int(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let digits = |t: &str, radix: u32| !t.is_empty() && t.chars().all(|c| c.is_digit(radix));
    if let Some(rest) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        digits(rest, 16)
    } else if let Some(rest) = s.strip_prefix("0o").or_else(|| s.strip_prefix("0O")) {
        digits(rest, 8)
    } else if let Some(rest) = s.strip_prefix("0b").or_else(|| s.strip_prefix("0B")) {
        digits(rest, 2)
    } else if s.len() > 1 && s.starts_with('0') {
        digits(&s[1..], 8)
    } else {
        digits(s, 10)
    }
}

/// go-yaml's explicit `0b…` / `0o…` handling.
fn is_prefixed_int(s: &str) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    for (prefix, radix) in [("0b", 2), ("0o", 8)] {
        if let Some(rest) = s.strip_prefix(prefix) {
            return !rest.is_empty() && rest.chars().all(|c| c.is_digit(radix));
        }
    }
    false
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_float(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    if let Some(exp) = exponent {
        let exp = exp.strip_prefix(['-', '+']).unwrap_or(exp);
        if exp.is_empty() || !exp.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
    }
    let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    match mantissa.split_once('.') {
        Some(("", frac)) => !frac.is_empty() && all_digits(frac),
        Some((int, frac)) => !int.is_empty() && all_digits(int) && all_digits(frac),
        None => !mantissa.is_empty() && all_digits(mantissa),
    }
}

/// Go's `strconv.ParseFloat` for text starting with `.` (`.5`, `.5e3`).
fn is_dot_float(s: &str) -> bool {
    is_yaml_float(s)
}

/// Dates and times go-yaml reads as timestamps: `YYYY-M-D`, optionally
/// followed by `T`/`t`/spaces and `h:m:s[.frac][zone]`.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 8 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let rest = &s[5..];
    let take_digits = |t: &str, max: usize| -> Option<usize> {
        let n = t.bytes().take_while(u8::is_ascii_digit).count();
        (1..=max).contains(&n).then_some(n)
    };
    let Some(m) = take_digits(rest, 2) else {
        return false;
    };
    let Some(rest) = rest[m..].strip_prefix('-') else {
        return false;
    };
    let Some(d) = take_digits(rest, 2) else {
        return false;
    };
    let rest = &rest[d..];
    if rest.is_empty() {
        return true;
    }
    let time = rest
        .strip_prefix(['T', 't'])
        .or_else(|| rest.strip_prefix(' ').map(str::trim_start));
    let Some(time) = time else {
        return false;
    };
    let mut parts = time.splitn(3, ':');
    let (Some(h), Some(mi), Some(sec)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    take_digits(h, 2) == Some(h.len())
        && take_digits(mi, 2) == Some(mi.len())
        && take_digits(sec, 2).is_some()
}

/// libyaml's `yaml_emitter_analyze_scalar`, reduced to what style selection
/// needs.
struct Analysis {
    block_plain: bool,
    single: bool,
}

fn analyze(value: &str) -> Analysis {
    if value.is_empty() {
        return Analysis {
            block_plain: true,
            single: true,
        };
    }
    let mut block_indicators = value.starts_with("---") || value.starts_with("...");
    let mut special = false;
    let mut line_breaks = false;
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut previous_space, mut previous_break) = (false, false);
    let mut preceded_by_whitespace = true;
    let chars: Vec<char> = value.chars().collect();
    let blankz = |c: Option<&char>| matches!(c, None | Some(' ' | '\t' | '\r' | '\n'));
    for (i, &c) in chars.iter().enumerate() {
        let first = i == 0;
        let last = i + 1 == chars.len();
        let followed_by_whitespace = blankz(chars.get(i + 1));
        if first {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_indicators = true,
                '?' | ':' if followed_by_whitespace => block_indicators = true,
                '-' if followed_by_whitespace => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_whitespace => block_indicators = true,
                '#' if preceded_by_whitespace => block_indicators = true,
                _ => {}
            }
        }
        let printable = matches!(c, '\t' | '\n' | '\r' | '\u{85}')
            || (c >= ' ' && c != '\u{7f}' && !('\u{80}'..'\u{a0}').contains(&c))
                && c != '\u{feff}'
                && !matches!(c, '\u{fffe}' | '\u{ffff}');
        if !printable || c == '\t' {
            special = true;
        }
        let is_break = matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}');
        if is_break {
            line_breaks = true;
        }
        if c == ' ' {
            if first {
                leading_space = true;
            }
            if last {
                trailing_space = true;
            }
            if previous_break {
                break_space = true;
            }
            previous_space = true;
            previous_break = false;
        } else if is_break {
            if first {
                leading_break = true;
            }
            if last {
                trailing_break = true;
            }
            if previous_space {
                space_break = true;
            }
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = matches!(c, ' ' | '\t' | '\r' | '\n');
    }
    let mut block_plain = true;
    let mut single = true;
    if leading_space || leading_break || trailing_space || trailing_break {
        block_plain = false;
    }
    if break_space {
        block_plain = false;
        single = false;
    }
    if space_break || special {
        block_plain = false;
        single = false;
    }
    if line_breaks || block_indicators {
        block_plain = false;
    }
    Analysis {
        block_plain,
        single,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goyaml_styles() {
        for plain in [
            "v1.0.0",
            "myapp",
            "1.2.3",
            "sha256-abc",
            "release-2024",
            "nginx",
            "registry:5000/x",
            "v1@sha256:abcd",
            "a,b",
            "2024-01-15-abc",
            "0x",
            "yes-please",
        ] {
            assert_eq!(goyaml_style(plain), Style::Plain, "{plain}");
        }
        for double in [
            "",
            "1.20",
            "16",
            "0755",
            "true",
            "false",
            "True",
            "yes",
            "no",
            "on",
            "off",
            "y",
            "n",
            "Y",
            "null",
            "~",
            "NULL",
            "0x1F",
            "1e3",
            "1_000",
            "+12",
            ".5",
            "-.inf",
            ".NaN",
            "1:20",
            "0b101",
            "0o17",
            "007",
            "08",
            "2024-01-15",
            "<<",
        ] {
            assert_eq!(goyaml_style(double), Style::Double, "{double:?}");
        }
        assert_eq!(goyaml_style("-latest"), Style::Plain);
        assert!(!is_safe_plain("-latest", false));
        assert_eq!(render_safe("-latest", false), "'-latest'");
        for single in ["a: b", "tag #1", "*anchor", "&anchor", "@ref", " x", "x "] {
            assert_eq!(goyaml_style(single), Style::Single, "{single:?}");
        }
        assert_eq!(goyaml_style("tab\there"), Style::Double);
    }

    #[test]
    fn rendering() {
        assert_eq!(render_safe("1.20", false), "\"1.20\"");
        assert_eq!(render_safe("a: b", false), "'a: b'");
        assert_eq!(render_safe("it's: x", false), "'it''s: x'");
        assert_eq!(render_safe("v1:2", true), "'v1:2'");
        assert_eq!(render_safe("v1:2", false), "v1:2");
        assert_eq!(double_quoted("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
        assert_eq!(
            render_like("1.0", ScalarStyle::SingleQuoted, false),
            "'1.0'"
        );
        assert_eq!(render_like("x", ScalarStyle::DoubleQuoted, false), "\"x\"");
        assert_eq!(render_like("x", ScalarStyle::Literal, false), "x");
    }

    #[test]
    fn spans_of_nodes() {
        let text = "a: &x 1\nb:\n  - c\n  - {d: e}\nf: |\n  lit\n\ng: *x\n";
        let root = parse(text).unwrap().unwrap();
        let (_, a) = root.get("a").unwrap();
        assert_eq!(&text[a.start..a.end], "1");
        assert_eq!(a.anchor.as_deref(), Some("x"));
        let (_, b) = root.get("b").unwrap();
        // An indented block list starts at its first `-`.
        assert!(text[b.start..b.end].ends_with("c\n  - {d: e}"));
        let (_, f) = root.get("f").unwrap();
        assert_eq!(&text[f.start..f.end], "lit");
        let (_, g) = root.get("g").unwrap();
        assert_eq!(g.kind, Kind::Alias("x".into()));
        assert_eq!(parse("# only\n").unwrap(), None);
        assert_eq!(parse("").unwrap(), None);
        assert_eq!(
            parse("a: 1\n---\nb: 2\n").unwrap_err(),
            ParseError::MultipleDocuments(2)
        );
        assert!(matches!(parse("a: [1\n"), Err(ParseError::Syntax(_))));
    }

    #[test]
    fn lines() {
        let text = "a\r\nbc\r\n";
        assert_eq!(line_break(text), "\r\n");
        assert_eq!(line_end(text, 3), 5);
        assert_eq!(line_start(text, 4), 3);
        assert_eq!(next_line_start(text, 3), 7);
        assert_eq!(column(text, 4), 1);
    }

    #[test]
    fn edits_apply_in_order() {
        let mut edits = Edits::default();
        edits.replace(4, 5, "X");
        edits.insert(0, ">");
        edits.insert(8, "!");
        assert_eq!(edits.apply("abc def\n"), ">abc Xef\n!");
    }
}
