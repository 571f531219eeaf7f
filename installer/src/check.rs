//! Loading and checking `uyoop.yaml`: YAML syntax (line and column), then the generated JSON
//! schema (field paths), then the semantic rules the schema cannot express.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::Path;

use ipnet::IpNet;
use serde_json::Value;

use crate::config::{self, Config, Provider, Role, Tls};
use crate::error::{Error, Problem, Result};

/// Reads, parses, schema-checks and semantically checks a config file.
pub fn load(path: &Path) -> Result<Config> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    parse(&text, path)
}

/// Parses and checks config text; `path` only names the file in errors.
pub fn parse(text: &str, path: &Path) -> Result<Config> {
    let value: Value = serde_norway::from_str(text).map_err(|e| {
        let (line, column) = e.location().map(|l| (l.line(), l.column())).unwrap_or((1, 1));
        Error::Yaml {
            path: path.to_owned(),
            line,
            column,
            message: e.to_string(),
        }
    })?;
    let invalid = |problems| Error::Invalid {
        path: path.to_owned(),
        problems,
    };
    let problems = schema_problems(&value);
    if !problems.is_empty() {
        return Err(invalid(problems));
    }
    let config: Config = serde_json::from_value(value).map_err(|e| {
        invalid(vec![Problem {
            path: "(root)".into(),
            message: e.to_string(),
            fix: "compare with `uyoop-install schema`".into(),
        }])
    })?;
    let problems = semantic_problems(&config);
    if !problems.is_empty() {
        return Err(invalid(problems));
    }
    Ok(config)
}

/// Validates a parsed document against the generated schema.
fn schema_problems(value: &Value) -> Vec<Problem> {
    let schema = config::schema();
    let mut problems = problems_at(&schema, &schema, value, &[]);
    problems.dedup();
    problems
}

/// Validates `instance` (found at `prefix` in the document) against `node`, a part of the root
/// schema. A failed `oneOf` of a tagged enum (`kind:`, `mode:`) is validated again against the
/// branch its tag selects, so the error names the field inside it rather than the whole object.
fn problems_at(root: &Value, node: &Value, instance: &Value, prefix: &[String]) -> Vec<Problem> {
    let mut sub = node.clone();
    if let (Some(obj), Some(defs)) = (sub.as_object_mut(), root.get("$defs")) {
        obj.insert("$defs".into(), defs.clone());
    }
    let validator = match jsonschema::options().should_validate_formats(true).build(&sub) {
        Ok(v) => v,
        Err(e) => {
            return vec![Problem {
                path: "(schema)".into(),
                message: format!("the built-in schema does not compile: {e}"),
                fix: "please report this bug".into(),
            }];
        }
    };
    let mut problems = Vec::new();
    for error in validator.iter_errors(instance) {
        let mut segments: Vec<String> = prefix.to_vec();
        segments.extend(error.instance_path().iter().map(|s| s.to_string()));
        match error.kind() {
            jsonschema::error::ValidationErrorKind::Required { property } => {
                segments.push(property.as_str().unwrap_or_default().to_owned());
                let what = describe(root, &segments);
                problems.push(Problem {
                    path: dotted(&segments),
                    message: "is required but missing".into(),
                    fix: format!("add it: {what}"),
                });
            }
            jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } => {
                let allowed = allowed_fields(root, &segments);
                segments.push(unexpected.join(","));
                problems.push(Problem {
                    path: dotted(&segments),
                    message: "unknown field".into(),
                    fix: format!("remove it or fix its spelling; allowed here: {allowed}"),
                });
            }
            jsonschema::error::ValidationErrorKind::OneOfNotValid { .. } => {
                let here = &segments[prefix.len()..];
                let found = error_instance(instance, here);
                match tagged_branch(root, &segments, found) {
                    Branch::Found(branch) => problems.extend(problems_at(root, branch, found, &segments)),
                    Branch::UnknownTag { tag, allowed } => {
                        segments.push(tag.clone());
                        problems.push(Problem {
                            path: dotted(&segments),
                            message: format!(
                                "{} is not a known {tag}",
                                found.get(&tag).unwrap_or(&Value::Null)
                            ),
                            fix: format!("use one of: {}", allowed.join(", ")),
                        });
                    }
                    Branch::Untagged => problems.push(Problem {
                        message: format!("{found} has none of the accepted shapes"),
                        fix: format!(
                            "{} Accepted: {}",
                            describe(root, &segments),
                            shapes(root, &segments)
                        ),
                        path: dotted(&segments),
                    }),
                }
            }
            _ => problems.push(Problem {
                path: dotted(&segments),
                message: error.to_string(),
                fix: describe(root, &segments),
            }),
        }
    }
    problems
}

