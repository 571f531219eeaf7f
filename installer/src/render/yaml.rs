//! A small, deterministic YAML emitter for `serde_json::Value`.
//!
//! Why not the YAML crate's serializer: it follows YAML 1.2, where `on`, `off`, `yes` or `no`
//! are plain strings, and writes them unquoted; PyYAML (Patroni, Ansible) and the YAML 1.1
//! parsers behind Kubernetes tooling read those back as booleans (`ssl: on` became `True`).
//! This emitter quotes every string that is not unambiguously a string in both YAML 1.1 and
//! 1.2, writes multi-line strings (embedded HCL, chart values) as literal blocks, and keeps the
//! map order it is given (sorted, for `serde_json::Map`).

use serde_json::Value;

/// YAML text of a value (a document without the `---` marker), ending with a newline.
pub fn emit(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(m) if !m.is_empty() => map(&mut out, m, 0),
        Value::Array(a) if !a.is_empty() => seq(&mut out, a, 0),
        scalar => {
            inline(&mut out, scalar, 0);
            out.push('\n');
        }
    }
    out
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

fn is_block(v: &Value) -> bool {
    match v {
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => false,
    }
}

fn map(out: &mut String, m: &serde_json::Map<String, Value>, indent: usize) {
    let mut first = true;
    for (k, v) in m {
        if !first {
            pad(out, indent);
        }
        first = false;
        out.push_str(&scalar_string(k));
        out.push(':');
        value_after_key(out, v, indent);
    }
}

/// Writes what follows `key:` (or `- `): an inline scalar, or a nested block.
fn value_after_key(out: &mut String, v: &Value, indent: usize) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            pad(out, indent + 2);
            map(out, m, indent + 2);
        }
        // Sequences under a key sit at the key's indentation, as kubectl writes them.
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            pad(out, indent);
            seq(out, a, indent);
        }
        _ => {
            out.push(' ');
            inline(out, v, indent);
            out.push('\n');
        }
    }
}

fn seq(out: &mut String, a: &[Value], indent: usize) {
    let mut first = true;
    for item in a {
        if !first {
            pad(out, indent);
        }
        first = false;
        out.push_str("- ");
        match item {
            Value::Object(m) if !m.is_empty() => map(out, m, indent + 2),
            Value::Array(inner) if !inner.is_empty() => seq(out, inner, indent + 2),
            _ => {
                inline(out, item, indent);
                out.push('\n');
            }
        }
    }
}

fn inline(out: &mut String, v: &Value, indent: usize) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) if s.contains('\n') && block_safe(s) => literal(out, s, indent),
        Value::String(s) => out.push_str(&scalar_string(s)),
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
    }
    debug_assert!(!is_block(v));
}

/// Multi-line text as a literal block (`|`, `|-` or `|+` by its trailing newlines).
fn literal(out: &mut String, s: &str, indent: usize) {
    let body = s.trim_end_matches('\n');
    let trailing = s.len() - body.len();
    out.push('|');
    match trailing {
        0 => out.push('-'),
        1 => {}
        _ => out.push('+'),
    }
    out.push('\n');
    for line in s.strip_suffix('\n').unwrap_or(s).split('\n') {
        if !line.is_empty() {
            pad(out, indent + 2);
            out.push_str(line);
        }
        out.push('\n');
    }
    // The caller adds the newline after a scalar; a block already ends with one.
    out.pop();
}

/// A literal block can hold the text: no leading space on its first line (it would set the
/// indentation), no tabs or trailing spaces (editors and YAML parsers disagree on them).
fn block_safe(s: &str) -> bool {
    !s.starts_with(' ') && !s.contains('\t') && !s.contains('\r') && s.lines().all(|l| !l.ends_with(' '))
}

/// Strings YAML 1.1 resolves to something else than a string.
const YAML11_SPECIAL: &[&str] = &["y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"];

/// A string as a plain scalar when that is unambiguous, else double-quoted (JSON escaping is
/// valid YAML).
fn scalar_string(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./@+=-".contains(c))
        && s.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '/')
        && !YAML11_SPECIAL.contains(&s.to_ascii_lowercase().as_str());
    if plain {
        s.to_owned()
    } else {
        serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::emit;

    #[test]
    fn round_trips_and_quotes_yaml11_booleans() {
        let v = json!({
            "ssl": "on", "mode": "off", "answer": "yes", "n": "n", "num": "5432", "ver": "0.1.0",
            "cidr": "10.42.0.0/16", "url": "https://x:1/", "empty": "", "hash": "a #b", "colon": "a: b",
            "regex": "^(.*)$", "star": "*", "dash": "-x", "plain": "app.kubernetes.io/name",
            "text": "line 1\n  indented\n\nlast\n", "nofinal": "a\nb", "lead": " a\nb",
            "list": [1, "two", {"k": "v", "m": {"x": [true, null]}}, [], {}, ["nested", "seq"]],
            "obj": {}, "int": 3, "float": 1.5, "bool": false,
        });
        let text = emit(&v);
        for quoted in [
            "\"on\"",
            "\"off\"",
            "\"yes\"",
            "\"n\"",
            "\"5432\"",
            "\"0.1.0\"",
            "\"10.42.0.0/16\"",
        ] {
            assert!(text.contains(quoted), "{quoted} not quoted in:\n{text}");
        }
        assert!(
            text.contains("text: |\n  line 1\n    indented\n\n  last\n"),
            "{text}"
        );
        let back: serde_json::Value = serde_norway::from_str(&text).unwrap();
        assert_eq!(back, v, "round trip of:\n{text}");
    }
}
