//! kubectl's JSONPath templates (k8s.io/client-go/util/jsonpath) over `serde_json::Value`: text
//! with `{…}` actions — `.a.b`, `['a.b']`, `..a` (recursive descent), `*`, `[n]`, `[start:end:step]`,
//! `[a,b]` unions, `[?(@.x=="y")]` filters, `{range …}…{end}`, quoted text `{"\n"}`, `@`/`$` — with
//! kubectl's defaults: missing keys give no result (`--allow-missing-template-keys=true`), each
//! action's results are joined by one space, objects and arrays print as compact JSON.
//! One difference, on purpose: a JSON `null` counts as missing, because the initctl documents
//! write absent values as `null` where Kubernetes objects leave the field out.
//! Pure: no knowledge of pods.

use std::cmp::Ordering;
use std::fmt;

use serde_json::Value;

/// A template that failed to parse or to run, worded as kubectl words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError(pub String);

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Text(String),
    Path(Vec<Step>),
    Range(Vec<Step>, Vec<Node>),
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Field(String),
    Recursive,
    Wildcard,
    Slice([Option<i64>; 3]),
    Union(Vec<Vec<Step>>),
    Filter(Box<Filter>),
}

#[derive(Debug, Clone, PartialEq)]
struct Filter {
    left: Operand,
    /// None: an existence test, `[?(@.x)]`.
    compare: Option<(String, Operand)>,
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Path(Vec<Step>),
    Literal(Value),
    /// A bare word kubectl accepts when parsing and refuses when running.
    Unknown(String),
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    source: String,
    nodes: Vec<Node>,
}

impl Template {
    /// Parses a template as kubectl's `-o jsonpath=` takes it.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let fail = |why: String| TemplateError(format!("error parsing jsonpath {text}, {why}"));
        let (nodes, rest) = parse_nodes(text).map_err(fail)?;
        if rest.is_some() {
            return Err(fail("not in range, nothing to end".into()));
        }
        Ok(Template {
            source: text.to_string(),
            nodes,
        })
    }

    /// Parses a field path as kubectl's `--sort-by` and custom-columns take it: `a.b`, `.a.b`,
    /// `{a.b}` and `{.a.b}` all mean `{.a.b}`.
    pub fn relaxed(text: &str) -> Result<Template, TemplateError> {
        let inner = text
            .strip_prefix('{')
            .and_then(|t| t.strip_suffix('}'))
            .unwrap_or(text);
        let inner = inner.strip_prefix('.').unwrap_or(inner);
        if inner.is_empty() || inner.contains(['{', '}']) {
            return Err(TemplateError(
                "unexpected path string, expected a 'name1.name2' or '.name1.name2' or '{name1.name2}' or '{.name1.name2}'".into(),
            ));
        }
        Template::parse(&format!("{{.{inner}}}"))
    }

    /// The template's text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The results of each action, in order (kubectl's FindResults): text nodes give their text.
    pub fn find(&self, data: &Value) -> Result<Vec<Vec<Value>>, TemplateError> {
        Ok(self.pieces(data)?.into_iter().map(|(_, v)| v).collect())
    }

    /// Each action's results, tagged true where they are the template's own text.
    fn pieces(&self, data: &Value) -> Result<Vec<(bool, Vec<Value>)>, TemplateError> {
        let mut out = Vec::new();
        find_nodes(&self.nodes, data, data, &mut out).map_err(|why| {
            TemplateError(format!(
                "error executing jsonpath {:?}: Error executing template: {why}",
                self.source
            ))
        })?;
        Ok(out)
    }

    /// The template applied to `data`, as kubectl prints it.
    #[cfg(test)]
    pub fn render(&self, data: &Value) -> Result<String, TemplateError> {
        self.render_escaped(data, &|text| text)
    }

    /// As [`Template::render`], with every value taken from `data` passed through `escape`
    /// (the template's own text, such as `{"\n"}`, is written as it is).
    pub fn render_escaped(
        &self,
        data: &Value,
        escape: &dyn Fn(String) -> String,
    ) -> Result<String, TemplateError> {
        let mut text = String::new();
        for (own, results) in self.pieces(data)? {
            let parts: Vec<String> = results
                .iter()
                .map(|v| if own { to_text(v) } else { escape(to_text(v)) })
                .collect();
            text.push_str(&parts.join(" "));
        }
        Ok(text)
    }
}

/// A value as kubectl prints a result: strings raw, numbers and booleans as JSON, objects and
/// arrays as compact JSON.
pub fn to_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

type Parsed<'a> = Result<(Vec<Node>, Option<&'a str>), String>;