fn error_instance<'a>(instance: &'a Value, segments: &[String]) -> &'a Value {
    let mut v = instance;
    for seg in segments {
        v = match v {
            Value::Object(m) => m.get(seg).unwrap_or(&Value::Null),
            Value::Array(a) => seg
                .parse::<usize>()
                .ok()
                .and_then(|i| a.get(i))
                .unwrap_or(&Value::Null),
            _ => &Value::Null,
        };
    }
    v
}

/// The shapes a `oneOf` accepts, e.g. `{env: ...} | {file: ...}`.
fn shapes(root: &Value, segments: &[String]) -> String {
    let mut out = Vec::new();
    for node in nodes_at(root, segments) {
        let node = resolve(root, node);
        for b in node.get("oneOf").and_then(Value::as_array).into_iter().flatten() {
            let b = resolve(root, b);
            let keys: Vec<&str> = b
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            if keys.is_empty() {
                out.push(
                    b.get("type")
                        .and_then(Value::as_str)
                        .unwrap_or("value")
                        .to_owned(),
                );
            } else {
                out.push(format!(
                    "{{{}}}",
                    keys.iter()
                        .map(|k| format!("{k}: ..."))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
    }
    out.join(" | ")
}

enum Branch<'a> {
    Found(&'a Value),
    UnknownTag { tag: String, allowed: Vec<String> },
    Untagged,
}

/// The `oneOf` branch of the schema at `segments` whose tag property (a `const`) matches the
/// instance's.
fn tagged_branch<'a>(root: &'a Value, segments: &[String], instance: &Value) -> Branch<'a> {
    for node in nodes_at(root, segments) {
        let node = resolve(root, node);
        let Some(branches) = node.get("oneOf").and_then(Value::as_array) else {
            continue;
        };
        for tag in ["kind", "mode"] {
            let consts: Vec<(&Value, &str)> = branches
                .iter()
                .filter_map(|b| {
                    let b = resolve(root, b);
                    b.pointer(&format!("/properties/{tag}/const"))
                        .and_then(Value::as_str)
                        .map(|c| (b, c))
                })
                .collect();
            if consts.len() != branches.len() {
                continue;
            }
            let wanted = instance.get(tag).and_then(Value::as_str);
            return match consts.iter().find(|(_, c)| Some(*c) == wanted) {
                Some((b, _)) => Branch::Found(b),
                None => Branch::UnknownTag {
                    tag: tag.into(),
                    allowed: consts.iter().map(|(_, c)| (*c).to_owned()).collect(),
                },
            };
        }
    }
    Branch::Untagged
}

fn dotted(segments: &[String]) -> String {
    if segments.is_empty() {
        "(root)".into()
    } else {
        segments.join(".")
    }
}

/// Follows `$ref` into `$defs`.
fn resolve<'a>(schema: &'a Value, node: &'a Value) -> &'a Value {
    let mut node = node;
    for _ in 0..16 {
        match node.get("$ref").and_then(Value::as_str) {
            Some(r) => match r.strip_prefix("#/$defs/").and_then(|n| schema["$defs"].get(n)) {
                Some(target) => node = target,
                None => break,
            },
            None => break,
        }
    }
    node
}

/// Schema nodes reached by an instance path (several when a `oneOf` leaves it open).
fn nodes_at<'a>(schema: &'a Value, segments: &[String]) -> Vec<&'a Value> {
    let mut current = vec![schema];
    for seg in segments {
        let mut next = Vec::new();
        for node in current {
            let node = resolve(schema, node);
            let mut candidates = vec![node];
            for key in ["oneOf", "anyOf", "allOf"] {
                if let Some(branches) = node.get(key).and_then(Value::as_array) {
                    candidates.extend(branches.iter().map(|b| resolve(schema, b)));
                }
            }
            for c in candidates {
                if let Some(p) = c.get("properties").and_then(|p| p.get(seg)) {
                    next.push(p);
                } else if let (Ok(_), Some(items)) = (seg.parse::<usize>(), c.get("items")) {
                    next.push(items);
                }
            }
        }
        current = next;
    }
    current
}

