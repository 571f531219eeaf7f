//! Markdown to safe HTML: pulldown-cmark renders, then an allow-list sanitizer (ammonia) keeps only
//! harmless tags, attributes and URL schemes. The stored source is never changed; this runs on the
//! way out.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd, TextMergeStream};

/// Tags a comment may contain. No script, style, iframe, svg, math, form or input.
const TAGS: &[&str] = &[
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "kbd",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
];

/// Elements removed with everything inside them (their text is code or markup, not prose).
const DROP_WITH_CONTENT: &[&str] = &[
    "script",
    "style",
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "svg",
    "math",
    "template",
    "noscript",
    "noembed",
    "noframes",
    "textarea",
    "select",
    "option",
    "title",
    "xmp",
    "plaintext",
    "form",
    "button",
];

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let attributes: HashMap<&str, HashSet<&str>> = [
        ("a", ["href", "title"].as_slice()),
        ("img", ["src", "alt", "title"].as_slice()),
        ("code", ["class"].as_slice()),
        ("span", ["class"].as_slice()),
        ("ol", ["start"].as_slice()),
        ("abbr", ["title"].as_slice()),
    ]
    .into_iter()
    .map(|(tag, attrs)| (tag, attrs.iter().copied().collect()))
    .collect();
    let mut b = ammonia::Builder::empty();
    b.tags(TAGS.iter().copied().collect())
        .clean_content_tags(DROP_WITH_CONTENT.iter().copied().collect())
        .tag_attributes(attributes)
        .generic_attributes(HashSet::new())
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .url_relative(ammonia::UrlRelative::PassThrough)
        .link_rel(Some("noopener noreferrer nofollow"))
        .strip_comments(true)
        .set_tag_attribute_value("img", "referrerpolicy", "no-referrer")
        .set_tag_attribute_value("img", "loading", "lazy")
        .attribute_filter(|element, attribute, value| match (element, attribute) {
            // Images from the web only: no data:, no relative paths into the app.
            ("img", "src") => {
                let v = value.trim_start().to_ascii_lowercase();
                (v.starts_with("https://") || v.starts_with("http://")).then(|| value.into())
            }
            // Syntax highlighting hints of fenced code, nothing else.
            ("code", "class") => is_language_class(value).then(|| value.into()),
            ("span", "class") => (value == "mention").then(|| value.into()),
            _ => Some(Cow::Borrowed(value)),
        });
    b
});

fn is_language_class(value: &str) -> bool {
    value.strip_prefix("language-").is_some_and(|lang| {
        !lang.is_empty()
            && lang.len() <= 32
            && lang
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+' | '#' | '.'))
    })
}

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH
}

/// The `@username` mentions of a text: `@` at the start or after a character that cannot be part of
/// an address (so `bob@example.com` is not one), then 3 to 100 letters, digits, `.`, `_`, `-`
/// (a trailing dot is punctuation).
fn scan_mentions(text: &str) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let word = |c: char| c.is_alphanumeric() || matches!(c, '.' | '_' | '-');
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        let starts = c == '@' && (i == 0 || !(word(chars[i - 1].1) || chars[i - 1].1 == '@'));
        if !starts {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < chars.len() && word(chars[j].1) {
            j += 1;
        }
        while j > i + 1 && chars[j - 1].1 == '.' {
            j -= 1;
        }
        let name_len = j - i - 1;
        if (3..=100).contains(&name_len) {
            let end = chars.get(j).map_or(text.len(), |(b, _)| *b);
            found.push((at, end));
        }
        i = j.max(i + 1);
    }
    found
}

/// Runs `f` on the prose text of the markdown (not code spans or code blocks).
fn prose_events(markdown: &str) -> impl Iterator<Item = (bool, Event<'_>)> {
    let mut in_code = 0usize;
    TextMergeStream::new(Parser::new_ext(markdown, options())).map(move |event| {
        match &event {
            Event::Start(Tag::CodeBlock(_)) => in_code += 1,
            Event::End(TagEnd::CodeBlock) => in_code = in_code.saturating_sub(1),
            _ => {}
        }
        (in_code == 0, event)
    })
}

/// The distinct usernames mentioned in prose (lowercase, at most 50).
pub fn mentions(markdown: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (prose, event) in prose_events(markdown) {
        if let (true, Event::Text(text)) = (prose, &event) {
            for (start, end) in scan_mentions(text) {
                let name = text[start + 1..end].to_lowercase();
                if !names.contains(&name) && names.len() < 50 {
                    names.push(name);
                }
            }
        }
    }
    names
}

/// Renders markdown to sanitized HTML. Mentions are wrapped in `<span class="mention">`.
pub fn render(markdown: &str) -> String {
    let mut events: Vec<Event<'_>> = Vec::new();
    for (prose, event) in prose_events(markdown) {
        match event {
            Event::Text(text) if prose => {
                let spans = scan_mentions(&text);
                if spans.is_empty() {
                    events.push(Event::Text(text));
                    continue;
                }
                let mut last = 0;
                for (start, end) in spans {
                    if start > last {
                        events.push(Event::Text(CowStr::from(text[last..start].to_owned())));
                    }
                    // The name has only letters, digits and `._-`: nothing to escape.
                    events.push(Event::InlineHtml(CowStr::from(format!(
                        "<span class=\"mention\">{}</span>",
                        &text[start..end]
                    ))));
                    last = end;
                }
                if last < text.len() {
                    events.push(Event::Text(CowStr::from(text[last..].to_owned())));
                }
            }
            other => events.push(other),
        }
    }
    let mut html = String::with_capacity(markdown.len() * 2);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    sanitize(&html)
}

/// Sanitizes HTML with the comment allow-list.
pub fn sanitize(html: &str) -> String {
    SANITIZER.clean(html).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_found_in_prose_only() {
        assert_eq!(
            mentions("hi @Alice and @bob_ops. mail bob@example.com `@carol` @x\n```\n@dave\n```\n(@eve)"),
            ["alice", "bob_ops", "eve"]
        );
    }

    #[test]
    fn markdown_renders_and_keeps_code() {
        let html = render("**bold** [site](https://example.com) @alice\n\n```rust\nfn main() {}\n```");
        assert!(html.contains("<strong>bold</strong>"), "{html}");
        assert!(
            html.contains(r#"<a href="https://example.com" rel="noopener noreferrer nofollow">site</a>"#),
            "{html}"
        );
        assert!(html.contains(r#"<span class="mention">@alice</span>"#), "{html}");
        assert!(
            html.contains(r#"<pre><code class="language-rust">fn main() {}"#),
            "{html}"
        );
    }

    #[test]
    fn dangerous_markup_is_removed() {
        let html =
            render("<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[x](javascript:alert(1))");
        assert!(!html.contains("script"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        assert!(!html.contains("javascript"), "{html}");
    }
}
