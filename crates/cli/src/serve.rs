//! `lostfound serve`: one homeserver, for real Matrix clients on this
//! machine (and, with federation, for the servers of a classroom).
//!
//! This module only gathers what the server needs (its name, its data
//! directory, its signing key, a listening socket, a shutdown signal) and
//! hands them to `lostfound_server::serve`.

use anyhow::{Context, Result, bail};
use clap::Args;
use lostfound_protocol::ids::ServerName;
use lostfound_server::{Config, Homeserver};
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The file in the data directory that holds the signing key seed.
const SIGNING_KEY_FILE: &str = "signing.key";

/// Run one homeserver: the Matrix client-server API, its data in a directory.
///
/// It listens on http://BIND:PORT and keeps everything it knows in DIR.
///
/// Example: a server named alice.lab, for clients on this machine
///
///   lostfound serve --name alice.lab --port 8008 --data ./alice-data
///
/// then, from another terminal (or any Matrix client pointed at
/// http://127.0.0.1:8008):
///
///   curl http://127.0.0.1:8008/_matrix/client/versions
///
/// DIR is created if needed. It holds the server's whole durable state,
/// which is exactly what a backup must copy and what the 2021 incident lost:
///
///   homeserver.db   the SQLite database (with -wal and -shm files beside it):
///                   accounts, password hashes, devices, profiles, rooms, events
///   media/          uploaded files, the bytes behind mxc:// URIs
///   signing.key     the server's ed25519 signing key seed (base64, mode 0600),
///                   made on first start and reused after; other servers know
///                   this server by its key, so keep it with the backups
///
/// Federation: each --peer NAME=HOST:PORT tells this server where another
/// server lives (repeat it for each peer), for example on a classroom LAN:
///
///   lostfound serve --name alice.lab --bind 0.0.0.0 --port 8448 \
///       --data ./alice-data --peer bob.lab=10.0.0.7:8448
///
/// Servers talk plain HTTP to exactly these addresses: no TLS, no
/// .well-known, no DNS SRV lookups (a simplification for the classroom).
///
/// One log line per request goes to standard error (RUST_LOG=debug shows
/// more). Ctrl-C or SIGTERM stops the server after the requests in flight.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ServeArgs {
    /// The server name: the part after ':' in its user IDs (@alice:NAME).
    #[arg(long)]
    name: String,
    /// The TCP port to listen on (8008 is the usual unencrypted Matrix port).
    #[arg(long, default_value_t = 8008)]
    port: u16,
    /// The data directory (see above).
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// The address to listen on; 0.0.0.0 serves other machines too.
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Refuse new accounts (POST /register answers M_FORBIDDEN).
    #[arg(long)]
    no_registration: bool,
    /// Where another server lives: NAME=HOST:PORT (repeatable; see above).
    #[arg(long = "peer", value_name = "NAME=HOST:PORT")]
    peers: Vec<String>,
}

pub fn run(args: ServeArgs) -> Result<ExitCode> {
    let server_name = args
        .name
        .parse()
        .with_context(|| format!("--name {:?} is not a valid server name", args.name))?;
    let peers = args
        .peers
        .iter()
        .map(|peer| parse_peer(peer))
        .collect::<Result<_>>()?;
    std::fs::create_dir_all(&args.data)
        .with_context(|| format!("cannot create the data directory {}", args.data.display()))?;
    let seed = signing_key_seed(&args.data)?;
    let mut config = Config::new(server_name, args.data.clone(), seed);
    config.registration_enabled = !args.no_registration;
    config.peers = peers;
    let homeserver = Homeserver::open(config)
        .with_context(|| format!("cannot open the store in {}", args.data.display()))?;

    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let address = SocketAddr::new(args.bind, args.port);
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("cannot listen on {address}"))?;
        let shutdown = shutdown_signal().context("cannot listen for Ctrl-C and SIGTERM")?;
        let bound = listener.local_addr().unwrap_or(address);
        say(&format!(
            "{} is serving http://{bound} (data in {}); Ctrl-C stops it",
            args.name,
            args.data.display()
        ));
        lostfound_server::serve(listener, homeserver, shutdown)
            .await
            .context("the server failed")
    })?;
    say(&format!("{} stopped", args.name));
    Ok(ExitCode::SUCCESS)
}

