//! Merchant accounts and what a sign-up must satisfy.

use super::id::MerchantId;
use super::scope::Scope;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Who a merchant account is to Herald.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A merchant: sees only its own data.
    Merchant,
    /// An operator: also sees the admin pages across merchants.
    Admin,
}

impl Role {
    /// The stable string stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Merchant => "merchant",
            Role::Admin => "admin",
        }
    }

    /// Parses the stored string.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "merchant" => Some(Role::Merchant),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// A merchant account as the dashboard and the API show it (no password hash).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Merchant {
    pub id: MerchantId,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

impl Merchant {
    /// What this account sees on its own pages: its own data only (an
    /// operator's wider view is asked for explicitly, on the admin pages).
    pub fn own_scope(&self) -> Scope {
        Scope::Merchant(self.id.clone())
    }

    /// Whether this account may use the admin pages.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// Who may create an account (`HERALD_SIGNUP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignUpMode {
    /// Anyone may sign up at `/signup` (the default, so a first run on a
    /// laptop needs nothing else).
    #[default]
    Open,
    /// Accounts come from the platform only (admin API, CLI, login links).
    Closed,
}

impl SignUpMode {
    /// `open` or `closed`.
    pub fn parse(s: &str) -> Option<SignUpMode> {
        match s {
            "open" => Some(SignUpMode::Open),
            "closed" => Some(SignUpMode::Closed),
            _ => None,
        }
    }
}

/// Passwords shorter than this are refused: long enough to resist guessing
/// even with the login throttle, short enough not to push people to reuse.
pub const MIN_PASSWORD_LEN: usize = 10;
/// Upper bound so a huge password cannot make argon2 a denial of service.
pub const MAX_PASSWORD_LEN: usize = 256;
const MAX_NAME_LEN: usize = 100;
const MAX_EMAIL_LEN: usize = 254;

/// A field that failed validation, with a message a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    /// Builds a field error.
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// A sign-up or account creation request, validated before anything is stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewAccount {
    pub name: String,
    pub email: String,
    pub password: String,
}

impl NewAccount {
    /// Trims the name, lower-cases the email, and checks every field.
    pub fn normalized(self) -> Result<NewAccount, FieldError> {
        let name = validate_name(&self.name)?;
        let email = normalize_email(&self.email)?;
        validate_password(&self.password)?;
        Ok(NewAccount {
            name,
            email,
            password: self.password,
        })
    }
}

/// Checks a merchant's display name.
pub fn validate_name(name: &str) -> Result<String, FieldError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(FieldError::new(
            "name",
            "Enter your company or account name.",
        ));
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(FieldError::new(
            "name",
            format!("Use at most {MAX_NAME_LEN} characters."),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(FieldError::new(
            "name",
            "Control characters are not allowed.",
        ));
    }
    Ok(name.to_owned())
}

/// Lower-cases and checks an email address; emails are unique case-insensitively.
pub fn normalize_email(email: &str) -> Result<String, FieldError> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= MAX_EMAIL_LEN
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
            }
            None => false,
        };
    if valid {
        Ok(email)
    } else {
        Err(FieldError::new(
            "email",
            "Enter a valid email address, like dev@example.com.",
        ))
    }
}

/// Checks a new password's length.
pub fn validate_password(password: &str) -> Result<(), FieldError> {
    let len = password.chars().count();
    if len < MIN_PASSWORD_LEN {
        return Err(FieldError::new(
            "password",
            format!("Use at least {MIN_PASSWORD_LEN} characters."),
        ));
    }
    if len > MAX_PASSWORD_LEN {
        return Err(FieldError::new(
            "password",
            format!("Use at most {MAX_PASSWORD_LEN} characters."),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(name: &str, email: &str, password: &str) -> NewAccount {
        NewAccount {
            name: name.into(),
            email: email.into(),
            password: password.into(),
        }
    }

    #[test]
    fn normalizes_a_good_account() {
        let a = account("  Acme Pay ", " Dev@Acme.Example ", "correct horse")
            .normalized()
            .unwrap();
        assert_eq!(a.name, "Acme Pay");
        assert_eq!(a.email, "dev@acme.example");
    }

    #[test]
    fn refuses_each_bad_field_by_name() {
        let cases = [
            (account("", "a@b.co", "long enough pw"), "name"),
            (account("Acme", "not-an-email", "long enough pw"), "email"),
            (account("Acme", "a@b", "long enough pw"), "email"),
            (account("Acme", "a b@c.co", "long enough pw"), "email"),
            (account("Acme", "a@b.co", ""), "password"),
            (account("Acme", "a@b.co", "short"), "password"),
        ];
        for (input, field) in cases {
            let err = input.clone().normalized().unwrap_err();
            assert_eq!(err.field, field, "{input:?}");
        }
    }
}
