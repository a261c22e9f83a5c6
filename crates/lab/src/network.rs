//! [`Network`]: the wires between the lab's servers, which the lab can cut.
//!
//! Each server reaches each other server through its own small TCP relay
//! on `127.0.0.1`: server A's directory lists, for B, the address of the
//! relay "A → B", which forwards bytes to B's real port. Clients talk to
//! servers directly. A partition is then what it is on a real network:
//! the relays to and from the cut-off server drop every connection, new
//! or open, while the server itself keeps running and keeps accepting its
//! own users' messages. Nothing in the server knows it is being tested.

use crate::error::LabError;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The state of the wires, watched by every relay.
#[derive(Debug, Default)]
struct Cut {
    /// The servers currently cut off from all others.
    servers: BTreeSet<String>,
    /// How many times each server's connections were severed at once (a
    /// crash): a connection opened before the last reset is dropped.
    resets: BTreeMap<String, u64>,
}

impl Cut {
    fn resets_of(&self, ends: &[String; 2]) -> [u64; 2] {
        ends.clone()
            .map(|end| self.resets.get(&end).copied().unwrap_or(0))
    }
}

/// Every relay of a lab, and which servers are cut off.
pub struct Network {
    cut: watch::Sender<Cut>,
    relays: Vec<JoinHandle<()>>,
}

impl Drop for Network {
    fn drop(&mut self) {
        for relay in &self.relays {
            relay.abort();
        }
    }
}

impl Network {
    /// Starts one relay per ordered pair of distinct servers; returns the
    /// network and, for each server, its directory: every other server's
    /// name mapped to the relay that reaches it, its own name to itself.
    pub async fn wire(
        servers: &BTreeMap<String, SocketAddr>,
    ) -> Result<(Self, BTreeMap<String, BTreeMap<String, SocketAddr>>), LabError> {
        let (cut, _) = watch::channel(Cut::default());
        let mut relays = Vec::new();
        let mut directories = BTreeMap::new();
        for (from, own) in servers {
            let mut directory = BTreeMap::from([(from.clone(), *own)]);
            for (to, target) in servers.iter().filter(|(to, _)| *to != from) {
                let listener =
                    TcpListener::bind("127.0.0.1:0")
                        .await
                        .map_err(|source| LabError::Listen {
                            server: format!("the relay {from} → {to}"),
                            source,
                        })?;
                let address = listener.local_addr().map_err(|source| LabError::Listen {
                    server: format!("the relay {from} → {to}"),
                    source,
                })?;
                let link = Link {
                    ends: [from.clone(), to.clone()],
                    target: *target,
                    cut: cut.subscribe(),
                };
                relays.push(tokio::spawn(link.relay(listener)));
                directory.insert(to.clone(), address);
            }
            directories.insert(from.clone(), directory);
        }
        Ok((Self { cut, relays }, directories))
    }

    /// Cuts `server` off from every other server.
    pub fn partition(&self, server: &str) {
        self.cut.send_modify(|cut| {
            cut.servers.insert(server.to_owned());
        });
    }

    /// Reconnects `server`; true if it was cut off.
    pub fn heal(&self, server: &str) -> bool {
        let mut was_cut = false;
        self.cut
            .send_modify(|cut| was_cut = cut.servers.remove(server));
        was_cut
    }

    /// Drops every open connection to and from `server`, as its crash
    /// would: the peers see them close.
    pub fn sever(&self, server: &str) {
        self.cut.send_modify(|cut| {
            *cut.resets.entry(server.to_owned()).or_default() += 1;
        });
    }

    /// Whether `server` is cut off.
    pub fn is_cut_off(&self, server: &str) -> bool {
        self.cut.borrow().servers.contains(server)
    }
}

/// One direction between two servers.
struct Link {
    ends: [String; 2],
    target: SocketAddr,
    cut: watch::Receiver<Cut>,
}

impl Link {
    fn is_cut(cut: &Cut, ends: &[String; 2]) -> bool {
        ends.iter().any(|end| cut.servers.contains(end))
    }

    /// Accepts connections forever, forwarding each while the link holds.
    async fn relay(self, listener: TcpListener) {
        let ends = Arc::new(self.ends);
        loop {
            let Ok((incoming, _)) = listener.accept().await else {
                // Out of file descriptors, say: wait rather than spin.
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            };
            if Self::is_cut(&self.cut.borrow(), &ends) {
                drop(incoming); // the far side sees the connection close
                continue;
            }
            tokio::spawn(forward(
                incoming,
                self.target,
                Arc::clone(&ends),
                self.cut.clone(),
            ));
        }
    }
}

/// Forwards one connection until either side closes it or the link is cut.
async fn forward(
    mut incoming: TcpStream,
    target: SocketAddr,
    ends: Arc<[String; 2]>,
    mut cut: watch::Receiver<Cut>,
) {
    let Ok(mut outgoing) = TcpStream::connect(target).await else {
        return; // the target is stopped: the caller sees a closed connection
    };
    let opened = cut.borrow().resets_of(&ends);
    let severed = async {
        while cut.changed().await.is_ok() {
            let now = cut.borrow();
            if Link::is_cut(&now, &ends) || now.resets_of(&ends) != opened {
                return;
            }
        }
        std::future::pending::<()>().await;
    };
    tokio::select! {
        _ = copy_bidirectional(&mut incoming, &mut outgoing) => {}
        () = severed => {}
    }
}