/// Nodes up to the end of the text, or (inside a range) up to `{end}`: returns the nodes and
/// the text after `{end}` if one was met.
fn parse_nodes(mut text: &str) -> Parsed<'_> {
    let mut nodes = Vec::new();
    while !text.is_empty() {
        let Some(open) = text.find('{') else {
            nodes.push(Node::Text(text.to_string()));
            break;
        };
        if open > 0 {
            nodes.push(Node::Text(text[..open].to_string()));
        }
        let Some(close) = action_end(&text[open + 1..]) else {
            let rest = &text[open + 1..];
            let open_array = rest
                .find('[')
                .is_some_and(|at| bracket_end(&rest[at..]).is_none());
            return Err(if open_array {
                "unterminated array"
            } else {
                "unclosed action"
            }
            .into());
        };
        let action = text[open + 1..open + 1 + close].trim();
        text = &text[open + close + 2..];
        if action == "end" {
            // Outside a range, the caller reports "nothing to end".
            return Ok((nodes, Some(text)));
        }
        if let Some(path) = action.strip_prefix("range ") {
            let steps = parse_path(path.trim())?;
            let (body, rest) = parse_nodes(text)?;
            nodes.push(Node::Range(steps, body));
            match rest {
                Some(rest) => text = rest,
                None => break,
            }
            continue;
        }
        if action.starts_with('"') {
            nodes.push(Node::Text(unquote(action)?));
        } else {
            nodes.push(Node::Path(parse_path(action)?));
        }
    }
    Ok((nodes, None))
}

/// The index of the `}` closing an action (quotes may hold braces).
fn action_end(text: &str) -> Option<usize> {
    let mut quote = None;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(_), '\\') if !escaped => {
                escaped = true;
                continue;
            }
            (Some(q), c) if c == q && !escaped => quote = None,
            (None, '"' | '\'') => quote = Some(c),
            (None, '}') => return Some(i),
            _ => {}
        }
        escaped = false;
    }
    None
}

/// A Go double-quoted string literal (strconv.Unquote).
fn unquote(text: &str) -> Result<String, String> {
    let inner = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .filter(|_| text.len() >= 2)
        .ok_or("unterminated quoted string")?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let escaped = match chars.next().ok_or("unterminated quoted string")? {
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            '\\' => '\\',
            '"' => '"',
            '\'' => '\'',
            '0' => '\0',
            'u' => {
                let hex: String = chars.by_ref().take(4).collect();
                u32::from_str_radix(&hex, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| format!("invalid escape \\u{hex}"))?
            }
            other => return Err(format!("invalid escape \\{other}")),
        };
        out.push(escaped);
    }
    Ok(out)
}

/// A path: `$`/`@` (the current object), then `.field`, `..`, `.*`, `[…]` steps.
fn parse_path(text: &str) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    let mut rest = text.strip_prefix(['$', '@']).unwrap_or(text);
    while let Some(c) = rest.chars().next() {
        match c {
            '.' if rest.starts_with("..") => {
                steps.push(Step::Recursive);
                rest = &rest[2..];
                if let Some(after) = rest.strip_prefix('*') {
                    steps.push(Step::Wildcard);
                    rest = after;
                } else if !rest.starts_with('[') {
                    let end = rest.find(is_terminator).unwrap_or(rest.len());
                    steps.push(Step::Field(rest[..end].to_string()));
                    rest = &rest[end..];
                }
            }
            '.' => {
                rest = &rest[1..];
                if let Some(after) = rest.strip_prefix('*') {
                    steps.push(Step::Wildcard);
                    rest = after;
                    continue;
                }
                let end = rest.find(is_terminator).unwrap_or(rest.len());
                steps.push(Step::Field(rest[..end].to_string()));
                rest = &rest[end..];
            }
            '[' => {
                let close = bracket_end(rest).ok_or("unterminated array")?;
                steps.push(parse_bracket(&rest[1..close])?);
                rest = &rest[close + 1..];
            }
            ' ' => rest = rest.trim_start(),
            other => {
                return Err(format!(
                    "unrecognized character in action: U+{:04X} '{other}'",
                    other as u32
                ));
            }
        }
    }
    Ok(steps)
}

fn is_terminator(c: char) -> bool {
    matches!(c, ' ' | '.' | ',' | '[' | ']' | '$' | '@' | '{' | '}')
}

