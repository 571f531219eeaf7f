//! Comments through the HTTP API: markdown rendered and sanitized (an XSS corpus), reactions,
//! deletion rights, mentions that notify.

use chrono::Utc;
use reqwest::Method;
use serde_json::{Value, json};
use uyoop_cal::model::AuditQuery;

use crate::helpers::{Db, TestApp, assert_problem};
use crate::notifications::{inbox, meeting, prod_window, quiet, run_jobs};
use crate::on_both_backends;

on_both_backends!(
    post_list_and_validate,
    xss_corpus_renders_nothing_executable,
    reactions_toggle_count_and_who,
    only_author_or_admin_deletes,
    mentions_notify_the_mentioned_only,
    markdown_preview_changes_nothing,
);

async fn post(app: &TestApp, token: &str, event: i64, body: &str) -> reqwest::Response {
    app.post_json(
        &format!("/api/events/{event}/comments"),
        Some(token),
        json!({"body": body}),
    )
    .await
}

async fn list(app: &TestApp, token: &str, event: i64) -> Vec<Value> {
    let resp = app
        .get_auth(&format!("/api/events/{event}/comments"), token)
        .await;
    assert_eq!(resp.status(), 200);
    resp.json::<Value>().await.unwrap()["items"]
        .as_array()
        .unwrap()
        .clone()
}

