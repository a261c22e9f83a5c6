//! The plan of a new room: which state events it starts with, in which
//! order, with which content. Pure: no store, no clock, no keys, so the
//! plan for a request can be read (and tested) on its own.
//!
//! | preset | join rule | history | guest access | invite level | invitees |
//! |---|---|---|---|---|---|
//! | `public_chat` | public | shared | (no event: forbidden) | 50 | members |
//! | `private_chat` | invite | shared | can_join | 0 | members |
//! | `trusted_private_chat` | invite | shared | can_join | 0 | admins (100) |
//!
//! Synapse's default power levels are used, so that rooms look the same
//! as on the servers of 2021.

use super::{CreateRoom, ROOM_VERSION, RoomError};
use lostfound_protocol::JsonObject;
use lostfound_protocol::ids::RoomAlias;
use lostfound_store::Profile;
use serde_json::{Value, json};

/// A state event of the plan: `(type, state_key, content)`.
pub type Planned = (String, String, JsonObject);

/// A bundle of initial settings (`preset` in the request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    PublicChat,
    PrivateChat,
    /// Like `private_chat`, but invitees get the creator's power level: for
    /// direct messages between people who trust each other.
    TrustedPrivateChat,
}

impl Preset {
    /// The spec's name for the preset.
    pub fn parse(name: &str) -> Result<Self, RoomError> {
        match name {
            "public_chat" => Ok(Self::PublicChat),
            "private_chat" => Ok(Self::PrivateChat),
            "trusted_private_chat" => Ok(Self::TrustedPrivateChat),
            other => Err(RoomError::InvalidParam(format!(
                "{other:?} is not a preset; use public_chat, private_chat or trusted_private_chat"
            ))),
        }
    }

    fn join_rule(self) -> &'static str {
        match self {
            Self::PublicChat => "public",
            Self::PrivateChat | Self::TrustedPrivateChat => "invite",
        }
    }

    fn invite_level(self) -> i64 {
        match self {
            Self::PublicChat => 50,
            Self::PrivateChat | Self::TrustedPrivateChat => 0,
        }
    }
}

impl CreateRoom {
    /// The room's first events, in the spec's order (see the module docs).
    pub fn plan(&self, alias: Option<&RoomAlias>, creator_profile: &Profile) -> Vec<Planned> {
        let creator = self.creator.as_str();
        let mut plan: Vec<Planned> = Vec::new();
        let mut push = |event_type: &str, state_key: &str, content: Value| {
            let Value::Object(content) = content else {
                unreachable!("every planned content is a JSON object")
            };
            plan.push((event_type.to_owned(), state_key.to_owned(), content));
        };

        let mut create = self.creation_content.clone();
        create.insert("creator".to_owned(), json!(creator));
        create.insert("room_version".to_owned(), json!(ROOM_VERSION));
        push("m.room.create", "", Value::Object(create));

        let mut join = json!({"membership": "join"});
        if let Some(name) = &creator_profile.displayname {
            join["displayname"] = json!(name);
        }
        if let Some(url) = &creator_profile.avatar_url {
            join["avatar_url"] = json!(url);
        }
        push("m.room.member", creator, join);

        // A power levels event in initial_state replaces ours (as in Synapse).
        let given_levels = self.initial_state_for("m.room.power_levels");
        let levels = given_levels.cloned().unwrap_or_else(|| self.power_levels());
        push("m.room.power_levels", "", Value::Object(levels));

        if let Some(alias) = alias
            && self.initial_state_for("m.room.canonical_alias").is_none()
        {
            push("m.room.canonical_alias", "", json!({"alias": alias}));
        }
        let mut preset_state = vec![
            (
                "m.room.join_rules",
                json!({"join_rule": self.preset.join_rule()}),
            ),
            (
                "m.room.history_visibility",
                json!({"history_visibility": "shared"}),
            ),
        ];
        if self.preset != Preset::PublicChat {
            preset_state.push(("m.room.guest_access", json!({"guest_access": "can_join"})));
        }
        for (event_type, content) in preset_state {
            if self.initial_state_for(event_type).is_none() {
                push(event_type, "", content);
            }
        }
        for entry in &self.initial_state {
            if (entry.event_type.as_str(), entry.state_key.as_str()) != ("m.room.power_levels", "")
            {
                push(
                    &entry.event_type,
                    &entry.state_key,
                    Value::Object(entry.content.clone()),
                );
            }
        }
        if let Some(name) = &self.name {
            push("m.room.name", "", json!({"name": name}));
        }
        if let Some(topic) = &self.topic {
            push("m.room.topic", "", json!({"topic": topic}));
        }
        for invitee in &self.invite {
            let mut invite = json!({"membership": "invite"});
            if self.is_direct {
                invite["is_direct"] = json!(true);
            }
            push("m.room.member", invitee.as_str(), invite);
        }
        plan
    }

