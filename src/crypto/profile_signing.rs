//! The one signer behind every delivery profile: a profile's signature specs
//! (header, prefix, algorithm, encoding, what is signed) applied to an
//! endpoint's keys. No provider is special-cased; `standard` is the specs
//! that give Herald's Standard Webhooks header.

use super::rsa_key::{RsaSignError, RsaSigningKey};
use super::signing::{signed_content, Ed25519Key, SigningKey, SigningSecret};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use herald_app::model::profile::{SignatureAlgorithm, SignatureEncoding, SignatureSpec, Signed};

/// One of an endpoint's keys, as the signer sees it. Keys come current
/// first; the others are rotated-out keys still in their grace period.
#[derive(Debug, Clone, Copy)]
pub enum ProfileKey<'a> {
    Hmac(&'a SigningSecret),
    Ed25519(&'a Ed25519Key),
    Rsa(&'a RsaSigningKey),
}

impl<'a> From<&'a SigningKey> for ProfileKey<'a> {
    fn from(key: &'a SigningKey) -> Self {
        match key {
            SigningKey::Hmac(secret) => ProfileKey::Hmac(secret),
            SigningKey::Ed25519(key) => ProfileKey::Ed25519(key),
        }
    }
}

impl ProfileKey<'_> {
    /// The algorithm this key signs with.
    pub fn algorithm(&self) -> SignatureAlgorithm {
        match self {
            ProfileKey::Hmac(_) => SignatureAlgorithm::HmacSha256,
            ProfileKey::Ed25519(_) => SignatureAlgorithm::Ed25519,
            ProfileKey::Rsa(_) => SignatureAlgorithm::RsaSha256,
        }
    }
}

/// What a signature may cover, for one attempt.
#[derive(Debug, Clone, Copy)]
pub struct SignedParts<'a> {
    /// The message id (the `{id}` of the Standard Webhooks string).
    pub message_id: &'a str,
    /// The attempt's unix time in seconds.
    pub timestamp: i64,
    /// The body exactly as sent.
    pub body: &'a [u8],
    /// Herald's type name: chooses the data-field rule.
    pub event_type: &'a str,
    /// The event's `data`, JSON as the platform sent it.
    pub data: &'a str,
}

/// Why a delivery cannot be signed as its profile says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// The endpoint holds no key for any signature in this header.
    #[error("no key of the endpoint signs `{header}` (it needs {needs})")]
    NoKey { header: String, needs: String },
    /// No data-field rule covers the event's type.
    #[error("`{header}` signs fields of data, but no rule covers type `{event_type}`")]
    NoFieldRule { header: String, event_type: String },
    /// A signed field is missing from `data`, or null.
    #[error("`{header}` signs data field `{path}`, which the event does not have")]
    MissingField { header: String, path: String },
    /// A signed field is an object or an array.
    #[error("`{header}` signs data field `{path}`, which is not a string, number or boolean")]
    NotScalar { header: String, path: String },
    /// `data` is not JSON (cannot happen for an ingested event).
    #[error("the event's data is not JSON")]
    DataNotJson,
    /// ring failed to sign.
    #[error(transparent)]
    Rsa(#[from] RsaSignError),
}

/// The signature headers, in the order the specs first name them. Specs
/// naming the same header share it, space-separated: for each key, current
/// first, each spec of the key's algorithm signs (a spec without
/// `every_key` only with the current key). A header no key can sign is an
/// error, never sent empty.
pub fn signature_headers(
    specs: &[SignatureSpec],
    keys: &[ProfileKey<'_>],
    parts: &SignedParts<'_>,
) -> Result<Vec<(String, String)>, SignError> {
    let mut data: Option<serde_json::Value> = None;
    let mut out: Vec<(String, String)> = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let first = specs[..i]
            .iter()
            .all(|earlier| !earlier.header.eq_ignore_ascii_case(&spec.header));
        if !first {
            continue;
        }
        let sharing: Vec<&SignatureSpec> = specs
            .iter()
            .filter(|other| other.header.eq_ignore_ascii_case(&spec.header))
            .collect();
        let mut values: Vec<String> = Vec::new();
        for (k, key) in keys.iter().enumerate() {
            for other in &sharing {
                if other.algorithm == key.algorithm() && (k == 0 || other.every_key) {
                    values.push(sign_one(other, *key, parts, &mut data)?);
                }
            }
        }
        if values.is_empty() {
            let mut needs: Vec<&str> = sharing.iter().map(|s| s.algorithm.as_str()).collect();
            needs.dedup();
            return Err(SignError::NoKey {
                header: spec.header.clone(),
                needs: needs.join(" or "),
            });
        }
        out.push((spec.header.clone(), values.join(" ")));
    }
    Ok(out)
}

/// `prefix` + the encoded signature of what `spec` covers.
fn sign_one(
    spec: &SignatureSpec,
    key: ProfileKey<'_>,
    parts: &SignedParts<'_>,
    data: &mut Option<serde_json::Value>,
) -> Result<String, SignError> {
    let message = match &spec.signed {
        Signed::Body => parts.body.to_vec(),
        Signed::Standard => signed_content(parts.message_id, parts.timestamp, parts.body),
        Signed::DataFields { separator, .. } => {
            let fields =
                spec.signed
                    .fields_for(parts.event_type)
                    .ok_or_else(|| SignError::NoFieldRule {
                        header: spec.header.clone(),
                        event_type: parts.event_type.to_owned(),
                    })?;
            if data.is_none() {
                *data = Some(serde_json::from_str(parts.data).map_err(|_| SignError::DataNotJson)?);
            }
            let value = data.as_ref().ok_or(SignError::DataNotJson)?;
            joined_fields(&spec.header, value, fields, separator)?.into_bytes()
        }
    };
    let raw = match key {
        ProfileKey::Hmac(secret) => secret.hmac_sha256(spec.hmac_key, &message),
        ProfileKey::Ed25519(key) => key.sign_message(&message),
        ProfileKey::Rsa(key) => key.sign(&message)?,
    };
    let encoded = match spec.encoding {
        SignatureEncoding::Hex => raw.iter().map(|b| format!("{b:02x}")).collect(),
        SignatureEncoding::Base64 => STANDARD.encode(&raw),
    };
    Ok(format!("{}{encoded}", spec.prefix))
}

/// The values at `paths` in `data`, joined: strings as they are, numbers
/// and booleans as JSON writes them (what a receiver's `a + "|" + b` gives).
pub fn joined_fields(
    header: &str,
    data: &serde_json::Value,
    paths: &[String],
    separator: &str,
) -> Result<String, SignError> {
    let mut parts: Vec<String> = Vec::with_capacity(paths.len());
    for path in paths {
        let found = path
            .split('.')
            .try_fold(data, |value, step| value.get(step));
        let text = match found {
            None | Some(serde_json::Value::Null) => {
                return Err(SignError::MissingField {
                    header: header.to_owned(),
                    path: path.clone(),
                })
            }
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Number(n)) => n.to_string(),
            Some(serde_json::Value::Bool(b)) => b.to_string(),
            Some(_) => {
                return Err(SignError::NotScalar {
                    header: header.to_owned(),
                    path: path.clone(),
                })
            }
        };
        parts.push(text);
    }
    Ok(parts.join(separator))
}
