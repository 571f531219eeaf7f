//! The client's IP address, for rate-limit keys and audit rows.
//!
//! `X-Forwarded-For` is believed only when the direct peer is a configured proxy
//! (`server.trusted_proxies`), and then only as far as the chain is made of trusted proxies: walking
//! it right to left, the first address that is not a trusted proxy is the client. Everything to its
//! left was written by the client and is ignored, so a client cannot pick its rate-limit key or its
//! audited address.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;

use crate::config::ConfigError;
use crate::error::Error;
use crate::http::AppState;

/// The client address for a request that came from `peer` with `headers`.
pub fn client_ip(peer: SocketAddr, headers: &HeaderMap, trusted_proxies: &[IpNet]) -> IpAddr {
    let trusted = |ip: &IpAddr| trusted_proxies.iter().any(|net| net.contains(ip));
    let mut client = peer.ip().to_canonical();
    if !trusted(&client) {
        return client;
    }
    // Several X-Forwarded-For headers form one list, in order (RFC 9110, section 5.3).
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|v| v.to_str().unwrap_or("").split(','))
        .collect();
    for hop in hops.iter().rev() {
        match parse_hop(hop) {
            Some(ip) if trusted(&ip) => client = ip,
            Some(ip) => return ip,
            // An entry a trusted proxy would not write: nothing to its left can be believed, so the
            // last address known to be real stands.
            None => return client,
        }
    }
    // Every hop is a trusted proxy (an internal caller): the leftmost one.
    client
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`192.0.2.1:4711`, `[2001:db8::1]:80`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    let ip = hop
        .parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))?;
    Some(ip.to_canonical())
}

/// Parses `server.trusted_proxies`: CIDRs (`10.42.0.0/16`) or single addresses (`10.0.0.7`).
pub fn parse_trusted_proxies(entries: &[String]) -> Result<Vec<IpNet>, ConfigError> {
    entries
        .iter()
        .map(|entry| {
            parse_proxy(entry).ok_or_else(|| {
                ConfigError::new(format!(
                    "server.trusted_proxies: `{entry}` is not an IP address or CIDR (e.g. 10.42.0.0/16)"
                ))
            })
        })
        .collect()
}

fn parse_proxy(entry: &str) -> Option<IpNet> {
    let entry = entry.trim();
    entry
        .parse::<IpNet>()
        .ok()
        .or_else(|| entry.parse::<IpAddr>().ok().map(IpNet::from))
}

/// The client address of the request, as an extractor (see [`client_ip`]). Needs the server to run
/// with `into_make_service_with_connect_info::<SocketAddr>()`, as `server::serve` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        from_parts(parts, state).map(Self).ok_or_else(|| {
            Error::Internal(anyhow::anyhow!(
                "no peer address: serve the router with into_make_service_with_connect_info"
            ))
        })
    }
}

/// The client address of a request, with the trusted proxies parsed once at start
/// (`AppState::trusted_proxies`); `None` when the server gives no peer address.
pub fn from_parts(parts: &Parts, state: &AppState) -> Option<IpAddr> {
    let ConnectInfo(peer) = parts.extensions.get::<ConnectInfo<SocketAddr>>().copied()?;
    Some(client_ip(peer, &parts.headers, &state.trusted_proxies))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        parse_trusted_proxies(&list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()).unwrap()
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn peer(ip: &str) -> SocketAddr {
        SocketAddr::new(ip.parse().unwrap(), 40_000)
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let h = xff(&["198.51.100.9"]);
        assert_eq!(client_ip(peer("203.0.113.5"), &h, &[]), ip("203.0.113.5"));
    }

    #[test]
    fn an_untrusted_peer_cannot_spoof_its_address() {
        let trusted = nets(&["10.42.0.0/16"]);
        // Claims to be a trusted proxy's client, and to be the proxy itself: both ignored.
        let h = xff(&["198.51.100.9, 10.42.0.1"]);
        assert_eq!(client_ip(peer("203.0.113.5"), &h, &trusted), ip("203.0.113.5"));
    }

    #[test]
    fn the_client_is_the_rightmost_untrusted_hop() {
        let trusted = nets(&["10.42.0.0/16", "192.0.2.10"]);
        // The client sent a forged header; the trusted proxies appended the real address.
        let h = xff(&["1.2.3.4, 6.6.6.6", "198.51.100.9, 192.0.2.10"]);
        assert_eq!(client_ip(peer("10.42.3.4"), &h, &trusted), ip("198.51.100.9"));
        let h = xff(&["1.2.3.4, 198.51.100.9"]);
        assert_eq!(client_ip(peer("10.42.3.4"), &h, &trusted), ip("198.51.100.9"));
    }

    #[test]
    fn a_trusted_peer_without_the_header_is_the_client() {
        let trusted = nets(&["10.42.0.0/16"]);
        assert_eq!(
            client_ip(peer("10.42.3.4"), &HeaderMap::new(), &trusted),
            ip("10.42.3.4")
        );
    }

    #[test]
    fn only_trusted_hops_gives_the_leftmost() {
        let trusted = nets(&["10.42.0.0/16"]);
        let h = xff(&["10.42.9.9, 10.42.1.1"]);
        assert_eq!(client_ip(peer("10.42.3.4"), &h, &trusted), ip("10.42.9.9"));
    }

    #[test]
    fn garbage_stops_the_walk_at_the_last_known_address() {
        let trusted = nets(&["10.42.0.0/16"]);
        for forged in ["unknown", "", "1.2.3.4 evil", "<script>", "999.1.1.1"] {
            let h = xff(&[&format!("6.6.6.6, {forged}, 10.42.1.1")]);
            assert_eq!(
                client_ip(peer("10.42.3.4"), &h, &trusted),
                ip("10.42.1.1"),
                "{forged}"
            );
        }
    }

    #[test]
    fn ports_ipv6_and_mapped_addresses() {
        let trusted = nets(&["10.42.0.0/16", "fd00::/8"]);
        let h = xff(&["[2001:db8::7]:443"]);
        assert_eq!(client_ip(peer("fd00::1"), &h, &trusted), ip("2001:db8::7"));
        let h = xff(&["198.51.100.9:5555"]);
        assert_eq!(client_ip(peer("10.42.0.1"), &h, &trusted), ip("198.51.100.9"));
        // An IPv4 proxy seen through a dual-stack socket is still the trusted proxy.
        let h = xff(&["::ffff:198.51.100.9"]);
        assert_eq!(
            client_ip(peer("::ffff:10.42.0.1"), &h, &trusted),
            ip("198.51.100.9")
        );
        // A client posing as a trusted hop (mapped form): the proxy appended its real address.
        let h = xff(&["::ffff:10.42.0.7, 198.51.100.9"]);
        assert_eq!(client_ip(peer("10.42.0.1"), &h, &trusted), ip("198.51.100.9"));
    }

    #[test]
    fn trusted_proxies_parse_cidrs_and_addresses() {
        let n = nets(&["10.42.0.0/16", "192.0.2.10", "fd00::/8", " 2001:db8::1 "]);
        assert_eq!(n.len(), 4);
        assert!(n[1].contains(&ip("192.0.2.10")));
        assert!(!n[1].contains(&ip("192.0.2.11")));
        let err = parse_trusted_proxies(&["10.0.0.0/33".to_owned()]).unwrap_err();
        assert!(err.to_string().contains("server.trusted_proxies"), "{err}");
    }
}