/// The schema's description of the field at `segments`, for the "fix" line.
fn describe(schema: &Value, segments: &[String]) -> String {
    nodes_at(schema, segments)
        .into_iter()
        .find_map(|n| {
            n.get("description")
                .or_else(|| resolve(schema, n).get("description"))
                .and_then(Value::as_str)
        })
        .map(|d| d.replace('\n', " "))
        .unwrap_or_else(|| "see `uyoop-install schema` for the expected value".into())
}

fn allowed_fields(schema: &Value, segments: &[String]) -> String {
    let mut names = BTreeSet::new();
    for node in nodes_at(schema, segments) {
        let node = resolve(schema, node);
        let mut candidates = vec![node];
        if let Some(b) = node.get("oneOf").and_then(Value::as_array) {
            candidates.extend(b.iter().map(|b| resolve(schema, b)));
        }
        for c in candidates {
            if let Some(props) = c.get("properties").and_then(Value::as_object) {
                names.extend(props.keys().cloned());
            }
        }
    }
    names.into_iter().collect::<Vec<_>>().join(", ")
}

/// The rules a JSON schema cannot express.
pub fn semantic_problems(c: &Config) -> Vec<Problem> {
    let mut p = Vec::new();
    let mut add = |path: &str, message: String, fix: String| {
        p.push(Problem {
            path: path.into(),
            message,
            fix,
        });
    };

    let servers = c.nodes.servers.count;
    if servers < 3 || servers.is_multiple_of(2) {
        add(
            "nodes.servers.count",
            format!("{servers} servers cannot keep an etcd quorum through the loss of one"),
            "use an odd number of servers, at least 3 (3, 5 or 7)".into(),
        );
    }
    if servers > 9 {
        add(
            "nodes.servers.count",
            format!("{servers} servers slow etcd down for no gain"),
            "use 3, 5, 7 or 9 servers and add agents for capacity".into(),
        );
    }
    if let Err(why) = valid_dns_name(&c.domain) {
        add(
            "domain",
            format!("{:?} is not a valid DNS name: {why}", c.domain),
            "use a fully qualified name such as cal.example.com".into(),
        );
    }

    let mut nets: Vec<(&str, IpNet)> = Vec::new();
    for (path, text) in [
        ("network.nodes", &c.network.nodes),
        ("network.pods", &c.network.pods),
        ("network.services", &c.network.services),
        ("ssh.admin_cidr", &c.ssh.admin_cidr),
    ] {
        match text.parse::<IpNet>() {
            Ok(net) if net.trunc() != net => add(
                path,
                format!("{text} has host bits set"),
                format!("use the network address: {}", net.trunc()),
            ),
            Ok(net) => {
                if path != "ssh.admin_cidr" {
                    nets.push((path, net));
                }
            }
            Err(_) => add(
                path,
                format!("{text:?} is not a CIDR range"),
                "write it as address/prefix, e.g. 10.20.0.0/24".into(),
            ),
        }
    }
    for (i, (pa, a)) in nets.iter().enumerate() {
        for (pb, b) in &nets[i + 1..] {
            if a.contains(b) || b.contains(a) {
                add(
                    pb,
                    format!("{b} overlaps {pa} ({a})"),
                    format!("choose a range for {pb} that does not intersect {a}"),
                );
            }
        }
    }
    if let Some((_, nodes)) = nets.iter().find(|(p, _)| *p == "network.nodes") {
        let needed = match &c.provider {
            Provider::Existing { .. } => 0,
            _ => 20 + c.nodes.agents.count as u64 + 2,
        };
        let hosts = 1u64 << (u32::from(nodes.max_prefix_len()) - u32::from(nodes.prefix_len())).min(63);
        if needed > 0 && hosts < needed {
            add(
                "network.nodes",
                format!("{nodes} is too small for {} agents", c.nodes.agents.count),
                "use a /24 or larger".into(),
            );
        }
    }

    let node_net = c.network.nodes.parse::<IpNet>().ok();
    if let Some(g) = &c.network.gateway {
        match g.parse::<IpAddr>() {
            Ok(ip) if node_net.is_some_and(|n| !n.contains(&ip)) => add(
                "network.gateway",
                format!("{ip} is outside network.nodes ({})", c.network.nodes),
                "give an address of network.nodes".into(),
            ),
            Ok(_) => {}
            Err(_) => add(
                "network.gateway",
                format!("{g:?} is not an IP address"),
                "write an IPv4 address such as 10.20.0.1".into(),
            ),
        }
    }
    for (i, d) in c.network.dns_servers.iter().enumerate() {
        if d.parse::<IpAddr>().is_err() {
            add(
                &format!("network.dns_servers.{i}"),
                format!("{d:?} is not an IP address"),
                "write resolver IP addresses".into(),
            );
        }
    }
    if let Provider::Existing { hosts } = &c.provider {
        let count = |r| hosts.iter().filter(|h| h.role == r).count() as u32;
        if count(Role::Server) != c.nodes.servers.count {
            add(
                "provider.hosts",
                format!(
                    "{} hosts have role server but nodes.servers.count is {}",
                    count(Role::Server),
                    c.nodes.servers.count
                ),
                "make nodes.servers.count equal the number of server hosts".into(),
            );
        }
        if count(Role::Agent) != c.nodes.agents.count {
            add(
                "provider.hosts",
                format!(
                    "{} hosts have role agent but nodes.agents.count is {}",
                    count(Role::Agent),
                    c.nodes.agents.count
                ),
                "make nodes.agents.count equal the number of agent hosts".into(),
            );
        }
        let mut names = BTreeSet::new();
        let mut addrs = BTreeSet::new();
        for (i, h) in hosts.iter().enumerate() {
            let path = format!("provider.hosts.{i}.address");
            match h.address.parse::<IpAddr>() {
                Ok(ip) => {
                    if node_net.is_some_and(|n| !n.contains(&ip)) {
                        add(
                            &path,
                            format!("{ip} is outside network.nodes ({})", c.network.nodes),
                            "fix the address or widen network.nodes".into(),
                        );
                    }
                    if !addrs.insert(ip) {
                        add(
                            &path,
                            format!("{ip} is used twice"),
                            "give each host its own address".into(),
                        );
                    }
                }
                Err(_) => add(
                    &path,
                    format!("{:?} is not an IP address", h.address),
                    "write an IPv4 or IPv6 address".into(),
                ),
            }
            if !names.insert(h.name.clone()) {
                add(
                    &format!("provider.hosts.{i}.name"),
                    format!("{} is used twice", h.name),
                    "give each host its own name".into(),
                );
            }
        }
    }

    if !(3..=10).contains(&c.app.replicas) {
        add(
            "app.replicas",
            format!("{} replicas is outside 3..10", c.app.replicas),
            "set app.replicas between 3 and 10".into(),
        );
    }
    if let Tls::Acme { email, server } = &c.tls {
        if !valid_email(email) {
            add(
                "tls.email",
                format!("{email:?} is not a valid email address"),
                "give the ACME account's contact address, e.g. ops@example.com".into(),
            );
        }
        if let Some(s) = server.as_ref().filter(|s| !s.starts_with("https://")) {
            add(
                "tls.server",
                format!("{s:?} is not an https URL"),
                "use the ACME directory URL, e.g. https://acme-v02.api.letsencrypt.org/directory".into(),
            );
        }
    }
    if let Some(smtp) = &c.notifications.smtp {
        if !valid_email(&smtp.from) {
            add(
                "notifications.smtp.from",
                format!("{:?} is not a valid email address", smtp.from),
                "give the sender address, e.g. uyoop@example.com".into(),
            );
        }
        if smtp.password.is_some() && smtp.username.is_none() {
            add(
                "notifications.smtp.username",
                "a password is set without a username".into(),
                "add notifications.smtp.username or remove the password".into(),
            );
        }
    }
    for (path, expr) in [
        ("backup.schedules.postgres", &c.backup.schedules.postgres),
        ("backup.schedules.vault", &c.backup.schedules.vault),
        ("backup.schedules.cluster", &c.backup.schedules.cluster),
    ] {
        if let Err(why) = valid_cron(expr) {
            add(
                path,
                format!("{expr:?} is not a 5-field cron expression: {why}"),
                "write minute hour day-of-month month day-of-week, e.g. \"0 2 * * *\"".into(),
            );
        }
    }
    if c.airgap.is_some() && !c.registry.mirror {
        add(
            "registry.mirror",
            "an air-gapped site cannot pull from upstream registries".into(),
            "set registry.mirror: true and load the bundle's images into the registry".into(),
        );
    }
    for (i, prefix) in c.registry.allowed.iter().enumerate() {
        if prefix.is_empty() || prefix.ends_with('/') || prefix.contains("://") {
            add(
                &format!("registry.allowed.{i}"),
                format!("{prefix:?} is not an image prefix"),
                "write host[/path] without scheme or trailing slash, e.g. harbor.example.com/uyoop".into(),
            );
        }
    }
    if !c.vault.nodes.is_empty() && c.vault.nodes.len() != 3 {
        add(
            "vault.nodes",
            format!("{} nodes listed", c.vault.nodes.len()),
            "list exactly 3 nodes, or remove vault.nodes to run Vault in the cluster".into(),
        );
    }
    let mut endpoints = BTreeSet::new();
    for (i, n) in c.vault.nodes.iter().enumerate() {
        for port in [n.api_port, n.cluster_port] {
            if !endpoints.insert((n.address.clone(), port)) {
                add(
                    &format!("vault.nodes.{i}"),
                    format!("{}:{port} is used twice", n.address),
                    "give every node distinct api_port and cluster_port on a shared address".into(),
                );
            }
        }
    }
    p
}

