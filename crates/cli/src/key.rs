//! `lostfound key`: derive the public half of a server's signing key.

use anyhow::Result;
use clap::Subcommand;
use lostfound_protocol::signing::SigningKey;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Print the public key (unpadded base64) for a 32-byte ed25519 seed.
    ///
    /// Servers publish this at /_matrix/key/v2/server; peers use it to
    /// verify signatures. Pass it to `lostfound event inspect --key`.
    ///
    /// Example, with the seed from the spec's test vectors:
    ///
    ///   lostfound key public --seed YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1
    #[command(verbatim_doc_comment)]
    Public {
        /// The 32-byte seed, base64 (padded or not).
        #[arg(long)]
        seed: String,
    },
}

pub fn run(command: KeyCommand) -> Result<ExitCode> {
    match command {
        KeyCommand::Public { seed } => {
            // The name and key ID do not affect the key itself.
            let key =
                SigningKey::from_seed_base64("localhost".parse()?, "ed25519:1".parse()?, &seed)?;
            println!("{}", key.verify_key().to_base64());
            Ok(ExitCode::SUCCESS)
        }
    }
}
