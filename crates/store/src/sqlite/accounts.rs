//! Accounts, devices with their access tokens, and profiles.
//!
//! These rows never leave their server: no peer holds a copy of an account
//! or a password hash. That is why, in the incident, every account made
//! after the backup was lost, and every password changed after it went
//! back to its January value.

use super::errors::{is_foreign_key_violation, is_unique_violation, parse_stored};
use crate::{Account, Device, Profile, Result, StoreError};
use lostfound_protocol::ids::UserId;
use rusqlite::{Connection, OptionalExtension, Row};

pub(super) fn create_account(conn: &Connection, account: &Account) -> Result<()> {
    conn.execute(
        "INSERT INTO accounts (user_id, password_hash, created_ts) VALUES (?1, ?2, ?3)",
        (
            account.user_id.as_str(),
            &account.password_hash,
            account.created_ts,
        ),
    )
    .map_err(|e| match e {
        e if is_unique_violation(&e) => StoreError::UserInUse(account.user_id.clone()),
        e => e.into(),
    })?;
    Ok(())
}

pub(super) fn account(conn: &Connection, user_id: &UserId) -> Result<Option<Account>> {
    let row = conn
        .query_row(
            "SELECT password_hash, created_ts FROM accounts WHERE user_id = ?1",
            [user_id.as_str()],
            |row| Ok((row.get::<_, String>(0)?, row.get::<_, u64>(1)?)),
        )
        .optional()?;
    Ok(row.map(|(password_hash, created_ts)| Account {
        user_id: user_id.clone(),
        password_hash,
        created_ts,
    }))
}

pub(super) fn set_password_hash(conn: &Connection, user_id: &UserId, hash: &str) -> Result<()> {
    let changed = conn.execute(
        "UPDATE accounts SET password_hash = ?2 WHERE user_id = ?1",
        (user_id.as_str(), hash),
    )?;
    if changed == 0 {
        return Err(no_account(user_id));
    }
    Ok(())
}

fn no_account(user_id: &UserId) -> StoreError {
    StoreError::NotFound(format!("account {user_id}"))
}

/// Maps "this row refers to an account that does not exist" to `NotFound`.
fn needs_account(user_id: &UserId) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |e| {
        if is_foreign_key_violation(&e) {
            no_account(user_id)
        } else {
            e.into()
        }
    }
}

pub(super) fn upsert_device(conn: &Connection, device: &Device) -> Result<()> {
    // One statement, not "delete then insert": the device keeps its row and
    // only its token and name change, atomically.
    conn.execute(
        "INSERT INTO devices (user_id, device_id, access_token, display_name)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (user_id, device_id) DO UPDATE
         SET access_token = excluded.access_token, display_name = excluded.display_name",
        (
            device.user_id.as_str(),
            &device.device_id,
            &device.access_token,
            &device.display_name,
        ),
    )
    .map_err(needs_account(&device.user_id))?;
    Ok(())
}

pub(super) fn device_by_token(conn: &Connection, access_token: &str) -> Result<Option<Device>> {
    let row = conn
        .query_row(
            "SELECT user_id, device_id, display_name FROM devices WHERE access_token = ?1",
            [access_token],
            device_row,
        )
        .optional()?;
    let Some((user_id, device_id, display_name)) = row else {
        return Ok(None);
    };
    Ok(Some(Device {
        user_id: parse_stored(&user_id, "user ID")?,
        device_id,
        access_token: access_token.to_owned(),
        display_name,
    }))
}

fn device_row(row: &Row<'_>) -> rusqlite::Result<(String, String, Option<String>)> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
}

/// Deleting a device that is not there succeeds: logging out twice is not
/// an error, and a retried request must not fail the second time.
pub(super) fn delete_device(conn: &Connection, user_id: &UserId, device_id: &str) -> Result<()> {
    conn.execute(
        "DELETE FROM devices WHERE user_id = ?1 AND device_id = ?2",
        (user_id.as_str(), device_id),
    )?;
    Ok(())
}

pub(super) fn delete_devices_except(
    conn: &Connection,
    user_id: &UserId,
    keep: Option<&str>,
) -> Result<()> {
    conn.execute(
        "DELETE FROM devices WHERE user_id = ?1 AND (?2 IS NULL OR device_id <> ?2)",
        (user_id.as_str(), keep),
    )?;
    Ok(())
}

pub(super) fn profile(conn: &Connection, user_id: &UserId) -> Result<Profile> {
    let profile = conn
        .query_row(
            "SELECT displayname, avatar_url FROM profiles WHERE user_id = ?1",
            [user_id.as_str()],
            |row| {
                Ok(Profile {
                    displayname: row.get(0)?,
                    avatar_url: row.get(1)?,
                })
            },
        )
        .optional()?;
    Ok(profile.unwrap_or_default())
}

pub(super) fn set_profile(conn: &Connection, user_id: &UserId, profile: &Profile) -> Result<()> {
    conn.execute(
        "INSERT INTO profiles (user_id, displayname, avatar_url) VALUES (?1, ?2, ?3)
         ON CONFLICT (user_id) DO UPDATE
         SET displayname = excluded.displayname, avatar_url = excluded.avatar_url",
        (user_id.as_str(), &profile.displayname, &profile.avatar_url),
    )
    .map_err(needs_account(user_id))?;
    Ok(())
}