/// RFC 1035 host name with at least two labels.
pub fn valid_dns_name(name: &str) -> Result<(), String> {
    if name.len() > 253 {
        return Err("longer than 253 characters".into());
    }
    let labels: Vec<&str> = name.split('.').collect();
    if labels.len() < 2 {
        return Err("needs at least two labels".into());
    }
    for l in &labels {
        if l.is_empty() || l.len() > 63 {
            return Err(format!("label {l:?} must be 1 to 63 characters"));
        }
        if !l
            .chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
        {
            return Err(format!(
                "label {l:?} may hold only lowercase letters, digits and dashes"
            ));
        }
        if l.starts_with('-') || l.ends_with('-') {
            return Err(format!("label {l:?} cannot start or end with a dash"));
        }
    }
    if labels
        .last()
        .is_some_and(|tld| tld.chars().all(|ch| ch.is_ascii_digit()))
    {
        return Err("the last label cannot be numeric".into());
    }
    Ok(())
}

/// A plain `local@domain` address (what ACME servers and SMTP relays accept).
pub fn valid_email(email: &str) -> bool {
    match email.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && local.len() <= 64
                && !local
                    .chars()
                    .any(|ch| ch.is_whitespace() || ch == '@' || ch.is_control())
                && valid_dns_name(domain).is_ok()
        }
        None => false,
    }
}

