//! Uploaded files: metadata rows in the database, bytes in the media
//! directory at `media/<origin>/<media_id>`.
//!
//! Two stores for one thing can disagree, and the incident showed how:
//! after the restore, avatars in shared rooms still pointed at `mxc://`
//! URLs whose files were gone. The order of writes decides which
//! disagreement a crash can leave. We write the file first (durably, see
//! `files`) and the row second: a crash in between leaves an unreferenced
//! file, which is harmless, never a row promising bytes that do not exist.
//! A row whose file is missing anyway (lost, or restored from a database
//! backup without its media) is reported as [`StoreError::Io`], not hidden.
//!
//! Names come from the network (`/download/{serverName}/{mediaId}`), so
//! they are checked before they touch the file system: a media ID like
//! `../../homeserver.db` must never become a path.

use super::SqliteStore;
use super::errors::parse_stored;
use super::files::{self, io_error};
use crate::{Media, Result, StoreError};
use lostfound_protocol::ids::ServerName;
use rusqlite::OptionalExtension;
use std::io;
use std::path::{Path, PathBuf};

/// The longest media ID we accept: a file name must fit in 255 bytes.
const MAX_MEDIA_ID: usize = 255;

/// Where the bytes of `origin`'s `media_id` live, or why they cannot.
///
/// The media ID must be `[A-Za-z0-9_-]+`. The origin must be a server name
/// that is a safe directory name: the identifier grammar allows `..` (a
/// host of dots), so names starting with a dot are refused too.
pub(super) fn media_path(media_dir: &Path, origin: &ServerName, media_id: &str) -> Result<PathBuf> {
    let refuse = |reason: &str| StoreError::Io {
        path: format!("{}/{origin}/{media_id}", media_dir.display()),
        source: io::Error::new(io::ErrorKind::InvalidInput, reason.to_owned()),
    };
    let id_ok = !media_id.is_empty()
        && media_id.len() <= MAX_MEDIA_ID
        && media_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !id_ok {
        return Err(refuse(
            "a media ID must be 1 to 255 of A-Z, a-z, 0-9, '_' and '-'",
        ));
    }
    let origin_ok = !origin.as_str().starts_with('.')
        && !origin.as_str().contains(['/', '\\'])
        && origin.as_str().parse::<ServerName>().is_ok();
    if !origin_ok {
        return Err(refuse(
            "the origin is not a server name usable as a directory",
        ));
    }
    Ok(media_dir.join(origin.as_str()).join(media_id))
}

/// Stores the bytes, then the row. Replaces an earlier upload with the
/// same origin and ID (a re-fetched remote file).
pub(super) fn put_media(store: &SqliteStore, media: &Media, bytes: &[u8]) -> Result<()> {
    let path = media_path(&store.media_dir(), &media.origin, &media.media_id)?;
    let dir = path
        .parent()
        .ok_or_else(|| io_error(&path)(io::ErrorKind::InvalidInput.into()))?;
    files::create_dir_durably(dir)?;
    // Writing and syncing the bytes is the slow part: done before taking
    // the database lock, so other requests are not held up by an upload.
    let temporary = files::write_temporary(dir, &media.media_id, bytes)?;
    store.with_connection(|conn| {
        let existed = conn
            .query_row(
                "SELECT 1 FROM media WHERE origin = ?1 AND media_id = ?2",
                (media.origin.as_str(), &media.media_id),
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        files::rename_durably(&temporary, &path)?;
        let inserted = conn.execute(
            "INSERT INTO media (origin, media_id, content_type, filename, uploader, created_ts)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (origin, media_id) DO UPDATE SET content_type = excluded.content_type,
               filename = excluded.filename, uploader = excluded.uploader,
               created_ts = excluded.created_ts",
            (
                media.origin.as_str(),
                &media.media_id,
                &media.content_type,
                &media.filename,
                media.uploader.as_str(),
                media.created_ts,
            ),
        );
        if let Err(error) = inserted {
            // The row failed (a full disk, say): take back the new file
            // unless an older row still refers to that name.
            if !existed {
                let _ = std::fs::remove_file(&path);
            }
            return Err(error.into());
        }
        Ok(())
    })
}

/// The row, then the bytes. No row: `Ok(None)`. A row without its file:
/// `Io`, because the server promised bytes it no longer has.
pub(super) fn media(
    store: &SqliteStore,
    origin: &ServerName,
    media_id: &str,
) -> Result<Option<(Media, Vec<u8>)>> {
    let path = media_path(&store.media_dir(), origin, media_id)?;
    let row = store.with_connection(|conn| {
        Ok(conn
            .query_row(
                "SELECT content_type, filename, uploader, created_ts FROM media
                 WHERE origin = ?1 AND media_id = ?2",
                (origin.as_str(), media_id),
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, Option<String>>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, u64>(3)?,
                    ))
                },
            )
            .optional()?)
    })?;
    let Some((content_type, filename, uploader, created_ts)) = row else {
        return Ok(None);
    };
    let media = Media {
        origin: origin.clone(),
        media_id: media_id.to_owned(),
        content_type,
        filename,
        uploader: parse_stored(&uploader, "uploader")?,
        created_ts,
    };
    // Read outside the database lock; the rename in `put_media` makes the
    // file appear whole, so this sees the old bytes or the new, not a mix.
    let bytes = std::fs::read(&path).map_err(io_error(&path))?;
    Ok(Some((media, bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(origin: &str, media_id: &str) -> Result<PathBuf> {
        media_path(Path::new("/data/media"), &origin.parse().unwrap(), media_id)
    }

    #[test]
    fn safe_names_make_a_path_under_the_media_directory() {
        let path = path("tomesh.lab:8448", "AbC_12-x").unwrap();
        assert_eq!(path, Path::new("/data/media/tomesh.lab:8448/AbC_12-x"));
    }

    #[test]
    fn traversal_and_odd_names_are_refused() {
        for (origin, media_id) in [
            ("tomesh.lab", "../homeserver.db"),
            ("tomesh.lab", ".."),
            ("tomesh.lab", "a/b"),
            ("tomesh.lab", ""),
            ("tomesh.lab", "caf\u{e9}"),
            ("tomesh.lab", &"x".repeat(256)),
            ("..", "file"),
            (".", "file"),
            (".hidden", "file"),
        ] {
            let refused = path(origin, media_id);
            assert!(
                matches!(&refused, Err(StoreError::Io { source, .. }) if source.kind() == io::ErrorKind::InvalidInput),
                "{origin}/{media_id}: {refused:?}"
            );
        }
    }
}