/// `NAME=HOST:PORT` → (server name, `HOST:PORT`), with a one-line error
/// that says which part is wrong.
fn parse_peer(text: &str) -> Result<(ServerName, String)> {
    let Some((name, address)) = text.split_once('=') else {
        bail!("--peer {text:?} should be NAME=HOST:PORT, for example bob.lab=10.0.0.7:8448");
    };
    let name: ServerName = name
        .parse()
        .map_err(|e| anyhow::anyhow!("--peer {text:?}: {e}"))?;
    let port = address
        .rsplit_once(':')
        .map(|(host, port)| (host, port.parse::<u16>()));
    match port {
        Some((host, Ok(_))) if !host.is_empty() => Ok((name, address.to_owned())),
        _ => bail!("--peer {text:?}: {address:?} should be HOST:PORT, for example 10.0.0.7:8448"),
    }
}

/// The 32-byte seed in `DIR/signing.key`: made from the operating system's
/// random source on first start (readable by this user only), read back on
/// every start after, so the server keeps its identity across restarts.
fn signing_key_seed(data_dir: &Path) -> Result<[u8; 32]> {
    let path = data_dir.join(SIGNING_KEY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let bytes = lostfound_protocol::base64::decode(text.trim())
                .with_context(|| format!("{} is not base64", path.display()))?;
            match <[u8; 32]>::try_from(bytes.as_slice()) {
                Ok(seed) => Ok(seed),
                Err(_) => bail!(
                    "{} holds {} bytes; a signing key seed is 32",
                    path.display(),
                    bytes.len()
                ),
            }
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed)
                .map_err(|e| anyhow::anyhow!("the random source failed: {e}"))?;
            write_private(
                &path,
                &format!("{}\n", lostfound_protocol::base64::encode(seed)),
            )
            .with_context(|| format!("cannot write {}", path.display()))?;
            tracing::info!(path = %path.display(), "generated a new signing key");
            Ok(seed)
        }
        Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Creates `path` with `contents`, readable and writable by its owner only
/// (mode 0600 from the start, so the key is never readable by others, even
/// for a moment), and fails rather than overwrite an existing file.
///
/// The key is written under a temporary name, flushed, and renamed into
/// place (then the directory is flushed): a crash half way leaves no
/// empty `signing.key` that would stop the server from starting again.
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    let temporary = path.with_extension("key.partial");
    let _ = std::fs::remove_file(&temporary);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&temporary)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()?;
    drop(file);
    // `hard_link` fails if `path` exists, unlike `rename`: never overwrite.
    std::fs::hard_link(&temporary, path)?;
    std::fs::remove_file(&temporary)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// A future that completes on Ctrl-C (SIGINT) or SIGTERM (what `kill` and
/// service managers send). The handlers are installed *now*, before the
/// server says it is ready, so a signal sent right after that line is
/// never the default "die at once".
#[cfg(unix)]
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => tracing::info!("Ctrl-C: shutting down"),
            _ = terminate.recv() => tracing::info!("SIGTERM: shutting down"),
        }
    })
}

#[cfg(not(unix))]
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    Ok(async {
        if tokio::signal::ctrl_c().await.is_ok() {
            tracing::info!("Ctrl-C: shutting down");
        }
    })
}

/// Prints a status line; a closed standard output is no reason to crash.
fn say(line: &str) {
    let _ = writeln!(std::io::stdout(), "{line}");
}

#[cfg(test)]
mod tests {
    use super::parse_peer;

    #[test]
    fn peers_are_names_and_host_port_pairs() {
        let (name, address) = parse_peer("bob.lab=10.0.0.7:8448").expect("valid");
        assert_eq!(
            (name.as_str(), address.as_str()),
            ("bob.lab", "10.0.0.7:8448")
        );
        let (name, address) = parse_peer("bob.lab:8448=[::1]:8448").expect("valid");
        assert_eq!(
            (name.as_str(), address.as_str()),
            ("bob.lab:8448", "[::1]:8448")
        );
        assert!(parse_peer("=10.0.0.7:8448").is_err());
        assert!(parse_peer("bob.lab=:8448").is_err());
    }
}
