//! The operations of the incident on a server's files: backup, the
//! upgrade's copy onto a disk too small, the cleanup that trusted it, the
//! crash, the restore from the only backup there was.
//!
//! A homeserver's durable state is its database file and its media
//! directory, nothing else; every operation here acts on those two, for
//! real, with the server stopped when a real operator would have stopped
//! it. None of them copies data *between* servers: whatever a server gets
//! back after a restore, it gets through the federation.
//!
//! ```text
//! lab/
//!   tomesh.lab/                 the server's data directory
//!     homeserver.db             its database (with -wal, -shm while open)
//!     media/                    its uploads
//!     upgrade/homeserver.db     the copy a `migrate` writes (capped)
//!   backups/tomesh.lab/0-january/
//!     homeserver.db             an online backup
//!     media/                    the media directory, copied beside it
//! ```

use crate::Lab;
use crate::error::LabError;
use lostfound_server::state::Clock;
use lostfound_store::{CopyCheck, CopyReport, DATABASE_FILE, MEDIA_DIR, SqliteStore, StoreError};
use std::path::{Path, PathBuf};

/// One backup of one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    /// The name the scenario gave it ("january").
    pub label: String,
    /// When it was taken, on the lab's clock (ms since 1970).
    pub taken_at_ms: u64,
    /// The directory holding `homeserver.db` and `media/`.
    pub dir: PathBuf,
}

/// How much room the upgrade's copy gets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Quota {
    /// Enough for any copy.
    Unlimited,
    /// This many bytes.
    Bytes(u64),
    /// This fraction of the database being copied (0.5: half its size).
    FractionOfDatabase(f64),
}

impl std::fmt::Display for Quota {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Quota::Unlimited => write!(f, "unlimited"),
            Quota::Bytes(bytes) => write!(f, "{bytes} bytes"),
            Quota::FractionOfDatabase(fraction) => {
                write!(f, "{}% of the database", fraction * 100.0)
            }
        }
    }
}

/// What a `cleanup` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cleanup {
    /// The old database was deleted and the copy put in its place,
    /// unchecked (or checked and found sound).
    Replaced { verified: bool },
    /// The check found the copy wanting: the old database stays, the
    /// copy is removed. The lesson of the incident.
    Refused(CopyCheck),
}

/// A check that a copy can replace the original: the reference
/// ([`SqliteStore::verify_copy`]) or a student's.
pub type Verifier<'a> = &'a (dyn Fn(&Path, &Path) -> Result<CopyCheck, String> + Sync);

/// The reference check, as a [`Verifier`].
pub fn reference_verifier(original: &Path, copy: &Path) -> Result<CopyCheck, String> {
    SqliteStore::verify_copy(original, copy).map_err(|e| e.to_string())
}

/// Where `migrate` writes the copy, inside the data directory.
pub const UPGRADE_DIR: &str = "upgrade";

fn io_failed(path: &Path) -> impl FnOnce(std::io::Error) -> LabError + '_ {
    move |source| LabError::Files {
        path: path.display().to_string(),
        message: source.to_string(),
    }
}

fn store_failed(server: &str) -> impl FnOnce(StoreError) -> LabError + '_ {
    move |source| LabError::Store {
        server: server.to_owned(),
        source,
    }
}

/// Copies the directory tree `from` into `to` (which must not exist).
fn copy_tree(from: &Path, to: &Path) -> Result<u64, LabError> {
    std::fs::create_dir_all(to).map_err(io_failed(to))?;
    let mut files = 0;
    if !from.exists() {
        return Ok(0);
    }
    let mut entries: Vec<_> = std::fs::read_dir(from)
        .map_err(io_failed(from))?
        .collect::<Result<_, _>>()
        .map_err(io_failed(from))?;
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let source = entry.path();
        let target = to.join(entry.file_name());
        if source.is_dir() {
            files += copy_tree(&source, &target)?;
        } else {
            std::fs::copy(&source, &target).map_err(io_failed(&source))?;
            files += 1;
        }
    }
    Ok(files)
}

fn remove_if_present(path: &Path) -> Result<(), LabError> {
    let removed = if path.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    };
    match removed {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(io_failed(path)(error)),
        _ => Ok(()),
    }
}

/// The database file and its two companions while open.
fn remove_database(data_dir: &Path) -> Result<(), LabError> {
    for suffix in ["", "-wal", "-shm"] {
        remove_if_present(&data_dir.join(format!("{DATABASE_FILE}{suffix}")))?;
    }
    Ok(())
}