async fn post_list_and_validate(kind: Db) {
    let app = TestApp::spawn_with(kind, quiet).await;
    let admin = app.admin().await;
    let alice = app.user(&admin, "alice", "DEV").await;
    let bob = app.user(&admin, "bob", "OPS").await;
    let event = prod_window(&app, "Release", bob.id).await;

    let source =
        "## Plan\n\n- **check** the [runbook](https://wiki.example.com/rb)\n\n```sh\nkubectl get pods\n```";
    let resp = post(&app, &alice.token, event.id, source).await;
    assert_eq!(resp.status(), 201);
    let c: Value = resp.json().await.unwrap();
    assert_eq!(c["body"], source, "stored as written");
    assert_eq!(c["event_id"], event.id);
    assert_eq!(c["author"], json!({"id": alice.id, "username": "alice"}));
    assert_eq!(c["reactions"], json!([]));
    let html = c["html"].as_str().unwrap();
    assert!(html.contains("<h2>Plan</h2>"), "{html}");
    assert!(html.contains("<strong>check</strong>"), "{html}");
    assert!(
        html.contains(
            r#"<a href="https://wiki.example.com/rb" rel="noopener noreferrer nofollow">runbook</a>"#
        ),
        "{html}"
    );
    assert!(
        html.contains(r#"<pre><code class="language-sh">kubectl get pods"#),
        "{html}"
    );
    assert!(c["created_at"].is_string());

    post(&app, &bob.token, event.id, "second").await;
    let items = list(&app, &bob.token, event.id).await;
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], c["id"], "oldest first");
    assert_eq!(items[1]["author"]["username"], "bob");

    // Validation: empty, blank, too long, unknown fields; the limit itself is fine.
    for bad in [
        json!({"body": ""}),
        json!({"body": "  \n "}),
        json!({"body": "x".repeat(10_001)}),
        json!({"body": "x", "author_id": 1}),
    ] {
        let resp = app
            .post_json(
                &format!("/api/events/{}/comments", event.id),
                Some(&alice.token),
                bad,
            )
            .await;
        assert_problem(resp, 422).await;
    }
    let long = "é".repeat(10_000);
    let resp = post(&app, &alice.token, event.id, &long).await;
    assert_eq!(resp.status(), 201, "10000 characters (20000 bytes) are allowed");
    assert_eq!(list(&app, &alice.token, event.id).await.len(), 3);

    // Unknown event: 404 both ways; no token: 401.
    assert_problem(
        app.get_auth("/api/events/999999/comments", &alice.token).await,
        404,
    )
    .await;
    assert_problem(post(&app, &alice.token, 999_999, "hello").await, 404).await;
    assert_eq!(
        app.get(&format!("/api/events/{}/comments", event.id))
            .await
            .status(),
        401
    );

    let audit = app
        .store()
        .list_audit(&AuditQuery {
            action_prefix: Some("comment.create".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(audit.total, 3);
    assert_eq!(audit.items[2].user_id, Some(alice.id));
    assert_eq!(audit.items[2].resource_id, Some(c["id"].to_string()));
    app.stop().await;
}

/// OWASP XSS filter-evasion cases and sanitizer corpora (Gitea, ammonia), as markdown input.
const XSS: &[&str] = &[
    "<script>alert('XSS')</script>",
    "<SCRIPT SRC=https://xss.example/xss.js></SCRIPT>",
    "<script/XSS src=\"https://xss.example/xss.js\"></script>",
    "<<SCRIPT>alert(\"XSS\");//<</SCRIPT>",
    "<SCRIPT SRC=//xss.example/.j>",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<IMG SRC=javascript:alert('XSS')>",
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    "<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>",
    "<IMG \"\"\"><SCRIPT>alert(\"XSS\")</SCRIPT>\"\\>",
    "<IMG SRC=javascript:alert(String.fromCharCode(88,83,83))>",
    "<IMG SRC=# onmouseover=\"alert('xxs')\">",
    "<IMG SRC= onmouseover=\"alert('xxs')\">",
    "<IMG onmouseover=\"alert('xxs')\">",
    "<IMG SRC=/ onerror=\"alert(String.fromCharCode(88,83,83))\"></img>",
    "<img src=x onerror=\"&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116&#0000040&#0000039&#0000088&#0000083&#0000083&#0000039&#0000041\">",
    "<img src=x onerror=alert(1)>",
    "<img src=x:alert(alt) onerror=eval(src) alt=0>",
    "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;>",
    "<IMG SRC=&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116&#0000040&#0000039&#0000088&#0000083&#0000083&#0000039&#0000041>",
    "<IMG SRC=&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A&#x61&#x6C&#x65&#x72&#x74&#x28&#x27&#x58&#x53&#x53&#x27&#x29>",
    "<IMG SRC=\"jav\tascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x09;ascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x0A;ascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x0D;ascript:alert('XSS');\">",
    "<IMG SRC=\" &#14;  javascript:alert('XSS');\">",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<a href=\"JAVASCRIPT:alert(1)\">x</a>",
    "<a href=\" javascript:alert(1)\">x</a>",
    "<a href=\"java&#x09;script:alert(1)\">x</a>",
    "<a href=\"&#x6A;avascript:alert(1)\">x</a>",
    "<a href=\"javascript&colon;alert(1)\">x</a>",
    "<a href=\"vbscript:msgbox(1)\">x</a>",
    "<a href=\"VbScRiPt:msgbox(1)\">x</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
    "<a href=\"DATA:text/html,<script>alert(1)</script>\">x</a>",
    "<a href=\"https://ok.example\" onclick=\"alert(1)\">x</a>",
    "<a href=\"https://ok.example\" target=\"_blank\" rel=\"opener\">x</a>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](javascript&#58;alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](%6A%61%76%61%73%63%72%69%70%74:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click]( javascript:alert(1) )",
    "[click](<javascript:alert(1)>)",
    "[ref]\n\n[ref]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "![img](javascript:alert(1))",
    "![img](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![img](x \"onerror=alert(1)\")",
    "![x\" onerror=\"alert(1)](https://img.example/a.png)",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<svg><a xlink:href=\"javascript:alert(1)\"><text x=\"20\" y=\"20\">XSS</text></a></svg>",
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
    "<IFRAME SRC=\"https://xss.example/\"></IFRAME>",
    "<object data=\"javascript:alert(1)\"></object>",
    "<embed src=\"javascript:alert(1)\">",
    "<style>@import'https://xss.example/xss.css';</style>",
    "<STYLE>li {list-style-image: url(\"javascript:alert('XSS')\");}</STYLE><UL><LI>XSS</br>",
    "<DIV STYLE=\"background-image: url(javascript:alert('XSS'))\">",
    "<span style=\"x:expression(alert(1))\">x</span>",
    "<LINK REL=\"stylesheet\" HREF=\"javascript:alert('XSS');\">",
    "<META HTTP-EQUIV=\"refresh\" CONTENT=\"0;url=javascript:alert('XSS');\">",
    "<BASE HREF=\"javascript:alert('XSS');//\">",
    "<form action=\"javascript:alert(1)\"><input type=submit></form>",
    "<button formaction=\"javascript:alert(1)\">x</button>",
    "<input onfocus=alert(1) autofocus>",
    "<details open ontoggle=alert(1)>",
    "<body onload=alert('XSS')>",
    "<TABLE BACKGROUND=\"javascript:alert('XSS')\">",
    "<TD BACKGROUND=\"javascript:alert('XSS')\">",
    "<BGSOUND SRC=\"javascript:alert('XSS');\">",
    "<BR SIZE=\"&{alert('XSS')}\">",
    "<video><source onerror=\"alert(1)\">",
    "<audio src=x onerror=alert(1)>",
    "<marquee onstart=alert(1)>",
    "<!--<img src=\"--><img src=x onerror=alert(1)//\">",
    "<![CDATA[<script>alert(1)</script>]]>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "<template><script>alert(1)</script></template>",
    "<textarea><script>alert(1)</script></textarea>",
    "<title><script>alert(1)</script></title>",
    "<xmp><script>alert(1)</script></xmp>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<img src=\"x` `<script>alert(1)</script>\"` `>",
    "<a href=\"#\" onmouseover=\"alert(1)\" id=\"x\" name=\"cookie\">x</a>",
    "<p id=\"location\" name=\"body\">dom clobbering</p>",
    "<code class=\"x onclick=alert(1)\">c</code>",
    "```\"><script>alert(1)</script>\nx\n```",
    "```js onclick=alert(1)\nx\n```",
    "**<img src=x onerror=alert(1)>**",
    "<b <script>alert(1)</script>>",
    "<div\nonclick=alert(1)>x",
    "<a href=\"https://ok.example\"\n   onmouseover=alert(1)>x",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<a href=\"&#1;javascript:alert(1)\">x</a>",
];

/// Tags the sanitizer may emit.
const ALLOWED_TAGS: &[&str] = &[
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
const ALLOWED_ATTRS: &[&str] = &[
    "href",
    "title",
    "src",
    "alt",
    "class",
    "start",
    "rel",
    "referrerpolicy",
    "loading",
];

/// One tag of the output: name and attributes (values with entities decoded as a browser would).
fn tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out = Vec::new();
    let bytes: Vec<char> = html.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != '<' {
            i += 1;
            continue;
        }
        // Read to the closing '>' outside quotes.
        let mut j = i + 1;
        let mut quote: Option<char> = None;
        while j < bytes.len() {
            let c = bytes[j];
            match quote {
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None if c == '"' || c == '\'' => quote = Some(c),
                None if c == '>' => break,
                None => {}
            }
            j += 1;
        }
        let inner: String = bytes[i + 1..j.min(bytes.len())].iter().collect();
        i = j + 1;
        let inner = inner.trim_start_matches('/').trim_end_matches('/');
        let mut parts = inner.splitn(2, char::is_whitespace);
        let name = parts.next().unwrap_or_default().to_lowercase();
        let mut attrs = Vec::new();
        let mut rest = parts.next().unwrap_or_default().trim();
        while !rest.is_empty() {
            let end = rest
                .find(|c: char| c == '=' || c.is_whitespace())
                .unwrap_or(rest.len());
            let attr = rest[..end].to_lowercase();
            rest = rest[end..].trim_start();
            let mut value = String::new();
            if let Some(r) = rest.strip_prefix('=') {
                let r = r.trim_start();
                if let Some(q) = r.chars().next().filter(|c| *c == '"' || *c == '\'') {
                    let close = r[1..].find(q).map_or(r.len(), |p| p + 1);
                    value = r[1..close].to_owned();
                    rest = r.get(close + 1..).unwrap_or_default().trim_start();
                } else {
                    let e = r.find(char::is_whitespace).unwrap_or(r.len());
                    value = r[..e].to_owned();
                    rest = r[e..].trim_start();
                }
            }
            let value = value
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&");
            attrs.push((attr, value));
        }
        out.push((name, attrs));
    }
    out
}

/// Whether a URL, as a browser would read it, is of an allowed scheme (or relative).
fn safe_url(value: &str, image: bool) -> bool {
    let v: String = value
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect::<String>()
        .to_lowercase();
    if image {
        return v.starts_with("http://") || v.starts_with("https://");
    }
    if v.starts_with("http://") || v.starts_with("https://") || v.starts_with("mailto:") {
        return true;
    }
    // Otherwise relative: what precedes the first ':' is not a scheme (a letter, then letters,
    // digits, '+', '-', '.'), or a '/', '?' or '#' comes first (URL standard).
    let head = v.split(['/', '?', '#']).next().unwrap_or_default();
    match head.split_once(':') {
        None => true,
        Some((scheme, _)) => {
            let mut chars = scheme.chars();
            !(chars.next().is_some_and(|c| c.is_ascii_alphabetic())
                && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
        }
    }
}

/// Asserts nothing in `html` can run script.
fn assert_inert(input: &str, html: &str) {
    for (name, attrs) in tags(html) {
        if name.starts_with('!') {
            panic!("comment or doctype kept for {input:?}: {html}");
        }
        assert!(
            ALLOWED_TAGS.contains(&name.as_str()),
            "tag <{name}> from {input:?}: {html}"
        );
        for (attr, value) in &attrs {
            assert!(
                ALLOWED_ATTRS.contains(&attr.as_str()),
                "attribute {attr} on <{name}> from {input:?}: {html}"
            );
            if attr == "href" {
                assert!(safe_url(value, false), "href {value:?} from {input:?}: {html}");
            }
            if attr == "src" {
                assert!(safe_url(value, true), "src {value:?} from {input:?}: {html}");
            }
            if attr == "class" {
                assert!(
                    value == "mention" || value.starts_with("language-") && !value.contains(' '),
                    "class {value:?} from {input:?}"
                );
            }
        }
        if name == "a" && attrs.iter().any(|(a, _)| a == "href") {
            assert!(
                attrs
                    .iter()
                    .any(|(a, v)| a == "rel" && v == "noopener noreferrer nofollow"),
                "link without rel from {input:?}: {html}"
            );
        }
    }
    let lower = html.to_lowercase();
    for never in [
        "<script", "<style", "<iframe", "<svg", "<math", "<object", "<embed", "<form", "<input", "<meta",
        "<base", "<link",
    ] {
        assert!(!lower.contains(never), "{never} from {input:?}: {html}");
    }
}

async fn xss_corpus_renders_nothing_executable(kind: Db) {
    let app = TestApp::spawn_with(kind, quiet).await;
    let admin = app.admin().await;
    let alice = app.user(&admin, "alice", "DEV").await;
    let event = prod_window(&app, "Release", alice.id).await;
    for payload in XSS {
        let resp = post(&app, &alice.token, event.id, payload).await;
        assert_eq!(resp.status(), 201, "{payload:?}: {}", resp.text().await.unwrap());
        let c: Value = resp.json().await.unwrap();
        assert_eq!(c["body"], *payload, "stored as written");
        assert_inert(payload, c["html"].as_str().unwrap());
        let preview: Value = app
            .post_json(
                "/api/markdown/preview",
                Some(&alice.token),
                json!({"body": payload}),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(preview["html"], c["html"], "preview renders like a comment");
    }
    // Script and style content is gone, not shown as text.
    let c: Value = post(
        &app,
        &alice.token,
        event.id,
        "<script>alert('XSS')</script><style>body{}</style>ok",
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(c["html"], "ok");
    // What must survive: safe links, images from the web, mail links, code.
    let c: Value = post(
        &app,
        &alice.token,
        event.id,
        "![logo](https://img.example/logo.png) [mail](mailto:ops@example.com) `<b>` <b>bold</b>",
    )
    .await
    .json()
    .await
    .unwrap();
    let html = c["html"].as_str().unwrap();
    assert!(html.contains(r#"src="https://img.example/logo.png""#), "{html}");
    assert!(html.contains(r#"referrerpolicy="no-referrer""#), "{html}");
    assert!(html.contains(r#"href="mailto:ops@example.com""#), "{html}");
    assert!(html.contains("<code>&lt;b&gt;</code>"), "{html}");
    assert!(html.contains("<b>bold</b>"), "{html}");
    // Stored rows render the same when listed.
    let items = list(&app, &alice.token, event.id).await;
    assert_eq!(items.len(), XSS.len() + 2);
    for item in &items {
        assert_inert(item["body"].as_str().unwrap(), item["html"].as_str().unwrap());
    }
    app.stop().await;
}

async fn react(app: &TestApp, token: &str, comment: i64, emoji: &str) -> reqwest::Response {
    app.post_json(
        &format!("/api/comments/{comment}/reactions"),
        Some(token),
        json!({"emoji": emoji}),
    )
    .await
}

async fn reactions_toggle_count_and_who(kind: Db) {
    let app = TestApp::spawn_with(kind, quiet).await;
    let admin = app.admin().await;
    let alice = app.user(&admin, "alice", "DEV").await;
    let bob = app.user(&admin, "bob", "OPS").await;
    let event = prod_window(&app, "Release", alice.id).await;
    let c: Value = post(&app, &alice.token, event.id, "ship it?")
        .await
        .json()
        .await
        .unwrap();
    let id = c["id"].as_i64().unwrap();

    let r: Value = react(&app, &alice.token, id, "👍").await.json().await.unwrap();
    assert_eq!(
        r["reactions"],
        json!([{"emoji": "👍", "count": 1, "reacted": true, "users": ["alice"]}])
    );
    let r: Value = react(&app, &bob.token, id, "👍").await.json().await.unwrap();
    assert_eq!(
        r["reactions"],
        json!([{"emoji": "👍", "count": 2, "reacted": true, "users": ["alice", "bob"]}])
    );
    // With the variation selector some keyboards add.
    let r: Value = react(&app, &bob.token, id, "🔥\u{fe0f}")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        r["reactions"][1],
        json!({"emoji": "🔥", "count": 1, "reacted": true, "users": ["bob"]})
    );
    react(&app, &alice.token, id, "❌").await;
    react(&app, &admin.token, id, "✅").await;

    // Seen by alice: her own flags, the fixed order 👍 ✅ ❌ 🔥.
    let items = list(&app, &alice.token, event.id).await;
    assert_eq!(
        items[0]["reactions"],
        json!([
            {"emoji": "👍", "count": 2, "reacted": true, "users": ["alice", "bob"]},
            {"emoji": "✅", "count": 1, "reacted": false, "users": ["admin"]},
            {"emoji": "❌", "count": 1, "reacted": true, "users": ["alice"]},
            {"emoji": "🔥", "count": 1, "reacted": false, "users": ["bob"]},
        ])
    );
    // Toggling off.
    let r: Value = react(&app, &alice.token, id, "👍").await.json().await.unwrap();
    assert_eq!(
        r["reactions"][0],
        json!({"emoji": "👍", "count": 1, "reacted": false, "users": ["bob"]})
    );
    let r: Value = react(&app, &alice.token, id, "❌").await.json().await.unwrap();
    assert_eq!(r["reactions"].as_array().unwrap().len(), 3);

    // Other emoji, unknown comment, extra fields.
    for bad in ["😀", "", "👍👍", ":+1:"] {
        assert_problem(react(&app, &alice.token, id, bad).await, 422).await;
    }
    assert_problem(react(&app, &alice.token, 999_999, "👍").await, 404).await;
    let resp = app
        .post_json(
            &format!("/api/comments/{id}/reactions"),
            Some(&alice.token),
            json!({"emoji": "👍", "user_id": bob.id}),
        )
        .await;
    assert_problem(resp, 422).await;

    let audit = app
        .store()
        .list_audit(&AuditQuery {
            action_prefix: Some("comment.react".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(audit.total, 7);
    assert_eq!(audit.items[0].details["emoji"], "❌");
    assert_eq!(audit.items[0].details["added"], false);
    assert_eq!(audit.items[0].resource_id, Some(id.to_string()));
    app.stop().await;
}

async fn only_author_or_admin_deletes(kind: Db) {
    let app = TestApp::spawn_with(kind, quiet).await;
    let admin = app.admin().await;
    let alice = app.user(&admin, "alice", "DEV").await;
    let bob = app.user(&admin, "bob", "PROJET").await;
    let event = prod_window(&app, "Release", alice.id).await;
    let a: Value = post(&app, &alice.token, event.id, "mine")
        .await
        .json()
        .await
        .unwrap();
    let b: Value = post(&app, &bob.token, event.id, "bob's")
        .await
        .json()
        .await
        .unwrap();
    react(&app, &bob.token, a["id"].as_i64().unwrap(), "🔥").await;

    // Bob may not delete Alice's comment: 403, audited, nothing changes.
    let resp = app
        .send(
            Method::DELETE,
            &format!("/api/comments/{}", a["id"]),
            Some(&bob.token),
            None,
        )
        .await;
    assert_problem(resp, 403).await;
    let items = list(&app, &alice.token, event.id).await;
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["body"], "mine");
    assert_eq!(items[0]["reactions"][0]["count"], 1);
    let denied = app
        .store()
        .list_audit(&AuditQuery {
            action_prefix: Some("authz.denied".into()),
            user_id: Some(bob.id),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(denied.total, 1);

    // The author may; an ADMIN may delete anyone's.
    let resp = app
        .send(
            Method::DELETE,
            &format!("/api/comments/{}", a["id"]),
            Some(&alice.token),
            None,
        )
        .await;
    assert_eq!(resp.status(), 204);
    let resp = app
        .send(
            Method::DELETE,
            &format!("/api/comments/{}", b["id"]),
            Some(&admin.token),
            None,
        )
        .await;
    assert_eq!(resp.status(), 204);
    assert!(list(&app, &alice.token, event.id).await.is_empty());
    let resp = app
        .send(
            Method::DELETE,
            &format!("/api/comments/{}", a["id"]),
            Some(&alice.token),
            None,
        )
        .await;
    assert_problem(resp, 404).await;

    let audit = app
        .store()
        .list_audit(&AuditQuery {
            action_prefix: Some("comment.delete".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(audit.total, 2);
    assert_eq!(audit.items[0].user_id, Some(admin.id));
    assert_eq!(audit.items[0].details["by_author"], false);
    assert_eq!(audit.items[1].details["by_author"], true);
    app.stop().await;
}

async fn mentions_notify_the_mentioned_only(kind: Db) {
    let app = TestApp::spawn_with(kind, quiet).await;
    let admin = app.admin().await;
    let alice = app.user(&admin, "alice", "DEV").await;
    let bob = app.user(&admin, "bob.ops", "OPS").await;
    let carol = app.user(&admin, "carol", "PROJET").await;
    let event = meeting(&app, "Planning", carol.id, &[alice.id, bob.id]).await;

    let body = "@Bob.Ops can you check? cc @alice (me), @nobody, mail carol@example.com, `@carol`";
    let c: Value = post(&app, &alice.token, event.id, body)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        c["html"]
            .as_str()
            .unwrap()
            .contains(r#"<span class="mention">@Bob.Ops</span>"#),
        "{}",
        c["html"]
    );
    // The job is enqueued with the comment; the notification appears when it runs.
    assert_eq!(inbox(&app, &bob).await["total"], 0);
    assert!(run_jobs(&app, Utc::now()).await.is_empty());

    let bobs = inbox(&app, &bob).await;
    assert_eq!(bobs["unread"], 1);
    let n = &bobs["items"][0];
    assert_eq!(n["kind"], "mention");
    assert_eq!(n["title"], "alice vous a mentionné sur « Planning »");
    assert!(
        n["body"].as_str().unwrap().starts_with("@Bob.Ops can you check?"),
        "{n}"
    );
    assert_eq!(n["link"], format!("/events/{}", event.id));
    assert_eq!(inbox(&app, &alice).await["total"], 0, "not the author");
    assert_eq!(
        inbox(&app, &carol).await["total"],
        0,
        "an e-mail address or code is not a mention"
    );
    assert_eq!(inbox(&app, &admin).await["total"], 0);

    // Running the jobs again changes nothing; the badge and mark-read work.
    assert!(
        run_jobs(&app, Utc::now() + chrono::Duration::hours(1))
            .await
            .is_empty()
    );
    assert_eq!(inbox(&app, &bob).await["total"], 1);
    let count: Value = app
        .get_auth("/api/notifications/unread-count", &bob.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(count["unread"], 1);
    let id = n["id"].as_i64().unwrap();
    let resp = app
        .send(
            Method::POST,
            &format!("/api/notifications/{id}/read"),
            Some(&alice.token),
            None,
        )
        .await;
    assert_problem(resp, 404).await;
    let resp = app
        .send(
            Method::POST,
            &format!("/api/notifications/{id}/read"),
            Some(&bob.token),
            None,
        )
        .await;
    assert_eq!(resp.status(), 204);
    let count: Value = app
        .get_auth("/api/notifications/unread-count", &bob.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(count["unread"], 0);

    let audit = app
        .store()
        .list_audit(&AuditQuery {
            action_prefix: Some("comment.create".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(audit.items[0].details["mentions"], json!([bob.id]));
    app.stop().await;
}

async fn markdown_preview_changes_nothing(kind: Db) {
    let app = TestApp::spawn_with(kind, quiet).await;
    let admin = app.admin().await;
    let alice = app.user(&admin, "alice", "DEV").await;
    let before = app
        .store()
        .list_audit(&AuditQuery::default())
        .await
        .unwrap()
        .total;
    let resp = app
        .post_json(
            "/api/markdown/preview",
            Some(&alice.token),
            json!({"body": "*hi* @admin <img src=x onerror=alert(1)>"}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let html = resp.json::<Value>().await.unwrap()["html"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        html.starts_with("<p><em>hi</em> <span class=\"mention\">@admin</span> <img"),
        "{html}"
    );
    assert!(!html.contains("onerror") && !html.contains("src"), "{html}");
    let resp = app
        .post_json("/api/markdown/preview", Some(&alice.token), json!({"body": ""}))
        .await;
    assert_eq!(resp.status(), 200);
    let resp = app
        .post_json(
            "/api/markdown/preview",
            Some(&alice.token),
            json!({"body": "x".repeat(10_001)}),
        )
        .await;
    assert_problem(resp, 422).await;
    assert_eq!(
        app.post_json("/api/markdown/preview", None, json!({"body": "x"}))
            .await
            .status(),
        401
    );
    // Nothing stored, nobody notified.
    assert_eq!(
        app.store()
            .list_audit(&AuditQuery::default())
            .await
            .unwrap()
            .total,
        before
    );
    assert!(run_jobs(&app, Utc::now()).await.is_empty());
    assert_eq!(inbox(&app, &admin).await["total"], 0);
    app.stop().await;
}
