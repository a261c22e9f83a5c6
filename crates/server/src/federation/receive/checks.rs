//! Steps 1–3 of the checks on receipt: is this a PDU, did its sender's
//! server sign it, and is its content the content that was signed?
//!
//! These checks need nothing but the event and the signer's keys, so they
//! run on every event a peer hands us, whether pushed in a transaction or
//! pulled with `get_missing_events`, `state_ids` or `/event`: an answer
//! from a peer is exactly as untrusted as a push.

use super::ReceiveError;
use crate::federation::Peers;
use lostfound_protocol::pdu::Pdu;
use serde_json::Value;

/// An event that passed steps 1–3.
#[derive(Debug, Clone)]
pub(crate) struct Checked {
    pub pdu: Pdu,
    /// True when the content hash did not match and `pdu` is the redacted
    /// form of what we were sent.
    pub redacted: bool,
}

/// Format, signatures, content hash.
pub(crate) async fn check_pdu<P: Peers>(peers: &P, raw: Value) -> Result<Checked, ReceiveError> {
    // Step 1: canonical JSON, the size limit, the fields of a v10 event,
    // and its event ID, recomputed from its reference hash.
    let pdu = Pdu::from_json(raw)?;
    // Step 2: the signature covers the redacted event, so it proves who
    // sent the event's skeleton (type, sender, parents, auth events) even
    // if the content was changed in transit.
    peers
        .verify_event_signatures(&pdu)
        .await
        .map_err(ReceiveError::Signature)?;
    // Step 3: the content hash covers the rest. A mismatch means someone
    // altered the body after signing; the spec keeps the part that the
    // signature vouches for, the redacted event, and goes on with it.
    if pdu.content_hash_check().matches() {
        Ok(Checked {
            pdu,
            redacted: false,
        })
    } else {
        Ok(Checked {
            pdu: pdu.redacted(),
            redacted: true,
        })
    }
}
