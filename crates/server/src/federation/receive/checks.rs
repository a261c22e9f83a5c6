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

/// The most `prev_events` a PDU from a peer may name: Synapse's limit
/// (`_sanity_check_event`), which every mainstream server stays under
/// (Synapse itself never writes more than 10).
///
/// The spec caps neither list, but each parent is work for us: a store
/// lookup, perhaps a gap to fill, and a state set to resolve. An event
/// with thousands of parents would make one PDU cost thousands of those.
pub const MAX_PREV_EVENTS: usize = 20;

/// The most `auth_events` a PDU from a peer may name: Synapse's limit
/// again. A room v10 event needs at most five (create, power levels,
/// join rules, the sender's and the target's membership, plus a third
/// party invite or an authorising user), so ten leaves room and still
/// stops an event from making us fetch and check a long list.
pub const MAX_AUTH_EVENTS: usize = 10;

/// An event that passed steps 1–3.
#[derive(Debug, Clone)]
pub(crate) struct Checked {
    pub pdu: Pdu,
    /// True when the content hash did not match and `pdu` is the redacted
    /// form of what we were sent.
    pub redacted: bool,
}

/// The bound on the lists an event names (see [`MAX_PREV_EVENTS`] and
/// [`MAX_AUTH_EVENTS`]), checked before we look anything up for it: the
/// point is to refuse the work, so it must come before the work.
pub(crate) fn check_reference_counts(pdu: &Pdu) -> Result<(), ReceiveError> {
    for (field, count, limit) in [
        ("prev_events", pdu.prev_events().len(), MAX_PREV_EVENTS),
        ("auth_events", pdu.auth_events().len(), MAX_AUTH_EVENTS),
    ] {
        if count > limit {
            return Err(ReceiveError::TooManyReferences {
                field,
                count,
                limit,
            });
        }
    }
    Ok(())
}

/// Format, signatures, content hash.
pub(crate) async fn check_pdu<P: Peers>(peers: &P, raw: Value) -> Result<Checked, ReceiveError> {
    // Step 1: canonical JSON, the size limit, the fields of a v10 event,
    // and its event ID, recomputed from its reference hash.
    let pdu = Pdu::from_json(raw)?;
    check_signed(peers, pdu).await
}

/// Steps 2 and 3 on an event already parsed (step 1), for a caller that
/// wants to look at the event (its room, say) before asking for keys.
pub(crate) async fn check_signed<P: Peers>(peers: &P, pdu: Pdu) -> Result<Checked, ReceiveError> {
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
