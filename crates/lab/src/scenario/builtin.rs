//! The scenarios that ship inside the binary.

use super::{Scenario, ScenarioError, parse};

/// `(name, TOML text)` of every built-in scenario.
pub const BUILTIN: &[(&str, &str)] = &[(
    "hypha-2021",
    include_str!("../../scenarios/hypha-2021.toml"),
)];

/// The text of the built-in scenario `name`.
pub fn text(name: &str) -> Option<&'static str> {
    BUILTIN
        .iter()
        .find(|(known, _)| *known == name)
        .map(|(_, text)| *text)
}

/// The built-in scenario `name`, parsed.
pub fn load(name: &str) -> Option<Result<Scenario, ScenarioError>> {
    text(name).map(|text| parse(text, &format!("<builtin {name}>")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_builtin_parses_under_its_own_name() {
        for (name, _) in super::BUILTIN {
            let scenario = super::load(name).unwrap().unwrap();
            assert_eq!(scenario.name, *name);
        }
    }
}