/// Five cron fields, each `*`, a number, a range, a list or a step within its bounds.
pub fn valid_cron(expr: &str) -> Result<(), String> {
    const BOUNDS: [(&str, u32, u32); 5] = [
        ("minute", 0, 59),
        ("hour", 0, 23),
        ("day-of-month", 1, 31),
        ("month", 1, 12),
        ("day-of-week", 0, 7),
    ];
    let fields: Vec<&str> = expr.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!("{} fields instead of 5", fields.len()));
    }
    for (field, (name, lo, hi)) in fields.iter().zip(BOUNDS) {
        for part in field.split(',') {
            let (range, step) = match part.split_once('/') {
                Some((r, s)) => (r, Some(s)),
                None => (part, None),
            };
            if let Some(s) = step {
                match s.parse::<u32>() {
                    Ok(n) if n >= 1 && n <= hi => {}
                    _ => return Err(format!("bad step {s:?} in the {name} field")),
                }
            }
            if range == "*" {
                continue;
            }
            let (a, b) = range.split_once('-').unwrap_or((range, range));
            for n in [a, b] {
                match n.parse::<u32>() {
                    Ok(v) if (lo..=hi).contains(&v) => {}
                    _ => return Err(format!("{n:?} is outside {lo}-{hi} in the {name} field")),
                }
            }
        }
    }
    Ok(())
}
