//! Where a server name lives: `ServerName` → base URL.
//!
//! Real Matrix resolves a server name through `/.well-known/matrix/server`,
//! DNS SRV records and port 8448, and checks a TLS certificate for the name
//! (<https://spec.matrix.org/v1.16/server-server-api/#resolving-server-names>).
//! We simplify on purpose: a fixed map, from the lab or from
//! `lostfound serve --peer NAME=HOST:PORT`, to plain `http://HOST:PORT` on
//! the loopback or a classroom LAN. No TLS, no `.well-known`, no SRV.
//!
//! Without TLS nothing proves that the machine at an address is the server
//! it claims to be; request and event signatures still prove who *signed*
//! what, once we trust the key we fetched from that address. That trust
//! is the part TLS (or notary servers) provides in real Matrix.

use super::FederationError;
use lostfound_protocol::ids::ServerName;
use std::collections::BTreeMap;

/// The map from server names to base URLs.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    base_urls: BTreeMap<ServerName, String>,
}

impl Directory {
    /// A directory from `name → address` pairs. An address is a base URL
    /// (`http://127.0.0.1:8448`) or just `HOST:PORT`, which means plain HTTP.
    pub fn new(peers: &BTreeMap<ServerName, String>) -> Self {
        let base_urls = peers
            .iter()
            .map(|(name, address)| (name.clone(), base_url(address)))
            .collect();
        Self { base_urls }
    }

    /// The base URL of `server`, without a trailing slash.
    pub fn base_url(&self, server: &ServerName) -> Result<&str, FederationError> {
        self.base_urls
            .get(server)
            .map(String::as_str)
            .ok_or_else(|| FederationError::UnknownServer(server.clone()))
    }

    /// Every server the directory knows, in name order.
    pub fn servers(&self) -> impl Iterator<Item = &ServerName> {
        self.base_urls.keys()
    }
}

fn base_url(address: &str) -> String {
    let address = address.trim().trim_end_matches('/');
    if address.contains("://") {
        address.to_owned()
    } else {
        format!("http://{address}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_become_base_urls_and_unknown_names_are_errors() {
        let peers = BTreeMap::from([
            ("a.lab".parse().unwrap(), "127.0.0.1:8448".to_owned()),
            ("b.lab".parse().unwrap(), "http://10.0.0.7:8008/".to_owned()),
        ]);
        let directory = Directory::new(&peers);
        let a = "a.lab".parse().unwrap();
        let b = "b.lab".parse().unwrap();
        assert_eq!(directory.base_url(&a).unwrap(), "http://127.0.0.1:8448");
        assert_eq!(directory.base_url(&b).unwrap(), "http://10.0.0.7:8008");
        let c: ServerName = "c.lab".parse().unwrap();
        assert!(matches!(
            directory.base_url(&c),
            Err(FederationError::UnknownServer(name)) if name == c
        ));
    }
}