/// The index of the `]` closing the `[` at the start of `text` (quotes and parentheses nest).
fn bracket_end(text: &str) -> Option<usize> {
    let (mut depth, mut quote) = (0usize, None);
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '[' | '(') => depth += 1,
            (None, ')') => depth = depth.saturating_sub(1),
            (None, ']') => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// What stands between `[` and `]`: a filter, `*`, a quoted field path, a union, or a slice.
fn parse_bracket(text: &str) -> Result<Step, String> {
    let text = text.trim();
    if let Some(filter) = text.strip_prefix("?(").and_then(|t| t.strip_suffix(')')) {
        return parse_filter(filter);
    }
    if text == "*" {
        return Ok(Step::Wildcard);
    }
    if text.contains(',') {
        let parts = text
            .split(',')
            .map(|part| match parse_bracket(part)? {
                Step::Field(name) => parse_path(&format!(".{name}")),
                step => Ok(vec![step]),
            })
            .collect::<Result<_, String>>()?;
        return Ok(Step::Union(parts));
    }
    if let Some(key) = text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
        // kubectl reads `['a.b']` as the path `.a.b`.
        let steps = parse_path(&format!(".{key}"))?;
        return Ok(match steps.as_slice() {
            [Step::Field(name)] => Step::Field(name.clone()),
            _ => Step::Union(vec![steps]),
        });
    }
    let parts: Vec<&str> = text.split(':').collect();
    if parts.len() > 3 {
        return Err(format!("invalid array index {text}"));
    }
    let mut slice = [None; 3];
    for (i, part) in parts.iter().enumerate() {
        let part = part.trim();
        if !part.is_empty() {
            slice[i] = Some(
                part.parse::<i64>()
                    .map_err(|_| format!("invalid array index {text}"))?,
            );
        }
    }
    if parts.len() == 1 {
        // `[n]`: one element.
        let n = slice[0].ok_or(format!("invalid array index {text}"))?;
        slice[1] = Some(if n == -1 { i64::MAX } else { n + 1 });
    }
    Ok(Step::Slice(slice))
}

fn parse_filter(text: &str) -> Result<Step, String> {
    let ops = ["==", "!=", "<=", ">=", "<", ">"];
    let found = ops
        .iter()
        .filter_map(|op| text.find(op).map(|at| (at, *op)))
        .min_by_key(|(at, op)| (*at, usize::MAX - op.len()));
    let filter = match found {
        None => Filter {
            left: operand(text)?,
            compare: None,
        },
        Some((at, op)) => Filter {
            left: operand(&text[..at])?,
            compare: Some((op.to_string(), operand(&text[at + op.len()..])?)),
        },
    };
    Ok(Step::Filter(Box::new(filter)))
}

fn operand(text: &str) -> Result<Operand, String> {
    let text = text.trim();
    if text.starts_with(['@', '$', '.']) {
        return Ok(Operand::Path(parse_path(text)?));
    }
    if text.starts_with('"') {
        return Ok(Operand::Literal(Value::String(unquote(text)?)));
    }
    if text.starts_with('\'') && text.ends_with('\'') && text.len() >= 2 {
        return Ok(Operand::Literal(Value::String(
            text[1..text.len() - 1].to_string(),
        )));
    }
    if let Ok(n) = text.parse::<i64>() {
        return Ok(Operand::Literal(n.into()));
    }
    if let Ok(f) = text.parse::<f64>() {
        return Ok(Operand::Literal(f.into()));
    }
    Ok(Operand::Unknown(text.to_string()))
}

fn find_nodes(
    nodes: &[Node],
    root: &Value,
    current: &Value,
    out: &mut Vec<(bool, Vec<Value>)>,
) -> Result<(), String> {
    for node in nodes {
        match node {
            Node::Text(text) => out.push((true, vec![Value::String(text.clone())])),
            Node::Path(steps) => out.push((false, walk(steps, root, vec![current])?)),
            Node::Range(steps, body) => {
                for value in walk(steps, root, vec![current])? {
                    find_nodes(body, root, &value, out)?;
                }
            }
        }
    }
    Ok(())
}

/// Present values: null counts as missing (see the module's note).
fn present(value: &Value) -> Option<&Value> {
    (!value.is_null()).then_some(value)
}

fn walk(steps: &[Step], root: &Value, input: Vec<&Value>) -> Result<Vec<Value>, String> {
    let mut values: Vec<Value> = input.into_iter().filter_map(present).cloned().collect();
    for step in steps {
        values = apply(step, root, values)?;
    }
    Ok(values)
}