impl Lab {
    /// Takes a backup of `server` labelled `label`: an online SQLite
    /// backup if it runs (a plain consistent copy if it is stopped), and
    /// a copy of its media directory beside it.
    pub async fn backup(&mut self, server: &str, label: &str) -> Result<Backup, LabError> {
        let data_dir = self.data_dir(server)?.to_owned();
        let count = self.backups.get(server).map_or(0, Vec::len);
        let dir = self
            .dir
            .path()
            .join("backups")
            .join(server)
            .join(format!("{count}-{label}"));
        std::fs::create_dir_all(&dir).map_err(io_failed(&dir))?;
        let database = dir.join(DATABASE_FILE);
        if self.is_running(server) {
            let store = self.store(server)?;
            let target = database.clone();
            tokio::task::spawn_blocking(move || store.backup_to(&target))
                .await
                .map_err(|e| LabError::Stopped {
                    server: server.to_owned(),
                    message: e.to_string(),
                })?
                .map_err(store_failed(server))?;
        } else {
            let original = data_dir.join(DATABASE_FILE);
            let report = SqliteStore::copy_database(&original, &database, None)
                .map_err(store_failed(server))?;
            if let Some(failure) = report.failure {
                return Err(LabError::Files {
                    path: database.display().to_string(),
                    message: failure,
                });
            }
        }
        copy_tree(&data_dir.join(MEDIA_DIR), &dir.join(MEDIA_DIR))?;
        let backup = Backup {
            label: label.to_owned(),
            taken_at_ms: self.clock.now_ms(),
            dir,
        };
        self.backups
            .entry(server.to_owned())
            .or_default()
            .push(backup.clone());
        Ok(backup)
    }

    /// The backups of `server`, oldest first.
    pub fn backups(&self, server: &str) -> &[Backup] {
        self.backups.get(server).map_or(&[], Vec::as_slice)
    }

    /// The upgrade's database copy: stops `server`, then copies its
    /// database into `upgrade/homeserver.db` in its data directory, capped
    /// by `quota`. A full disk is reported in the [`CopyReport`], not as an
    /// error: it is what happened. The server stays stopped, as it was
    /// during the upgrade.
    pub async fn migrate(&mut self, server: &str, quota: Quota) -> Result<CopyReport, LabError> {
        self.stop(server).await?;
        let data_dir = self.data_dir(server)?.to_owned();
        let original = data_dir.join(DATABASE_FILE);
        let upgrade = data_dir.join(UPGRADE_DIR);
        remove_if_present(&upgrade)?;
        std::fs::create_dir_all(&upgrade).map_err(io_failed(&upgrade))?;
        // As SQLite sees it: the file's size would depend on whether the
        // write-ahead log happened to be checkpointed when the server stopped.
        let size = SqliteStore::database_size(&original).map_err(store_failed(server))?;
        let max_bytes = match quota {
            Quota::Unlimited => None,
            Quota::Bytes(bytes) => Some(bytes),
            Quota::FractionOfDatabase(fraction) => Some((size as f64 * fraction) as u64),
        };
        let copy = upgrade.join(DATABASE_FILE);
        let server_name = server.to_owned();
        tokio::task::spawn_blocking(move || SqliteStore::copy_database(&original, &copy, max_bytes))
            .await
            .map_err(|e| LabError::Stopped {
                server: server_name,
                message: e.to_string(),
            })?
            .map_err(store_failed(server))
    }

    /// The upgrade guide's next step: delete the old database and put the
    /// copy in its place. With `verify`, the copy is checked first and the
    /// cleanup refuses if it is not sound, keeping the old database.
    pub async fn cleanup(
        &mut self,
        server: &str,
        verify: Option<Verifier<'_>>,
    ) -> Result<Cleanup, LabError> {
        self.stop(server).await?;
        let data_dir = self.data_dir(server)?.to_owned();
        let copy = data_dir.join(UPGRADE_DIR).join(DATABASE_FILE);
        let original = data_dir.join(DATABASE_FILE);
        if let Some(verify) = verify {
            let check = verify(&original, &copy).map_err(|message| LabError::Files {
                path: copy.display().to_string(),
                message,
            })?;
            if !check.is_sound() {
                remove_if_present(&data_dir.join(UPGRADE_DIR))?;
                return Ok(Cleanup::Refused(check));
            }
        }
        remove_database(&data_dir)?;
        if copy.exists() {
            std::fs::rename(&copy, &original).map_err(io_failed(&copy))?;
        }
        remove_if_present(&data_dir.join(UPGRADE_DIR))?;
        Ok(Cleanup::Replaced {
            verified: verify.is_some(),
        })
    }

    /// Stops `server` abruptly; see [`crate::node`].
    pub async fn crash(&mut self, server: &str) -> Result<(), LabError> {
        if let Some(network) = &self.network {
            network.sever(server);
        }
        self.node_mut(server)?.crash().await
    }

    /// Puts `backup` back as `server`'s database and media directory (both
    /// replaced: what was uploaded since is gone) and starts the server.
    pub async fn restore(&mut self, server: &str, backup: &Backup) -> Result<(), LabError> {
        self.stop(server).await?;
        let data_dir = self.data_dir(server)?.to_owned();
        SqliteStore::restore_database(&backup.dir.join(DATABASE_FILE), &data_dir)
            .map_err(store_failed(server))?;
        let media = data_dir.join(MEDIA_DIR);
        remove_if_present(&media)?;
        copy_tree(&backup.dir.join(MEDIA_DIR), &media)?;
        remove_if_present(&data_dir.join(UPGRADE_DIR))?;
        self.start_server(server).await
    }
}
