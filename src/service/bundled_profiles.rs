//! The delivery profiles Herald ships with, present from the first start:
//! `standard` (Herald's own format) and one per seed in `shared/seeds/`
//! (`event-envelope` 000, `x-signature` 001, `payvost` 002, `paywize` 003,
//! `paysecure` 004), as data in `bundled_profiles.json`. Each profile's
//! description names the seed file it was read from.

use super::ServiceError;
use herald_app::model::profile::DeliveryProfile;

const BUNDLED: &str = include_str!("bundled_profiles.json");

/// The bundled profiles, each checked as an operator's would be.
pub fn bundled_profiles() -> Result<Vec<DeliveryProfile>, ServiceError> {
    let profiles: Vec<DeliveryProfile> = serde_json::from_str(BUNDLED)
        .map_err(|e| ServiceError::Internal(format!("bundled_profiles.json: {e}")))?;
    for profile in &profiles {
        profile.validate().map_err(|e| {
            ServiceError::Internal(format!("bundled_profiles.json, {}: {e}", profile.name))
        })?;
    }
    Ok(profiles)
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_app::model::profile::STANDARD_PROFILE;

    #[test]
    fn the_six_bundled_profiles_parse_and_validate() {
        let profiles = bundled_profiles().unwrap_or_else(|e| panic!("{e}"));
        let names: Vec<&str> = profiles.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                STANDARD_PROFILE,
                "event-envelope",
                "x-signature",
                "payvost",
                "paywize",
                "paysecure"
            ]
        );
        for profile in &profiles {
            if profile.name != STANDARD_PROFILE {
                assert!(
                    profile.description.contains("Seed 00"),
                    "{} names its seed",
                    profile.name
                );
            }
        }
    }
}