fn apply(step: &Step, root: &Value, input: Vec<Value>) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    for value in input {
        match step {
            Step::Field(name) => {
                if let Some(v) = value.get(name.as_str()).and_then(present) {
                    out.push(v.clone());
                }
            }
            Step::Wildcard => out.extend(children(&value).into_iter().cloned()),
            Step::Recursive => descend(&value, &mut out),
            Step::Slice(slice) => out.extend(slice_of(&value, *slice)?),
            Step::Union(paths) => {
                for path in paths {
                    out.extend(walk(path, root, vec![&value])?);
                }
            }
            Step::Filter(filter) => {
                let Value::Array(items) = &value else {
                    return Err(format!(
                        "{} is not array or slice and cannot be filtered",
                        to_text(&value)
                    ));
                };
                for item in items {
                    if passes(filter, root, item)? {
                        out.push(item.clone());
                    }
                }
            }
        }
    }
    Ok(out)
}

fn children(value: &Value) -> Vec<&Value> {
    match value {
        Value::Object(map) => map.values().filter_map(present).collect(),
        Value::Array(items) => items.iter().filter_map(present).collect(),
        _ => Vec::new(),
    }
}

/// `..`: the value itself (when it has children) and everything below it, depth first.
fn descend(value: &Value, out: &mut Vec<Value>) {
    let kids = children(value);
    if kids.is_empty() {
        return;
    }
    out.push(value.clone());
    for kid in kids {
        descend(kid, out);
    }
}

fn slice_of(value: &Value, [start, end, step]: [Option<i64>; 3]) -> Result<Vec<Value>, String> {
    let Value::Array(items) = value else {
        return Err(format!("{} is not array or slice", type_name(value)));
    };
    let len = items.len() as i64;
    let from = start.map_or(0, |s| if s < 0 { s + len } else { s });
    let to = end.map_or(len, |e| {
        if e == i64::MAX {
            len
        } else if e < 0 {
            e + len
        } else {
            e
        }
    });
    if from != to {
        if from >= len || from < 0 {
            return Err(format!(
                "array index out of bounds: index {from}, length {len}"
            ));
        }
        if to > len {
            return Err(format!(
                "array index out of bounds: index {}, length {len}",
                to - 1
            ));
        }
    }
    let step = step.unwrap_or(1);
    if step <= 0 {
        return Err("step must be > 0".into());
    }
    if to <= from {
        return Ok(Vec::new());
    }
    Ok(items[from as usize..to as usize]
        .iter()
        .step_by(step as usize)
        .filter_map(present)
        .cloned()
        .collect())
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        Value::Object(_) => "map[string]interface {}",
        Value::Array(_) => "[]interface {}",
        Value::Null => "nil",
    }
}

fn passes(filter: &Filter, root: &Value, item: &Value) -> Result<bool, String> {
    let resolve = |operand: &Operand| -> Result<Vec<Value>, String> {
        match operand {
            Operand::Path(steps) => walk(steps, root, vec![item]),
            Operand::Literal(v) => Ok(vec![v.clone()]),
            Operand::Unknown(word) => Err(format!("unrecognized identifier {word}")),
        }
    };
    let lefts = resolve(&filter.left)?;
    let Some((op, right)) = &filter.compare else {
        return Ok(!lefts.is_empty());
    };
    // An element without the field is not selected (kubectl skips it).
    if lefts.is_empty() {
        return Ok(false);
    }
    let rights = resolve(right)?;
    let (left, right) = match (lefts.as_slice(), rights.as_slice()) {
        ([l], [r]) => (l, r),
        _ => return Err("can only compare one element at a time".into()),
    };
    let order = compare(left, right);
    Ok(match op.as_str() {
        "==" => order? == Ordering::Equal,
        "!=" => order? != Ordering::Equal,
        "<" => order? == Ordering::Less,
        ">" => order? == Ordering::Greater,
        "<=" => order? != Ordering::Greater,
        _ => order? != Ordering::Less,
    })
}

fn compare(left: &Value, right: &Value) -> Result<Ordering, String> {
    match (left, right) {
        (Value::Number(a), Value::Number(b)) => {
            if let (Some(a), Some(b)) = (a.as_i64(), b.as_i64()) {
                return Ok(a.cmp(&b));
            }
            let (a, b) = (a.as_f64().unwrap_or(0.0), b.as_f64().unwrap_or(0.0));
            Ok(a.partial_cmp(&b).unwrap_or(Ordering::Equal))
        }
        (Value::String(a), Value::String(b)) => Ok(a.cmp(b)),
        (Value::Bool(a), Value::Bool(b)) => Ok(a.cmp(b)),
        _ => Err("incompatible types for comparison".into()),
    }
}

#[cfg(test)]
#[path = "jsonpath_tests.rs"]
mod tests;
