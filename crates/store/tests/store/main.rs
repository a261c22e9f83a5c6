//! The store, end to end through the [`Store`](lostfound_store::Store)
//! trait, as the server uses it. One test binary with a module per area,
//! so that SQLite is compiled and linked once.

mod accounts;
mod common;
mod concurrency;
mod durability;
mod events;
mod media;
mod membership;
mod migration;
mod outbox;
mod rooms;
mod timeline;
mod unusable;