    /// The content of an `initial_state` event for `(event_type, "")`.
    fn initial_state_for(&self, event_type: &str) -> Option<&JsonObject> {
        self.initial_state
            .iter()
            .rev()
            .find(|entry| entry.event_type == event_type && entry.state_key.is_empty())
            .map(|entry| &entry.content)
    }

    /// Synapse's default power levels for a new room, with the preset's
    /// invite level and the client's overrides applied.
    fn power_levels(&self) -> JsonObject {
        let mut users = JsonObject::new();
        users.insert(self.creator.to_string(), json!(100));
        if self.preset == Preset::TrustedPrivateChat {
            for invitee in &self.invite {
                users.insert(invitee.to_string(), json!(100));
            }
        }
        let levels = json!({
            "users": users,
            "users_default": 0,
            "events": {
                "m.room.name": 50,
                "m.room.power_levels": 100,
                "m.room.history_visibility": 100,
                "m.room.canonical_alias": 50,
                "m.room.avatar": 50,
                "m.room.tombstone": 100,
                "m.room.server_acl": 100,
                "m.room.encryption": 100,
            },
            "events_default": 0,
            "state_default": 50,
            "ban": 50,
            "kick": 50,
            "redact": 50,
            "invite": self.preset.invite_level(),
        });
        let Value::Object(mut levels) = levels else {
            unreachable!("json! of an object")
        };
        for (key, value) in &self.power_level_content_override {
            levels.insert(key.clone(), value.clone());
        }
        levels
    }
}

#[cfg(test)]
mod tests {
    use super::{CreateRoom, Preset};
    use crate::rooms::create_room::InitialState;
    use lostfound_protocol::JsonObject;
    use lostfound_store::Profile;
    use serde_json::json;

    fn object(value: serde_json::Value) -> JsonObject {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn initial_state_replaces_what_the_preset_would_send() {
        let request = CreateRoom {
            creator: "@alice:hypha.lab".parse().expect("a user ID"),
            preset: Preset::PrivateChat,
            room_version: None,
            alias_localpart: None,
            name: Some("Named last".to_owned()),
            topic: None,
            invite: Vec::new(),
            is_direct: false,
            creation_content: object(json!({"m.federate": false})),
            initial_state: vec![
                InitialState {
                    event_type: "m.room.join_rules".to_owned(),
                    state_key: String::new(),
                    content: object(json!({"join_rule": "public"})),
                },
                InitialState {
                    event_type: "m.room.power_levels".to_owned(),
                    state_key: String::new(),
                    content: object(json!({"users": {"@alice:hypha.lab": 100}})),
                },
            ],
            power_level_content_override: object(json!({"invite": 100})),
        };
        let profile = Profile {
            displayname: Some("Alice".to_owned()),
            avatar_url: None,
        };
        let plan = request.plan(None, &profile);
        let types: Vec<&str> = plan
            .iter()
            .map(|(event_type, _, _)| event_type.as_str())
            .collect();
        assert_eq!(
            types,
            [
                "m.room.create",
                "m.room.member",
                "m.room.power_levels",
                "m.room.history_visibility",
                "m.room.guest_access",
                "m.room.join_rules",
                "m.room.name",
            ]
        );
        assert_eq!(plan[0].2["m.federate"], false);
        assert_eq!(plan[0].2["creator"], "@alice:hypha.lab");
        assert_eq!(
            plan[1].2["displayname"], "Alice",
            "the creator's profile goes into their join"
        );
        // The given power levels are used as they are: no override, no defaults.
        assert_eq!(
            plan[2].2,
            object(json!({"users": {"@alice:hypha.lab": 100}}))
        );
        assert_eq!(plan[5].2["join_rule"], "public");
    }
}
